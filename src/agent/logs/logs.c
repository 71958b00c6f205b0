/* logs.c - follow log files line by line into "log" events (see logs.h). */
#include "agent/logs/logs.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <unistd.h>

#include "agent/journal/journal.h"
#include "agent/state.h"
#include "core/buf.h"
#include "core/crc32c.h"
#include "core/json.h"
#include "core/json_get.h"
#include "core/log.h"
#include "core/timeutil.h"
#include "core/xalloc.h"
#include "core/banned.h"

#define LOGS_CHUNK		(256u * 1024)
#define LOGS_HEAD		64u
#define LOGS_ROTATE_WAIT_NS	(5ll * 1000000000)	/* the old file is read this long */
#define LOGS_POSITIONS		"positions"
#define LOGS_POSITIONS_MAX	(4u << 20)
#define LOGS_WATCH_MASK		(IN_MODIFY | IN_CREATE | IN_MOVED_TO | IN_MOVED_FROM | IN_DELETE | \
				 IN_CLOSE_WRITE | IN_ATTRIB | IN_MOVE_SELF | IN_DELETE_SELF | \
				 IN_ONLYDIR)

/* One open file being read. */
struct tail {
	int		 fd;		/* -1: not open */
	uint64_t	 dev, ino;
	uint64_t	 off;		/* start of the next line: all before it is emitted */
	uint64_t	 scan;		/* scanned up to here without a newline (>= off) */
	bool		 more;		/* line share used up with more to read */
};

struct lfile {
	char		*path;
	char		*dir;		/* dirname(path) */
	const char	*base;		/* into path */
	int		 wd;		/* -1: no watch */
	struct tail	 cur;		/* the file at the path */
	/* The file rotated away: still read for LOGS_ROTATE_WAIT_NS, as the
	 * writer may not have reopened yet (logrotate's postrotate). */
	struct tail	 old;
	int64_t		 old_until;	/* monotonic */
	uint64_t	 old_dev, old_ino;	/* the last file rotated away (saved) */
	uint32_t	 head_len, head_crc;	/* first bytes, to recognise the file */
	bool		 known;		/* a saved position applies to the next open */
	bool		 from_end;	/* first start: open at the end */
	bool		 dirty;		/* inotify said something */
	bool		 err_said;
};

struct logs {
	int			 statefd, dirfd, ifd;
	struct journal		*journal;
	struct journal_writer	*writer;
	logs_emit_fn		 emit;
	void			*data;
	struct lfile		*f;
	size_t			 n;
	bool			 changed;	/* positions moved since the last save */
	char			*chunk;		/* LOGS_CHUNK */
	char			*head;		/* LOGS_MAX_LINE */
	struct buf		 json;
};

static void
emit_line(struct logs *l, struct lfile *f, struct tail *t, const char *line, size_t len,
	bool truncated, uint64_t end)
{
	char when[48];
	int64_t now = now_realtime_ns();
	struct json j;

	buf_reset(&l->json);
	json_begin(&j, &l->json);
	json_key_str(&j, "type", "log");
	time_format_local(now, when, sizeof(when));
	json_key_str(&j, "time", when);
	json_key_i64(&j, "time_ns", now);
	json_key_str(&j, "path", f->path);
	json_key_strn(&j, "line", line, len);
	json_key_bool(&j, "truncated", truncated);
	json_key_u64(&j, "offset", end);
	json_key_u64(&j, "dev", t->dev);
	json_key_u64(&j, "ino", t->ino);
	if (json_end(&j) == 0)
		l->emit(now, l->json.data, l->json.len, l->data);
	t->off = end;
	l->changed = true;
}

/* Emit the line [t->off, nl) whose bytes are not (all) in the chunk. */
static int
emit_from_file(struct logs *l, struct lfile *f, struct tail *t, uint64_t nl, uint64_t end)
{
	uint64_t len = nl - t->off;
	size_t want = len > LOGS_MAX_LINE ? LOGS_MAX_LINE : (size_t)len;
	ssize_t n = pread(t->fd, l->head, want, (off_t)t->off);

	if (n < 0)
		return -errno;
	emit_line(l, f, t, l->head, (size_t)n, len > LOGS_MAX_LINE, end);
	return 0;
}

/* Read complete lines from f (at most the turn's share). Returns 1 at the end
 * of the file, 0 when the share was used up, -errno. With final set, a last
 * line without a newline is emitted too (the file was rotated away). */
