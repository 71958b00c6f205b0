/*
 * scan.h - walk a tree without following symlinks and record every entry,
 * hashing regular files on all cores in parallel.
 *
 * The walk opens every directory with openat_beneath() and stats children with
 * fstatat(AT_SYMLINK_NOFOLLOW). Files are hashed by a pool of threads; a file
 * whose inode, size, mtime and ctime match the entry in opts->reuse keeps the
 * recorded hash without being read. With opts->store, contents are also put in
 * the content store in the same read. Entries on another filesystem are
 * recorded but not descended into.
 */
#ifndef YINGJI_AGENT_SCAN_H
#define YINGJI_AGENT_SCAN_H

#include <stdbool.h>
#include <stdint.h>

#include "agent/guard/baseline.h"

struct store;

struct scan_opts {
	const struct baseline	*reuse;		/* may be NULL */
	struct store		*store;		/* may be NULL */
	unsigned		 threads;	/* 0: one per core */
	bool			 no_hash;	/* record metadata only */
};

struct scan_stats {
	uint64_t	files, dirs, links, other;
	uint64_t	bytes;		/* size of all regular files */
	uint64_t	hashed_bytes;	/* bytes actually read */
	uint64_t	reused;		/* hashes taken from opts->reuse */
	uint64_t	vanished;	/* entries gone between listing and reading */
	uint64_t	unreadable;	/* files recorded without a hash */
	uint64_t	not_stored;	/* files whose content is not in the store */
	uint64_t	store_errors;	/* of those, because the store could not be written */
	int		store_error;	/* the last such error (-ENOSPC, -EROFS, ...), or 0 */
	double		seconds;
};

/* Called for each entry that could not be read; err is -errno. */
typedef void (*scan_problem_cb)(const char *rel, int err, void *data);

/* Scan the tree at root (an absolute path). Fails with -ELOOP if root is a
 * symlink, -ENOTDIR if it is not a directory; problems with single entries are
 * reported through cb and do not fail the scan. */
int	tree_scan(const char *root, const struct scan_opts *opts, struct baseline *ret,
		struct scan_stats *ret_stats, scan_problem_cb cb, void *cbdata);

/* Record one entry rel below the open root directory (fstatat, readlinkat and,
 * for regular files with hash set, the content's hash; stored when store is
 * set). -ENOENT when it does not exist. */
int	scan_one(int rootfd, const char *rel, bool hash, struct store *store, struct fentry *ret);

#endif
