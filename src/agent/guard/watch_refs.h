/*
 * watch_refs.h - what a watched directory means to the guards, shared by both
 * watchers. A key (a file handle, an inotify wd) maps to a chain of refs:
 * "this is directory rel of guard g" (events name entries in it), or "the
 * entry called `only` here is the root of guard g, or leads to it" (the root's
 * parent and every ancestor, so a rename anywhere above a guard is seen).
 * Several guards may share a parent or an ancestor: each keeps its own ref.
 */
#ifndef YINGJI_AGENT_WATCH_REFS_H
#define YINGJI_AGENT_WATCH_REFS_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "agent/guard/watch.h"
#include "core/bmap.h"

/* Add (or replace the same guard's same kind of) ref under key; stamp says
 * which registration round it belongs to. */
void	watch_refs_put(struct bmap *m, const void *key, size_t klen, size_t guard,
		uint64_t stamp, const char *rel, const char *only);
/* An event named entry `name` ("" for the directory itself) of key's directory. */
void	watch_refs_dispatch(const struct bmap *m, const void *key, size_t klen, const char *name,
		pid_t pid, const struct watch_sink *sink);
/* Drop the refs of guard not registered in round keep_stamp (directories that
 * are gone or were moved away); for each key left without refs, call gone
 * (may be NULL). */
void	watch_refs_drop_guard(struct bmap *m, size_t guard, uint64_t keep_stamp,
		void (*gone)(const void *key, size_t klen, void *data), void *data);
/* Drop the whole chain under key. */
void	watch_refs_del(struct bmap *m, const void *key, size_t klen);
void	watch_refs_release(struct bmap *m);

/* The ancestors of path ("/a/b/c" -> "/" "a", "/a" "b"), for registering:
 * calls fn(dir, next_component) from the top down, stopping at the parent. */
int	watch_each_ancestor(const char *path, int (*fn)(const char *dir, const char *name,
		void *data), void *data);

#endif