static int
file_read(struct logs *l, struct lfile *f, struct tail *t, bool final)
{
	unsigned lines = 0;
	int r;

	t->more = false;
	for (;;) {
		uint64_t base = t->scan;
		ssize_t n = pread(t->fd, l->chunk, LOGS_CHUNK, (off_t)base);
		const char *p, *end;

		if (n < 0)
			return -errno;
		if (n == 0)
			break;
		p = l->chunk;
		end = l->chunk + n;
		while (p < end) {
			const char *nl;
			uint64_t nloff = 0;

			if (lines >= LOGS_TURN_LINES) {
				t->scan = t->off;
				t->more = true;
				return 0;
			}
			nl = memchr(p, '\n', (size_t)(end - p));
			if (nl == NULL)
				break;
			nloff = base + (uint64_t)(nl - l->chunk);
			if (t->off >= base) {
				const char *s = l->chunk + (t->off - base);
				size_t len = (size_t)(nl - s);

				emit_line(l, f, t, s, len > LOGS_MAX_LINE ? LOGS_MAX_LINE : len,
					len > LOGS_MAX_LINE, nloff + 1);
			} else {
				r = emit_from_file(l, f, t, nloff, nloff + 1);
				if (r < 0)
					return r;
			}
			lines++;
			p = nl + 1;
		}
		t->scan = base + (uint64_t)n;
	}
	if (final && t->scan > t->off) {
		r = emit_from_file(l, f, t, t->scan, t->scan);
		if (r < 0)
			return r;
	}
	return 1;
}

static void
tail_close(struct tail *t)
{
	if (t->fd >= 0)
		close(t->fd);
	t->fd = -1;
	t->more = false;
}

static bool
head_matches(struct lfile *f, int fd)
{
	char head[LOGS_HEAD];
	ssize_t n;

	if (f->head_len == 0)
		return true;
	n = pread(fd, head, f->head_len, 0);
	return n == (ssize_t)f->head_len && crc32c(0, head, f->head_len) == f->head_crc;
}

/* Open the file at the path, where its saved position says or at 0. */
static void
file_open(struct lfile *f)
{
	struct tail *t = &f->cur;
	struct stat st;
	int fd = open(f->path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);

	if (fd < 0)
		return;
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		if (!f->err_said)
			log_warn("logs", "%s: not a regular file; not followed", f->path);
		f->err_said = true;
		close(fd);
		return;
	}
	f->err_said = false;
	if (f->known && t->dev == 0 && t->ino == 0) {
		t->off = 0;	/* there was no file at the last save */
		f->head_len = 0;
	} else if (f->known) {
		if ((uint64_t)st.st_dev != t->dev || (uint64_t)st.st_ino != t->ino ||
			!head_matches(f, fd)) {
			log_warn("logs", "%s: replaced while the agent was down; reading the new file "
				"from the start (what the old one held past offset %llu is lost)",
				f->path, (unsigned long long)t->off);
			t->off = 0;
			f->head_len = 0;
		} else if ((uint64_t)st.st_size < t->off) {
			log_warn("logs", "%s: truncated while the agent was down (copytruncate?); "
				"reading from the start", f->path);
			t->off = 0;
			f->head_len = 0;
		}
	} else {
		t->off = f->from_end ? (uint64_t)st.st_size : 0;
		f->head_len = 0;
	}
	f->known = false;
	f->from_end = false;
	t->fd = fd;
	t->dev = (uint64_t)st.st_dev;
	t->ino = (uint64_t)st.st_ino;
	t->scan = t->off;
	log_debug("logs", "following %s from offset %llu", f->path, (unsigned long long)t->off);
}

/* The rotated-away file: read what comes, until its time is up; then its
 * last line even without a newline, and close it. */
static void
old_check(struct logs *l, struct lfile *f, bool now)
{
	bool final = now || now_monotonic_ns() >= f->old_until;
	int r;

	if (f->old.fd < 0)
		return;
	r = file_read(l, f, &f->old, final);
	if (r == 0)
		return;
	if (r < 0)
		log_warn("logs", "%s: reading the rotated file: %s", f->path, strerror(-r));
	if (final || r < 0)
		tail_close(&f->old);
}

