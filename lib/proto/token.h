/*
 * token.h - enrollment tokens: "yj1-" + 64 hex digits (SHA-256 fingerprint of
 * the server's certificate, which the agent pins while enrolling) + "-" + 32
 * hex digits (a 128-bit one-time secret; the server keeps only its SHA-256).
 */
#ifndef YINGJI_TOKEN_H
#define YINGJI_TOKEN_H

#include <stddef.h>
#include <stdint.h>

#define TOKEN_FP_LEN		32
#define TOKEN_SECRET_LEN	16
#define TOKEN_STR_LEN		(4 + 2 * TOKEN_FP_LEN + 1 + 2 * TOKEN_SECRET_LEN)

void	token_format(const uint8_t fp[TOKEN_FP_LEN], const uint8_t secret[TOKEN_SECRET_LEN],
		char out[TOKEN_STR_LEN + 1]);
/* -EINVAL unless s is exactly one well-formed token (surrounding blanks allowed). */
int	token_parse(const char *s, uint8_t fp[TOKEN_FP_LEN], uint8_t secret[TOKEN_SECRET_LEN]);

#endif
