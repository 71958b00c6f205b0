/* base64.c - RFC 4648 base64 encoding (see base64.h). */
#include "core/base64.h"

#include <errno.h>
#include <stdint.h>

#include "core/banned.h"

static const char b64_alphabet[] =
	"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

size_t
base64_encoded_len(size_t n)
{
	return (n + 2) / 3 * 4;
}

/* Four characters for the group of n (1..3) bytes at p. */
static void
base64_group(const unsigned char *p, size_t n, char out[4])
{
	uint32_t v = (uint32_t)p[0] << 16;

	if (n > 1)
		v |= (uint32_t)p[1] << 8;
	if (n > 2)
		v |= p[2];
	out[0] = b64_alphabet[(v >> 18) & 63];
	out[1] = b64_alphabet[(v >> 12) & 63];
	out[2] = n > 1 ? b64_alphabet[(v >> 6) & 63] : '=';
	out[3] = n > 2 ? b64_alphabet[v & 63] : '=';
}

void
base64_encode(const void *p, size_t n, char *out)
{
	const unsigned char *s = p;
	size_t o = 0;

	for (size_t i = 0; i < n; i += 3) {
		base64_group(s + i, n - i < 3 ? n - i : 3, out + o);
		o += 4;
	}
	out[o] = '\0';
}

int
base64_append(struct buf *b, const void *p, size_t n, size_t line_max)
{
	const unsigned char *s = p;
	size_t start = b->len, col = 0;
	char group[4];
	int r = 0;

	for (size_t i = 0; i < n && r == 0; i += 3) {
		base64_group(s + i, n - i < 3 ? n - i : 3, group);
		r = buf_append(b, group, 4);
		col += 4;
		if (r == 0 && line_max > 0 && col >= line_max) {
			r = buf_append(b, "\r\n", 2);
			col = 0;
		}
	}
	if (r == 0 && line_max > 0 && col > 0)
		r = buf_append(b, "\r\n", 2);
	if (r < 0) {
		b->len = start;
		b->data[start] = '\0';
		return -E2BIG;
	}
	return 0;
}