/* Look at one file: appeared, rotated, truncated, grown. */
static void
file_check(struct logs *l, struct lfile *f)
{
	struct tail *t = &f->cur;
	struct stat st, fst;
	bool exists;
	int r;

	f->dirty = false;
	old_check(l, f, false);
	exists = stat(f->path, &st) == 0 && S_ISREG(st.st_mode);
	if (t->fd < 0) {
		if (!exists)
			return;
		file_open(f);
		if (t->fd < 0)
			return;
		l->changed = true;
	} else if (exists && ((uint64_t)st.st_dev != t->dev || (uint64_t)st.st_ino != t->ino)) {
		/* Rotated by rename: what the old file holds so far first; it is
		 * read on for a while, the writer may not have reopened yet. */
		r = file_read(l, f, t, false);
		if (r == 0)
			return;		/* more next turn, then the switch */
		if (f->old.fd >= 0) {
			while (file_read(l, f, &f->old, true) == 0)
				;
			tail_close(&f->old);
		}
		log_info("logs", "%s: rotated; following the new file", f->path);
		f->old = *t;
		f->old_until = now_monotonic_ns() + LOGS_ROTATE_WAIT_NS;
		f->old_dev = t->dev;
		f->old_ino = t->ino;
		t->fd = -1;
		t->more = false;
		f->known = false;
		f->from_end = false;
		file_open(f);
		l->changed = true;
		if (t->fd < 0)
			return;
	}
	if (fstat(t->fd, &fst) == 0 && (uint64_t)fst.st_size < t->off) {
		log_warn("logs", "%s: truncated (copytruncate?) from %llu to %llu bytes; "
			"reading again from the start", f->path, (unsigned long long)t->off,
			(unsigned long long)fst.st_size);
		t->off = t->scan = 0;
		f->head_len = 0;
		l->changed = true;
	} else if (fst.st_size >= 0 && (uint64_t)fst.st_size < t->scan) {
		t->scan = t->off;
	}
	r = file_read(l, f, t, false);
	if (r < 0 && !f->err_said) {
		log_warn("logs", "%s: %s", f->path, strerror(-r));
		f->err_said = true;
	}
}

static void
file_watch(struct logs *l, struct lfile *f)
{
	if (f->wd >= 0)
		return;
	f->wd = inotify_add_watch(l->ifd, f->dir, LOGS_WATCH_MASK);
	/* A directory that does not exist yet is tried again on the tick. */
}

static void
save_positions(struct logs *l)
{
	struct buf out;
	struct json j;
	int r;

	if (!l->changed)
		return;
	/* Every line emitted so far must be in the journal before the seq is
	 * taken: the offsets below count them. */
	r = journal_writer_flush(l->writer);
	if (r < 0)
		return;		/* tried again next tick; the daemon reports the error */
	for (size_t i = 0; i < l->n; i++) {
		struct lfile *f = &l->f[i];

		if (f->cur.fd >= 0 && f->head_len < LOGS_HEAD) {
			char head[LOGS_HEAD];
			ssize_t n = pread(f->cur.fd, head, LOGS_HEAD, 0);

			if (n > 0) {
				f->head_len = (uint32_t)n;
				f->head_crc = crc32c(0, head, (size_t)n);
			}
		}
	}
	buf_init(&out, LOGS_POSITIONS_MAX);
	json_begin(&j, &out);
	json_key_u64(&j, "seq", journal_next_seq(l->journal) - 1);
	json_key_array(&j, "files");
	for (size_t i = 0; i < l->n; i++) {
		struct lfile *f = &l->f[i];

		bool none = f->cur.fd < 0 && !f->known;

		/* A saved position not used yet stays; a path with no file is
		 * saved as dev 0, ino 0: read from 0 when it appears. */
		json_array_object(&j);
		json_key_str(&j, "path", f->path);
		json_key_u64(&j, "dev", none ? 0 : f->cur.dev);
		json_key_u64(&j, "ino", none ? 0 : f->cur.ino);
		json_key_u64(&j, "offset", none ? 0 : f->cur.off);
		json_key_u64(&j, "old_dev", f->old_dev);
		json_key_u64(&j, "old_ino", f->old_ino);
		json_key_u64(&j, "head_len", none ? 0 : f->head_len);
		json_key_u64(&j, "head_crc", f->head_crc);
		json_close(&j);
	}
	r = json_end(&j);
	if (r == 0)
		r = state_write_file(l->dirfd, LOGS_POSITIONS, out.data, out.len);
	if (r < 0)
		log_warn("logs", "cannot save log positions: %s", strerror(-r));
	else
		l->changed = false;
	buf_release(&out);
}

static struct lfile *
find_path(struct logs *l, const char *path, size_t len)
{
	for (size_t i = 0; i < l->n; i++)
		if (strlen(l->f[i].path) == len && memcmp(l->f[i].path, path, len) == 0)
			return &l->f[i];
	return NULL;
}

static int
get_u64(const char *obj, size_t len, const char *key, uint64_t *ret)
{
	int64_t v = 0;
	int r = json_get_i64(obj, len, key, &v);

	if (r == 0 && v < 0)
		r = -ERANGE;
	if (r == 0)
		*ret = (uint64_t)v;
	return r;
}

