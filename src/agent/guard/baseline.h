/*
 * baseline.h - the recorded state of a guarded tree: one entry per path, with
 * type, size, mode, owner, times (ns), inode, symlink target and SHA-256.
 *
 * Entries are kept sorted by path (byte order) with a hash index for lookups.
 * Paths are relative to the root ("" is the root itself) and may hold any byte
 * but NUL, newlines and invalid UTF-8 included.
 *
 * On disk (baseline_save/baseline_load): "YJBL", version u32, root, entry count
 * u64, the entries, and a CRC-32C of everything before it. Written atomically
 * (temp file, fsync, rename, fsync of the directory), so a crash leaves either
 * the old or the new baseline, never a mix.
 */
#ifndef YINGJI_AGENT_BASELINE_H
#define YINGJI_AGENT_BASELINE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/stat.h>

#include "core/buf.h"

enum fentry_type { FT_NONE = 0, FT_REG, FT_DIR, FT_LNK, FT_OTHER };

enum fentry_flags {
	FE_HASHED = 1u << 0,	/* hash holds the content's SHA-256 */
	FE_STORED = 1u << 1,	/* the content is in the content store */
	FE_DIVERGED = 1u << 2,	/* changed, could not be restored, alerted: the stat
				 * fields are the alerted state, the hash the recorded
				 * content; never reuse the hash for it */
};

struct fentry {
	char		*path;		/* owned; relative to the root */
	char		*link;		/* owned; symlink target or NULL */
	uint64_t	 size, ino, dev;
	int64_t		 mtime_ns, ctime_ns;
	uint32_t	 mode;		/* permission bits (07777) */
	uint32_t	 uid, gid;
	uint32_t	 nlink;		/* in memory only: not part of the file format */
	uint8_t		 type;		/* enum fentry_type */
	uint8_t		 flags;		/* enum fentry_flags */
	uint8_t		 hash[32];
};

struct baseline {
	char		*root;		/* owned; absolute path of the guarded tree */
	struct fentry	*e;
	size_t		 n, cap;
	uint32_t	*slots;		/* hash index: entry index + 1, 0 = empty */
	size_t		 nslots;
	bool		 indexed;
};

#define BASELINE_MAX_ENTRIES	(16u * 1024 * 1024)
#define BASELINE_MAX_PATH	4096

void	baseline_init(struct baseline *b, const char *root);
void	baseline_release(struct baseline *b);
void	fentry_release(struct fentry *e);
void	fentry_copy(struct fentry *dst, const struct fentry *src);	/* deep copy */
/* Fill type, size, mode, owner, times, inode of e from st. */
void	fentry_set_stat(struct fentry *e, const struct stat *st);
/* Take ownership of *e (the caller's copy is cleared). Invalidates the index. */
void	baseline_add(struct baseline *b, struct fentry *e);
/* Sort and index; call after adding. Duplicate paths: the last one wins. */
void	baseline_finish(struct baseline *b);
struct fentry *baseline_find(const struct baseline *b, const char *path);
/* Remove the entry with this path, if any; keeps order and rebuilds the index. */
void	baseline_remove(struct baseline *b, const char *path);
/* Swap contents of two baselines. */
void	baseline_swap(struct baseline *a, struct baseline *b);

/* Differences between a recorded entry (a, may be NULL) and a current one (b,
 * may be NULL), as enum change_bits. Only compares hashes when both are hashed. */
unsigned fentry_diff(const struct fentry *a, const struct fentry *b);

int	baseline_encode(const struct baseline *b, struct buf *out);
/* Parse an encoded baseline (every length is checked before it is used). */
int	baseline_decode(const void *data, size_t len, struct baseline *ret);
int	baseline_save(const struct baseline *b, int dirfd, const char *name);
int	baseline_load(int dirfd, const char *name, struct baseline *ret);

#endif
