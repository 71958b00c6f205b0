/*
 * watch.h - the real-time watchers: fanotify (preferred) and inotify (fallback).
 *
 * fanotify: one filesystem mark per guarded filesystem, FAN_REPORT_DFID_NAME,
 * so there are no per-directory watch limits and each event names the writer's
 * pid. Directories are recognised by their file handle. inotify: one watch per
 * directory and no writer pid; used where fanotify is not available, and it
 * says so.
 *
 * A watcher only produces hints ("look at this path of that guard") and
 * overflow notices ("events were lost: rescan"); the guard decides what is a
 * change. Events made by this process are dropped where the kernel names the
 * pid.
 */
#ifndef YINGJI_AGENT_WATCH_H
#define YINGJI_AGENT_WATCH_H

#include <stddef.h>
#include <sys/types.h>

struct guard;
struct watcher;

struct watch_sink {
	void	(*hit)(void *data, size_t guard, const char *rel, pid_t pid);
	void	(*overflow)(void *data, ssize_t guard);	/* -1: every guard */
	void	*data;
};

struct watcher_ops {
	const char	*name;
	int		(*open)(struct watcher **ret);
	/* Start watching g (index idx), or refresh after its directories changed. */
	int		(*watch_guard)(struct watcher *w, size_t idx, struct guard *g);
	int		(*fd)(struct watcher *w);
	/* Drain what is pending into the sink; -errno on a hard error. */
	int		(*read)(struct watcher *w, const struct watch_sink *sink);
	void		(*close)(struct watcher *w);
};

extern const struct watcher_ops watcher_fanotify;
extern const struct watcher_ops watcher_inotify;

#endif
