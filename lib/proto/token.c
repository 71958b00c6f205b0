/* token.c - enrollment token text form (see token.h). */
#include "proto/token.h"

#include <errno.h>
#include <string.h>

#include "core/hex.h"
#include "core/banned.h"

void
token_format(const uint8_t fp[TOKEN_FP_LEN], const uint8_t secret[TOKEN_SECRET_LEN],
	char out[TOKEN_STR_LEN + 1])
{
	memcpy(out, "yj1-", 4);
	hex_encode(fp, TOKEN_FP_LEN, out + 4);
	out[4 + 2 * TOKEN_FP_LEN] = '-';
	hex_encode(secret, TOKEN_SECRET_LEN, out + 5 + 2 * TOKEN_FP_LEN);
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
	if (hex_decode(s + 4, TOKEN_FP_LEN, f) < 0 ||
		hex_decode(s + 5 + 2 * TOKEN_FP_LEN, TOKEN_SECRET_LEN, sec) < 0)
		return -EINVAL;
	memcpy(fp, f, sizeof(f));
	memcpy(secret, sec, sizeof(sec));
	return 0;
}
