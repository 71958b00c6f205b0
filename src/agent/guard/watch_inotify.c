/* watch_inotify.c - the fallback: one inotify watch per directory, no writer pid. */
#include "agent/guard/watch.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <unistd.h>

#include "agent/guard/guard.h"
#include "core/bmap.h"
#include "core/path.h"
#include "core/xalloc.h"
#include "core/banned.h"

#define IN_DIR_EVENTS (IN_MODIFY | IN_ATTRIB | IN_CREATE | IN_DELETE | IN_MOVED_FROM | \
	IN_MOVED_TO | IN_CLOSE_WRITE | IN_EXCL_UNLINK | IN_ONLYDIR)
#define IN_PARENT_EVENTS (IN_ATTRIB | IN_CREATE | IN_DELETE | IN_MOVED_FROM | IN_MOVED_TO | \
	IN_ONLYDIR)

struct wd_ref {
	size_t	 guard;
	char	*rel;
	char	*only;
};

struct watcher {
	int		 fd;
	struct bmap	 wds;	/* int wd -> struct wd_ref */
	char		 buf[65536] __attribute__((aligned(8)));
};

static void
free_ref(void *value, void *data)
{
	struct wd_ref *ref = value;

	free(ref->rel);
	free(ref->only);
	free(ref);
}

static int
ino_open(struct watcher **ret)
{
	struct watcher *w = xcalloc(1, sizeof(*w));

	w->fd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
	if (w->fd < 0) {
		int r = -errno;

		free(w);
		return r;
	}
	bmap_init(&w->wds);
	*ret = w;
	return 0;
}

static int
add_watch(struct watcher *w, int dfd, size_t idx, const char *rel, const char *only, uint32_t mask)
{
	char proc[64];
	struct wd_ref *ref, *old;
	int wd;

	/* inotify takes a path: watch the directory we hold open, not a name that
	 * could be swapped for a symlink. */
	snprintf(proc, sizeof(proc), "/proc/self/fd/%d", dfd);
	wd = inotify_add_watch(w->fd, proc, mask);
	if (wd < 0)
		return -errno;
	ref = xcalloc(1, sizeof(*ref));
	ref->guard = idx;
	ref->rel = xstrdup(rel);
	ref->only = only != NULL ? xstrdup(only) : NULL;
	old = bmap_put(&w->wds, &wd, sizeof(wd), ref);
	if (old != NULL)
		free_ref(old, NULL);
	return 0;
}

static int
ino_watch_guard(struct watcher *w, size_t idx, struct guard *g)
{
	int r;

	r = add_watch(w, g->parentfd, idx, "", g->rootname, IN_PARENT_EVENTS);
	if (r < 0)
		return r;
	for (size_t i = 0; i < g->base.n; i++) {
		const struct fentry *e = &g->base.e[i];
		int dfd;

		if (e->type != FT_DIR)
			continue;
		dfd = openat_beneath(g->rootfd, e->path, O_RDONLY | O_DIRECTORY, 0);
		if (dfd < 0)
			continue;
		r = add_watch(w, dfd, idx, e->path, NULL, IN_DIR_EVENTS);
		close(dfd);
		if (r < 0)
			return r;	/* -ENOSPC: max_user_watches reached */
	}
	return 0;
}

static int
ino_fd(struct watcher *w)
{
	return w->fd;
}

static int
ino_read(struct watcher *w, const struct watch_sink *sink)
{
	for (;;) {
		ssize_t len = read(w->fd, w->buf, sizeof(w->buf));
		const char *p;

		if (len < 0 && errno == EINTR)
			continue;
		if (len < 0 && errno == EAGAIN)
			return 0;
		if (len <= 0)
			return len < 0 ? -errno : 0;
		for (p = w->buf; p + sizeof(struct inotify_event) <= w->buf + len;) {
			const struct inotify_event *ev = (const void *)p;
			struct wd_ref *ref;

			if (p + sizeof(*ev) + ev->len > w->buf + len)
				break;
			p += sizeof(*ev) + ev->len;
			if (ev->mask & IN_Q_OVERFLOW) {
				sink->overflow(sink->data, -1);
				continue;
			}
			ref = bmap_get(&w->wds, &ev->wd, sizeof(ev->wd));
			if (ev->mask & IN_IGNORED) {
				ref = bmap_del(&w->wds, &ev->wd, sizeof(ev->wd));
				if (ref != NULL)
					free_ref(ref, NULL);
				continue;
			}
			if (ref == NULL)
				continue;
			if (ref->only != NULL) {
				if (ev->len > 0 && strcmp(ev->name, ref->only) == 0)
					sink->hit(sink->data, ref->guard, "", 0);
			} else if (ev->len == 0) {
				sink->hit(sink->data, ref->guard, ref->rel, 0);
			} else {
				char *rel = path_join_rel(ref->rel, ev->name);

				sink->hit(sink->data, ref->guard, rel, 0);
				free(rel);
			}
		}
	}
}

static void
ino_close(struct watcher *w)
{
	if (w == NULL)
		return;
	bmap_each(&w->wds, free_ref, NULL);
	bmap_release(&w->wds);
	close(w->fd);
	free(w);
}

const struct watcher_ops watcher_inotify = {
	.name = "inotify",
	.open = ino_open,
	.watch_guard = ino_watch_guard,
	.fd = ino_fd,
	.read = ino_read,
	.close = ino_close,
};
