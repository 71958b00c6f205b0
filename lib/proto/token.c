/* token.c - enrollment token text form (see token.h). */
#include "proto/token.h"

#include <errno.h>
#include <string.h>

#include "core/banned.h"

static const char hexdig[] = "0123456789abcdef";

static void
hex_put(const uint8_t *p, size_t n, char *out)
{
	for (size_t i = 0; i < n; i++) {
		out[2 * i] = hexdig[p[i] >> 4];
		out[2 * i + 1] = hexdig[p[i] & 15];
	}
}

static int
hex_val(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

static int
hex_get(const char *s, size_t n, uint8_t *out)
{
	for (size_t i = 0; i < n; i++) {
		int hi = hex_val(s[2 * i]), lo = hex_val(s[2 * i + 1]);

		if (hi < 0 || lo < 0)
			return -EINVAL;
		out[i] = (uint8_t)(hi << 4 | lo);
	}
	return 0;
}

void
token_format(const uint8_t fp[TOKEN_FP_LEN], const uint8_t secret[TOKEN_SECRET_LEN],
	char out[TOKEN_STR_LEN + 1])
{
	memcpy(out, "yj1-", 4);
	hex_put(fp, TOKEN_FP_LEN, out + 4);
	out[4 + 2 * TOKEN_FP_LEN] = '-';
	hex_put(secret, TOKEN_SECRET_LEN, out + 5 + 2 * TOKEN_FP_LEN);
	out[TOKEN_STR_LEN] = '\0';
}

int
token_parse(const char *s, uint8_t fp[TOKEN_FP_LEN], uint8_t secret[TOKEN_SECRET_LEN])
{
	uint8_t f[TOKEN_FP_LEN], sec[TOKEN_SECRET_LEN];
	size_t len;

	while (*s == ' ' || *s == '\t' || *s == '\n' || *s == '\r')
		s++;
	len = strlen(s);
	while (len > 0 && (s[len - 1] == ' ' || s[len - 1] == '\t' || s[len - 1] == '\n' ||
		s[len - 1] == '\r'))
		len--;
	if (len != TOKEN_STR_LEN || memcmp(s, "yj1-", 4) != 0 || s[4 + 2 * TOKEN_FP_LEN] != '-')
		return -EINVAL;
	if (hex_get(s + 4, TOKEN_FP_LEN, f) < 0 ||
		hex_get(s + 5 + 2 * TOKEN_FP_LEN, TOKEN_SECRET_LEN, sec) < 0)
		return -EINVAL;
	memcpy(fp, f, sizeof(f));
	memcpy(secret, sec, sizeof(sec));
	return 0;
}