/* Returns the seq the positions are valid up to (0: no file). */
static uint64_t
load_positions(struct logs *l)
{
	char *text = NULL;
	const char *arr, *el;
	size_t len = 0, alen, ellen, pos = 0;
	uint64_t seq = 0;
	struct buf path;
	int r;

	r = state_read_file(l->dirfd, LOGS_POSITIONS, LOGS_POSITIONS_MAX, &text, &len);
	if (r < 0) {
		if (r != -ENOENT)
			log_warn("logs", "cannot read log positions: %s", strerror(-r));
		return 0;
	}
	buf_init(&path, PATH_MAX);
	if (get_u64(text, len, "seq", &seq) < 0 ||
		json_get_raw(text, len, "files", &arr, &alen) < 0) {
		log_warn("logs", "log positions file is damaged; files are read from their end");
		seq = 0;
		goto out;
	}
	while (json_array_next(arr, alen, &pos, &el, &ellen) == 0) {
		uint64_t dev = 0, ino = 0, off = 0, hl = 0, hc = 0, odev = 0, oino = 0;
		struct lfile *f;

		if (json_get_str(el, ellen, "path", &path) < 0 ||
			get_u64(el, ellen, "dev", &dev) < 0 || get_u64(el, ellen, "ino", &ino) < 0 ||
			get_u64(el, ellen, "offset", &off) < 0 ||
			get_u64(el, ellen, "head_len", &hl) < 0 ||
			get_u64(el, ellen, "head_crc", &hc) < 0 || hl > LOGS_HEAD)
			continue;
		(void)get_u64(el, ellen, "old_dev", &odev);
		(void)get_u64(el, ellen, "old_ino", &oino);
		f = find_path(l, path.data, path.len);
		if (f == NULL)
			continue;	/* no longer configured */
		f->known = true;
		f->cur.dev = dev;
		f->cur.ino = ino;
		f->cur.off = off;
		f->old_dev = odev;
		f->old_ino = oino;
		f->head_len = (uint32_t)hl;
		f->head_crc = (uint32_t)hc;
	}
out:
	buf_release(&path);
	free(text);
	return seq;
}

struct replay {
	struct logs	*l;
	struct buf	 s;
	uint64_t	 n;
};

/* A "log" record after the saved positions: its file is read up to there. */
static int
replay_record(uint64_t seq, int64_t time_ns, const void *payload, size_t len, void *data)
{
	struct replay *rp = data;
	const char *p = payload;
	uint64_t dev = 0, ino = 0, off = 0;
	struct lfile *f;

	(void)seq;
	(void)time_ns;
	if (json_get_str(p, len, "type", &rp->s) < 0 || strcmp(rp->s.data, "log") != 0)
		return 0;
	if (json_get_str(p, len, "path", &rp->s) < 0 || get_u64(p, len, "offset", &off) < 0 ||
		get_u64(p, len, "dev", &dev) < 0 || get_u64(p, len, "ino", &ino) < 0)
		return 0;
	f = find_path(rp->l, rp->s.data, rp->s.len);
	if (f == NULL)
		return 0;
	if (f->known && f->cur.dev == dev && f->cur.ino == ino) {
		if (off > f->cur.off)
			f->cur.off = off;
	} else if (f->known && f->old_dev == dev && f->old_ino == ino) {
		/* The rotated-away file, read on after the switch: gone by now. */
	} else {
		/* Rotated (or first seen) after the save. */
		if (f->known) {
			f->old_dev = f->cur.dev;
			f->old_ino = f->cur.ino;
		}
		f->known = true;
		f->cur.dev = dev;
		f->cur.ino = ino;
		f->cur.off = off;
		f->head_len = 0;
	}
	rp->n++;
	return 0;
}

