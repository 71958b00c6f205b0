/*
 * sha256.h - SHA-256 through OpenSSL's EVP (which uses SHA-NI where the CPU
 * has it). This directory is the only place that includes OpenSSL headers.
 */
#ifndef YINGJI_SHA256_H
#define YINGJI_SHA256_H

#include <stddef.h>
#include <stdint.h>

#define SHA256_LEN	32
#define SHA256_HEX_LEN	64

struct sha256;

struct sha256	*sha256_new(void);		/* aborts on allocation failure */
void		 sha256_free(struct sha256 *h);	/* accepts NULL */
void		 sha256_reset(struct sha256 *h);
void		 sha256_update(struct sha256 *h, const void *p, size_t n);
void		 sha256_final(struct sha256 *h, uint8_t out[SHA256_LEN]);	/* then reset */
void		 sha256_buf(const void *p, size_t n, uint8_t out[SHA256_LEN]);
/* Hash everything readable from fd (from its current offset) with reads of bufsize;
 * *ret_size gets the byte count. -errno on a read error. */
int		 sha256_fd(int fd, uint8_t out[SHA256_LEN], uint64_t *ret_size);
void		 sha256_to_hex(const uint8_t d[SHA256_LEN], char out[SHA256_HEX_LEN + 1]);
int		 sha256_from_hex(const char *hex, uint8_t out[SHA256_LEN]);	/* -EINVAL */

#endif
