/* watch_fanotify.c - filesystem marks with FAN_REPORT_DFID_NAME; directories by handle. */
#include "agent/guard/watch.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/fanotify.h>
#include <sys/statfs.h>
#include <unistd.h>

#include "agent/guard/guard.h"
#include "agent/guard/watch_refs.h"
#include "core/bmap.h"
#include "core/path.h"
#include "core/xalloc.h"
#include "core/banned.h"

#define FAN_EVENTS (FAN_MODIFY | FAN_CLOSE_WRITE | FAN_ATTRIB | FAN_CREATE | FAN_DELETE | \
	FAN_MOVED_FROM | FAN_MOVED_TO | FAN_ONDIR)

struct watcher {
	int		 fd;
	pid_t		 self;
	uint64_t	 round;		/* registration round, for dropping stale refs */
	struct bmap	 dirs;		/* fsid + handle type + handle -> watch_ref chain */
	char		 buf[65536] __attribute__((aligned(8)));
};

/* Key: 8 bytes fsid, 4 bytes handle type, then the handle bytes. */
static size_t
make_key(uint8_t *key, const void *fsid, int type, const void *handle, unsigned hlen)
{
	if (hlen > BMAP_MAX_KEY - 12)
		return 0;
	memcpy(key, fsid, 8);
	memcpy(key + 8, &type, 4);
	memcpy(key + 12, handle, hlen);
	return 12 + hlen;
}

static int
fan_open(struct watcher **ret)
{
	struct watcher *w = xcalloc(1, sizeof(*w));

	w->fd = fanotify_init(FAN_CLASS_NOTIF | FAN_CLOEXEC | FAN_NONBLOCK | FAN_REPORT_DFID_NAME,
		O_RDONLY | O_LARGEFILE | O_CLOEXEC);
	if (w->fd < 0) {
		int r = -errno;

		free(w);
		return r;
	}
	w->self = getpid();
	bmap_init(&w->dirs);
	*ret = w;
	return 0;
}

static int
register_dir(struct watcher *w, int dfd, size_t idx, const char *rel, const char *only)
{
	struct {
		struct file_handle fh;
		unsigned char bytes[MAX_HANDLE_SZ];
	} h;
	struct statfs sfs;
	uint8_t key[BMAP_MAX_KEY];
	size_t klen;
	int mount_id;

	h.fh.handle_bytes = MAX_HANDLE_SZ;
	if (name_to_handle_at(dfd, "", &h.fh, &mount_id, AT_EMPTY_PATH) < 0)
		return -errno;
	if (fstatfs(dfd, &sfs) < 0)
		return -errno;
	klen = make_key(key, &sfs.f_fsid, h.fh.handle_type, h.fh.f_handle, h.fh.handle_bytes);
	if (klen == 0)
		return -E2BIG;
	watch_refs_put(&w->dirs, key, klen, idx, w->round, rel, only);
	return 0;
}

struct ancestor_ctx {
	struct watcher	*w;
	size_t		 idx;
};

/* An ancestor of a guard: its filesystem is marked too (it may be another
 * one), and a rename of the next component down is a hint for the root. */
static int
register_ancestor(const char *dir, const char *name, void *data)
{
	struct ancestor_ctx *c = data;
	int fd = open(dir, O_PATH | O_DIRECTORY | O_CLOEXEC), r;

	if (fd < 0)
		return 0;	/* checked again at every tick; nothing to watch now */
	r = fanotify_mark(c->w->fd, FAN_MARK_ADD | FAN_MARK_FILESYSTEM, FAN_EVENTS, fd, NULL);
	if (r == 0)
		register_dir(c->w, fd, c->idx, "", name);
	close(fd);
	return 0;
}

