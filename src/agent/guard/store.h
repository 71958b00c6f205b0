/*
 * store.h - the content store: every guarded file's content, addressed by its
 * SHA-256, zstd-compressed, in <state>/store/xx/<64 hex>.zst (dirs 0700, files
 * 0600, root-only). Any baseline version can be restored from it even when the
 * original is gone. A blob appears under its name whole or not at all (temp
 * file, then link); a blob that is already present is not written again. Safe
 * to call from several threads.
 *
 * Puts are not synced one by one: store_sync() makes everything put so far
 * durable in one go, and callers call it before they commit anything that
 * refers to the new blobs (a baseline). A blob that a crash left empty is
 * treated as absent and written again.
 *
 * A file larger than max_bytes is hashed but not stored (*ret_stored = false):
 * its change is alerted, not restored.
 */
#ifndef YINGJI_AGENT_STORE_H
#define YINGJI_AGENT_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct store;

/* Open (creating if needed) the store under the state directory open at state_dirfd. */
int	store_open(int state_dirfd, uint64_t max_bytes, struct store **ret);
void	store_free(struct store *s);	/* accepts NULL */

/* Read fd from offset 0 to EOF once, hashing and (if small enough) storing it.
 * Returns 0 with the hash, size and whether it is stored; -ENOSPC, -EROFS or
 * -EIO when the store cannot be written (nothing partial is left behind, and
 * nothing is returned). */
int	store_put_fd(struct store *s, int fd, uint8_t ret_hash[32], uint64_t *ret_size,
		bool *ret_stored);
int	store_put_buf(struct store *s, const void *p, size_t n, uint8_t ret_hash[32]);
bool	store_has(struct store *s, const uint8_t hash[32]);
/* The size cap given to store_open(). */
uint64_t store_max_bytes(const struct store *s);
/* Make every blob put so far durable (syncfs of the store's filesystem). */
int	store_sync(struct store *s);
/* Write the content with this hash to out_fd (at its current offset). The
 * content is verified against the hash while written; -EBADMSG if the blob is
 * corrupt, -ENOENT if it is not in the store. */
int	store_get_fd(struct store *s, const uint8_t hash[32], int out_fd);
/* The whole content in a new malloc'd buffer, at most max bytes (-EFBIG beyond). */
int	store_get_buf(struct store *s, const uint8_t hash[32], size_t max, void **ret,
		size_t *ret_len);

#endif