int
logs_open(const struct logs_opts *o, struct logs **ret)
{
	struct logs *l;
	struct replay rp = { 0 };
	uint64_t seq = 0;
	int r;

	if (o->npaths > LOGS_MAX_FILES)
		return -E2BIG;
	l = xcalloc(1, sizeof(*l));
	l->statefd = o->statefd;
	l->journal = o->journal;
	l->writer = o->writer;
	l->emit = o->emit;
	l->data = o->data;
	l->dirfd = -1;
	l->ifd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
	if (l->ifd < 0) {
		r = -errno;
		goto fail;
	}
	l->dirfd = state_subdir_open(o->statefd, "logs");
	if (l->dirfd < 0) {
		r = l->dirfd;
		goto fail;
	}
	l->chunk = xmalloc(LOGS_CHUNK);
	l->head = xmalloc(LOGS_MAX_LINE);
	buf_init(&l->json, JOURNAL_MAX_RECORD);
	l->f = xcalloc(o->npaths > 0 ? o->npaths : 1, sizeof(*l->f));
	for (size_t i = 0; i < o->npaths; i++) {
		struct lfile *f;
		const char *slash;

		if (find_path(l, o->paths[i], strlen(o->paths[i])) != NULL)
			continue;	/* given twice */
		f = &l->f[l->n++];
		f->path = xstrdup(o->paths[i]);
		slash = strrchr(f->path, '/');
		f->dir = slash == NULL ? xstrdup(".") : slash == f->path ? xstrdup("/")
			: xstrndup(f->path, (size_t)(slash - f->path));
		f->base = slash == NULL ? f->path : slash + 1;
		f->wd = -1;
		f->cur.fd = -1;
		f->old.fd = -1;
	}
	seq = load_positions(l);
	/* Paths with no saved position: existing files from their end. */
	for (size_t i = 0; i < l->n; i++)
		l->f[i].from_end = !l->f[i].known;
	if (seq > 0) {
		rp.l = l;
		buf_init(&rp.s, PATH_MAX);
		r = journal_read(o->statefd, seq + 1, replay_record, &rp, NULL);
		if (r < 0 && r != -ENOENT)
			log_warn("logs", "reading the journal after the saved positions: %s",
				strerror(-r));
		buf_release(&rp.s);
		if (rp.n > 0)
			log_debug("logs", "%llu log lines journaled after the last save",
				(unsigned long long)rp.n);
	}
	for (size_t i = 0; i < l->n; i++) {
		file_watch(l, &l->f[i]);
		file_check(l, &l->f[i]);
		l->f[i].from_end = false;	/* one that appears later: from 0 */
	}
	l->changed = true;
	*ret = l;
	return 0;
fail:
	logs_close(l);
	return r;
}

int
logs_fd(const struct logs *l)
{
	return l->ifd;
}

void
logs_read_events(struct logs *l)
{
	char evbuf[16384] __attribute__((aligned(__alignof__(struct inotify_event))));
	bool all = false;

	for (;;) {
		ssize_t n = read(l->ifd, evbuf, sizeof(evbuf));

		if (n <= 0)
			break;
		for (char *p = evbuf; p < evbuf + n;) {
			const struct inotify_event *ev = (const struct inotify_event *)p;

			p += sizeof(*ev) + ev->len;
			if (ev->mask & IN_Q_OVERFLOW) {
				all = true;
				continue;
			}
			for (size_t i = 0; i < l->n; i++) {
				struct lfile *f = &l->f[i];

				if (f->wd != ev->wd)
					continue;
				if (ev->mask & (IN_IGNORED | IN_DELETE_SELF | IN_MOVE_SELF)) {
					/* The directory went: watched again on the tick. */
					if (!(ev->mask & IN_IGNORED))
						inotify_rm_watch(l->ifd, f->wd);
					f->wd = -1;
					f->dirty = true;
				} else if (ev->len == 0 || strcmp(ev->name, f->base) == 0) {
					f->dirty = true;
				}
			}
		}
	}
	for (size_t i = 0; i < l->n; i++)
		if (all || l->f[i].dirty)
			file_check(l, &l->f[i]);
}

void
logs_tick(struct logs *l)
{
	for (size_t i = 0; i < l->n; i++) {
		file_watch(l, &l->f[i]);
		file_check(l, &l->f[i]);
	}
	save_positions(l);
}

bool
logs_busy(const struct logs *l)
{
	for (size_t i = 0; i < l->n; i++)
		if (l->f[i].cur.more || l->f[i].old.more)
			return true;
	return false;
}

void
logs_continue(struct logs *l)
{
	for (size_t i = 0; i < l->n; i++)
		if (l->f[i].cur.more || l->f[i].old.more)
			file_check(l, &l->f[i]);
}

void
logs_close(struct logs *l)
{
	if (l == NULL)
		return;
	/* A rotated-away file's last lines now: it will not be found again. */
	for (size_t i = 0; i < l->n; i++) {
		struct lfile *f = &l->f[i];

		while (f->old.fd >= 0 && file_read(l, f, &f->old, true) == 0)
			;
		tail_close(&f->old);
	}
	if (l->writer != NULL && l->dirfd >= 0)
		save_positions(l);
	for (size_t i = 0; i < l->n; i++) {
		tail_close(&l->f[i].cur);
		free(l->f[i].path);
		free(l->f[i].dir);
	}
	free(l->f);
	free(l->chunk);
	free(l->head);
	buf_release(&l->json);
	if (l->ifd >= 0)
		close(l->ifd);
	if (l->dirfd >= 0)
		close(l->dirfd);
	free(l);
}