static int
fan_watch_guard(struct watcher *w, size_t idx, struct guard *g)
{
	struct ancestor_ctx actx = { .w = w, .idx = idx };
	int r;

	w->round++;
	if (fanotify_mark(w->fd, FAN_MARK_ADD | FAN_MARK_FILESYSTEM, FAN_EVENTS, g->rootfd, NULL) < 0)
		return -errno;
	r = register_dir(w, g->parentfd, idx, "", g->rootname);
	if (r < 0)
		return r;
	watch_each_ancestor(g->root, register_ancestor, &actx);
	for (size_t i = 0; i < g->base.n; i++) {
		const struct fentry *e = &g->base.e[i];
		int dfd;

		if (e->type != FT_DIR)
			continue;
		dfd = openat_beneath(g->rootfd, e->path, O_PATH | O_DIRECTORY, 0);
		if (dfd < 0)
			continue;
		r = register_dir(w, dfd, idx, e->path, NULL);
		close(dfd);
		if (r < 0)
			return r;
	}
	/* Directories that are gone or were moved away stop meaning anything. */
	watch_refs_drop_guard(&w->dirs, idx, w->round, NULL, NULL);
	return 0;
}

static int
fan_fd(struct watcher *w)
{
	return w->fd;
}

/* raw points at the event in the read buffer; m is an aligned copy of its
 * metadata (the kernel aligns events to 4 bytes only, the struct wants 8). */
static void
handle_event(struct watcher *w, const char *raw, const struct fanotify_event_metadata *m,
	const struct watch_sink *sink)
{
	const char *p = raw + m->metadata_len, *end = raw + m->event_len;

	if (m->mask & FAN_Q_OVERFLOW) {
		sink->overflow(sink->data, -1);
		return;
	}
	if (m->pid == w->self)
		return;
	while (p + sizeof(struct fanotify_event_info_header) <= end) {
		const struct fanotify_event_info_fid *fid = (const void *)p;
		const struct file_handle *fh;
		const char *name = "";
		uint8_t key[BMAP_MAX_KEY];
		size_t klen;

		if (fid->hdr.len < sizeof(*fid) || p + fid->hdr.len > end)
			return;
		if (fid->hdr.info_type != FAN_EVENT_INFO_TYPE_DFID_NAME &&
			fid->hdr.info_type != FAN_EVENT_INFO_TYPE_DFID) {
			p += fid->hdr.len;
			continue;
		}
		fh = (const struct file_handle *)fid->handle;
		if ((const char *)fh->f_handle + fh->handle_bytes > p + fid->hdr.len)
			return;
		if (fid->hdr.info_type == FAN_EVENT_INFO_TYPE_DFID_NAME) {
			name = (const char *)fh->f_handle + fh->handle_bytes;
			if (memchr(name, '\0', (size_t)(p + fid->hdr.len - name)) == NULL)
				return;
		}
		klen = make_key(key, &fid->fsid, fh->handle_type, fh->f_handle, fh->handle_bytes);
		if (klen > 0)
			watch_refs_dispatch(&w->dirs, key, klen, name, m->pid, sink);
		p += fid->hdr.len;
	}
}

static int
fan_read(struct watcher *w, const struct watch_sink *sink)
{
	for (;;) {
		struct fanotify_event_metadata m;
		ssize_t len = read(w->fd, w->buf, sizeof(w->buf));

		if (len < 0 && errno == EINTR)
			continue;
		if (len < 0 && errno == EAGAIN)
			return 0;
		if (len < 0)
			return -errno;
		if (len == 0)
			return 0;
		for (size_t off = 0; off + sizeof(m) <= (size_t)len; off += m.event_len) {
			memcpy(&m, w->buf + off, sizeof(m));
			if (m.vers != FANOTIFY_METADATA_VERSION)
				return -EPROTO;
			if (m.event_len < sizeof(m) || m.metadata_len < sizeof(m) ||
				m.event_len > (size_t)len - off)
				return -EPROTO;
			handle_event(w, w->buf + off, &m, sink);
		}
	}
}

static void
fan_close(struct watcher *w)
{
	if (w == NULL)
		return;
	watch_refs_release(&w->dirs);
	close(w->fd);
	free(w);
}

const struct watcher_ops watcher_fanotify = {
	.name = "fanotify",
	.open = fan_open,
	.watch_guard = fan_watch_guard,
	.fd = fan_fd,
	.read = fan_read,
	.close = fan_close,
};
