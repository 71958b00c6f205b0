/*
 * hmac.h - HMAC-SHA256 (RFC 2104) through OpenSSL, for the group robots'
 * signing secrets (src/notify). This directory is the only place that
 * includes OpenSSL headers.
 */
#ifndef YINGJI_HMAC_H
#define YINGJI_HMAC_H

#include <stddef.h>
#include <stdint.h>

#define HMAC_SHA256_LEN	32

/* HMAC-SHA256 of msg[0..len) keyed by key[0..keylen); either may be empty
 * (NULL with length 0). Aborts if OpenSSL cannot compute it at all (no
 * default provider), like running out of memory. */
void	hmac_sha256(const void *key, size_t keylen, const void *msg, size_t len,
		uint8_t out[HMAC_SHA256_LEN]);

#endif
