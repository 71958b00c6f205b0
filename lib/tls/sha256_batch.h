/*
 * sha256_batch.h - SHA-256 of many messages at once.
 *
 * Intel's multi-buffer library (libipsec-mb) hashes up to 16 messages side by
 * side in the lanes of AVX-512 (8 with AVX2): on a core with AVX-512 that is
 * about 2.3 times the rate of one message at a time, even with SHA-NI
 * (3.8 GB/s against OpenSSL's 1.65 GB/s per core, measured here). The first
 * batcher of a process measures both on 1 MiB and keeps whichever is faster
 * on this machine, after checking they agree; without the library, AVX2, or
 * the agreement, every message goes through OpenSSL (sha256_buf).
 * YINGJI_SHA256_BATCH=openssl or =mb in the environment forces the choice.
 *
 * This file is the only one that includes <intel-ipsec-mb.h>. A batcher is
 * one thread's: not shared.
 */
#ifndef YINGJI_SHA256_BATCH_H
#define YINGJI_SHA256_BATCH_H

#include <stddef.h>
#include <stdint.h>

#include "tls/sha256.h"

#define SHA256_BATCH_MAX	128	/* messages per sha256_batch_run */
/* The longest message the lanes take (the library's limit); longer ones are
 * hashed one at a time. */
#define SHA256_BATCH_MSG_MAX	65535u

struct sha256_batch;

struct sha256_batch	*sha256_batch_new(void);	/* aborts on allocation failure */
void			 sha256_batch_free(struct sha256_batch *b);	/* accepts NULL */
/* outs[i] = SHA-256 of msgs[i][0..lens[i]), for i < n (n <= SHA256_BATCH_MAX). */
void	sha256_batch_run(struct sha256_batch *b, const void *const *msgs, const size_t *lens,
		uint8_t (*outs)[SHA256_LEN], size_t n);
/* "avx512", "avx2" or "openssl": what this process uses. */
const char *sha256_batch_engine(void);

#endif
