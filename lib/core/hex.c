/* hex.c - hexadecimal text (see hex.h). */
#include "core/hex.h"

#include <errno.h>

#include "core/banned.h"

static const char hexdig[] = "0123456789abcdef";

int
hex_digit(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

void
hex_encode(const void *p, size_t n, char *out)
{
	const unsigned char *b = p;

	for (size_t i = 0; i < n; i++) {
		out[2 * i] = hexdig[b[i] >> 4];
		out[2 * i + 1] = hexdig[b[i] & 15];
	}
	out[2 * n] = '\0';
}

int
hex_append(struct buf *b, const void *p, size_t n)
{
	const unsigned char *s = p;
	char pair[2];
	int r = 0;

	for (size_t i = 0; i < n && r == 0; i++) {
		pair[0] = hexdig[s[i] >> 4];
		pair[1] = hexdig[s[i] & 15];
		r = buf_append(b, pair, 2);
	}
	return r;
}

int
hex_decode(const char *s, size_t n, uint8_t *out)
{
	for (size_t i = 0; i < n; i++) {
		int hi = hex_digit(s[2 * i]), lo;

		if (hi < 0)
			return -EINVAL;
		lo = hex_digit(s[2 * i + 1]);
		if (lo < 0)
			return -EINVAL;
		out[i] = (uint8_t)(hi << 4 | lo);
	}
	return 0;
}
