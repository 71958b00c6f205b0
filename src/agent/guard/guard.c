/* guard.c - one guarded tree: baseline, repair, rescan, publish and pause. */
#include "agent/guard/guard.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "agent/guard/lockmode.h"
#include "agent/inspect/inspect.h"
#include "agent/guard/restore.h"
#include "agent/guard/scan.h"
#include "agent/guard/store.h"
#include "agent/guard/syncer.h"
#include "core/log.h"
#include "core/path.h"
#include "core/timeutil.h"
#include "core/xalloc.h"
#include "tls/sha256.h"
#include "core/banned.h"

#define MAX_RECONCILE_DEPTH	64

char *
guard_id_for(const char *root)
{
	uint8_t d[SHA256_LEN];
	char hex[SHA256_HEX_LEN + 1];

	sha256_buf(root, strlen(root), d);
	sha256_to_hex(d, hex);
	hex[16] = '\0';
	return xstrdup(hex);
}

char *
guard_abs(const struct guard *g, const char *rel)
{
	return path_join_abs(g->root, rel);
}

static void
guard_emit(struct guard *g, struct event *ev)
{
	ev->guard = g->root;
	if (g->emit != NULL)
		g->emit(ev, g->emit_data);
}

static void
emit_simple(struct guard *g, enum event_type type, enum event_action action, const char *detail)
{
	struct event ev;

	event_init(&ev, type);
	ev.path = g->root;
	ev.action = action;
	ev.detail = detail;
	ev.files = 0;
	for (size_t i = 0; i < g->base.n; i++)
		ev.files += g->base.e[i].type == FT_REG;
	guard_emit(g, &ev);
}

static char *parent_of(const char *rel);

/* The parent we hold open is still what the root's parent path names (a
 * rename of any directory above the guard shows here). */
static bool
parent_intact(struct guard *g)
{
	char *parent = parent_of(g->root);
	struct stat a, b;
	bool ok;

	ok = g->parentfd >= 0 && fstat(g->parentfd, &a) == 0 &&
		stat(parent[0] != '\0' ? parent : "/", &b) == 0 && a.st_dev == b.st_dev &&
		a.st_ino == b.st_ino;
	free(parent);
	return ok;
}

/* Open the root's parent by path again, creating what is missing (mkdir -p,
 * 0755): the guarded path is what has to be right, wherever the old one went. */
static int
reopen_parent(struct guard *g)
{
	char *parent = parent_of(g->root), *p;
	int fd, r = 0;

	for (p = parent + 1; r == 0 && *p; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir(parent, 0755) < 0 && errno != EEXIST)
			r = -errno;
		*p = '/';
	}
	if (r == 0 && parent[0] != '\0' && mkdir(parent, 0755) < 0 && errno != EEXIST)
		r = -errno;
	fd = r == 0 ? open(parent[0] != '\0' ? parent : "/", O_PATH | O_DIRECTORY | O_CLOEXEC) : -1;
	if (r == 0 && fd < 0)
		r = -errno;
	free(parent);
	if (r < 0)
		return r;
	if (g->parentfd >= 0)
		close(g->parentfd);
	g->parentfd = fd;
	g->generation++;
	return 0;
}

bool
guard_root_intact(struct guard *g)
{
	struct stat a, b;

	if (!parent_intact(g))
		return false;
	if (g->rootfd < 0 || fstat(g->rootfd, &a) < 0)
		return false;
	if (fstatat(g->parentfd, g->rootname, &b, AT_SYMLINK_NOFOLLOW) < 0)
		return false;
	return a.st_dev == b.st_dev && a.st_ino == b.st_ino && S_ISDIR(b.st_mode);
}

static char *
guard_file(const struct guard *g, const char *name)
{
	return xasprintf("guards/%s/%s", g->id, name);
}

static int
guard_save(struct guard *g)
{
	char *name = guard_file(g, "baseline");
	int r;

	/* The blobs the baseline refers to must be on disk before it is. */
	r = store_sync(g->store);
	if (r == 0)
		r = baseline_save(&g->base, g->state_dirfd, name);
	free(name);
	return r;
}

static void
set_paused_marker(struct guard *g, bool paused, const char *who)
{
	char *name = guard_file(g, "paused");

	if (paused) {
		int fd = openat(g->state_dirfd, name, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW |
				O_CLOEXEC, 0600);

		if (fd >= 0) {
			dprintf(fd, "%s\n", who != NULL ? who : "");
			fsync(fd);
			close(fd);
		}
	} else {
		unlinkat(g->state_dirfd, name, 0);
	}
	free(name);
}

bool
guard_paused_by_window(const struct guard *g)
{
	char *name = guard_file(g, "paused"), buf[64] = "";
	int fd = openat(g->state_dirfd, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);

	free(name);
	if (fd < 0)
		return false;
	(void)!read(fd, buf, sizeof(buf) - 1);
	close(fd);
	return strncmp(buf, GUARD_WINDOW_WHO, strlen(GUARD_WINDOW_WHO)) == 0;
}

static bool
paused_marker(const struct guard *g)
{
	char *name = guard_file(g, "paused");
	bool paused = faccessat(g->state_dirfd, name, F_OK, AT_SYMLINK_NOFOLLOW) == 0;

	free(name);
	return paused;
}

static unsigned
quick_diff(const struct fentry *want, const struct fentry *cur)
{
	unsigned ch = 0;

	if (want->type != cur->type)
		return CH_TYPE;
	if (want->mode != cur->mode)
		ch |= CH_MODE;
	if (want->uid != cur->uid || want->gid != cur->gid)
		ch |= CH_OWNER;
	switch (want->type) {
	case FT_REG:
		if (want->size != cur->size)
			ch |= CH_CONTENT;
		if (want->mtime_ns != cur->mtime_ns)
			ch |= CH_MTIME;
		if (want->ino != cur->ino || want->ctime_ns != cur->ctime_ns)
			ch |= CH_INODE;	/* something happened: look closer */
		break;
	case FT_LNK:
		if (want->link == NULL || cur->link == NULL || strcmp(want->link, cur->link) != 0)
			ch |= CH_LINK;
		break;
	case FT_DIR:
		if (want->ino != cur->ino)
			ch |= CH_TYPE;	/* a different directory in its place */
		break;
	default:
		break;
	}
	return ch;
}

static char *
parent_of(const char *rel)
{
	const char *slash = strrchr(rel, '/');

	return slash != NULL ? xstrndup(rel, (size_t)(slash - rel)) : xstrdup("");
}

/* In lock mode, lift the attribute on the entry and its parent around a repair. */
static void
unlock_around(struct guard *g, const char *rel, bool on)
{
	char *parent;

	if (!g->lock || !g->lock_supported)
		return;
	parent = parent_of(rel);
	if (rel[0] != '\0')
		lock_path(g, parent, on);
	lock_path(g, rel, on);
	free(parent);
}

/* Hash (and keep as evidence in the store) the content open at fd. */
static bool
capture_evidence(struct guard *g, int fd, uint8_t hash[32])
{
	uint64_t size;
	struct stat st;
	bool stored;

	/* A tampered file can be made huge for free (truncate -s): keep evidence
	 * up to the store's cap, and never stall the loop reading more. */
	if (fd < 0 || fstat(fd, &st) < 0 || (uint64_t)st.st_size > store_max_bytes(g->store))
		return false;
	if (store_put_fd(g->store, fd, hash, &size, &stored) < 0)
		return false;
	syncer_sync_fs(g->state_dirfd);
	return true;
}

static void reconcile_at(struct guard *g, const char *rel, pid_t pid, int64_t noticed_ns,
	enum event_type type, unsigned depth);

static void
repair_root(struct guard *g, pid_t pid, int64_t noticed_ns, enum event_type type)
{
	struct fentry *want = baseline_find(&g->base, "");
	struct event ev;
	struct stat st;
	char *where = NULL;
	int r = 0;

	event_init(&ev, type);
	event_writer_from_pid(&ev.writer, pid);
	ev.path = g->root;
	if (!parent_intact(g)) {
		r = reopen_parent(g);
		if (r < 0) {
			ev.action = ACT_FAILED;
			ev.detail = strerror(-r);
			guard_emit(g, &ev);
			return;
		}
	}
	if (fstatat(g->parentfd, g->rootname, &st, AT_SYMLINK_NOFOLLOW) == 0) {
		/* Something else stands where the root was: a symlink, a file, another dir. */
		ev.changes = S_ISDIR(st.st_mode) ? CH_INODE : CH_TYPE;
		r = quarantine_entry(g, "", &where);
	} else {
		ev.changes = CH_REMOVED;
	}
	if (r == 0 && want != NULL)
		r = restore_entry(g, want);
	ev.action = r == 0 ? ACT_RECREATED : ACT_FAILED;
	ev.detail = r == 0 ? "guarded directory recreated and its content restored"
			   : strerror(-r);
	ev.quarantine = where;
	ev.latency_ns = now_monotonic_ns() - noticed_ns;
	if (r == 0)
		g->tampers++;
	guard_emit(g, &ev);
	free(where);
}

static void
reconcile_at(struct guard *g, const char *rel, pid_t pid, int64_t noticed_ns,
	enum event_type type, unsigned depth)
{
	struct fentry cur = { 0 }, *want;
	struct inspect_finding cf = { 0 };
	struct event ev;
	char *where = NULL, *abs = NULL;
	unsigned ch;
	int efd = -1, r;
	bool have_cur;

	if (depth > MAX_RECONCILE_DEPTH)
		return;
	if (!guard_root_intact(g)) {
		repair_root(g, pid, noticed_ns, type);
		return;
	}
	r = scan_one(g->rootfd, rel, false, NULL, &cur);
	if (r == -ELOOP || r == -ENOTDIR || r == -EXDEV) {
		/* A parent is no longer a directory (e.g. swapped for a symlink). */
		char *parent = parent_of(rel);

		if (rel[0] != '\0')
			reconcile_at(g, parent, pid, noticed_ns, type, depth + 1);
		free(parent);
		return;
	}
	if (r < 0 && r != -ENOENT)
		return;
	have_cur = r == 0;
	want = baseline_find(&g->base, rel);
	if (want == NULL && !have_cur)
		return;

	event_init(&ev, type);
	abs = guard_abs(g, rel);
	ev.path = abs;

	if (want == NULL) {
		/* Unauthorised new entry: its parent must be recorded, else the new
		 * entry is inside another new one, which is the one to move. */
		char *parent = parent_of(rel);

		if (rel[0] != '\0' && baseline_find(&g->base, parent) == NULL) {
			reconcile_at(g, parent, pid, noticed_ns, type, depth + 1);
			free(parent);
			goto out;
		}
		free(parent);
		ev.changes = CH_ADDED;
		if (cur.type == FT_REG)
			efd = openat_beneath(g->rootfd, rel, O_RDONLY | O_NOFOLLOW | O_NONBLOCK, 0);
		unlock_around(g, rel, false);
		r = quarantine_entry(g, rel, &where);
		unlock_around(g, rel, true);
		ev.latency_ns = now_monotonic_ns() - noticed_ns;
		/* The file itself is in quarantine; its hash goes in the event. */
		if (efd >= 0) {
			uint64_t size;

			ev.has_new_hash = sha256_fd(efd, ev.new_hash, &size) == 0;
		}
		ev.action = r == 0 ? ACT_QUARANTINED : ACT_FAILED;
		ev.quarantine = where;
		if (r < 0)
			ev.detail = strerror(-r);
		goto done;
	}

	if (!have_cur) {
		ev.changes = CH_REMOVED;
		unlock_around(g, rel, false);
		r = restore_entry(g, want);
		unlock_around(g, rel, true);
		ev.action = r == 0 ? (want->type == FT_DIR ? ACT_RECREATED : ACT_RESTORED)
				   : r == -ENODATA ? ACT_ALERTED : ACT_FAILED;
		goto repaired;
	}

	ch = quick_diff(want, &cur);
	if (cur.type == FT_REG && want->type == FT_REG && cur.nlink > 1) {
		/* A hard link to a guarded file lets writes arrive through a path we
		 * do not watch: give the guarded path a fresh inode of its own. */
		ch |= CH_INODE | CH_CONTENT;
	}
	if (ch == 0)
		goto out;
	if (want->type == FT_DIR && !(ch & (CH_TYPE | CH_MODE | CH_OWNER)))
		goto out;
	if (want->type == FT_REG && cur.type == FT_REG && !(ch & CH_CONTENT)) {
		/* Same size. Whatever else changed, only the content's hash says
		 * whether the content did, so a mode or owner change cannot hide it. */
		uint8_t h[32];
		struct stat est;

		efd = openat_beneath(g->rootfd, rel, O_RDONLY | O_NOFOLLOW | O_NONBLOCK, 0);
		if (efd < 0 || fstat(efd, &est) < 0 || est.st_ino != cur.ino ||
			!(want->flags & FE_HASHED) || sha256_fd(efd, h, NULL) < 0 ||
			memcmp(h, want->hash, 32) != 0)
			ch |= CH_CONTENT;
		if (!(ch & CH_CONTENT) && cur.ino == want->ino &&
			!(ch & (CH_MODE | CH_OWNER | CH_MTIME))) {
			/* Only the ctime moved (an attribute, a link count): nothing to undo. */
			want->ctime_ns = cur.ctime_ns;
			goto out;
		}
		if (!(ch & CH_CONTENT) && cur.ino != want->ino)
			ch |= CH_CONTENT;	/* another inode: ours is put back, never adopted */
	}
	ev.changes = ch & ~(unsigned)CH_INODE;
	if (ch & CH_TYPE) {
		unlock_around(g, rel, false);
		r = quarantine_entry(g, rel, &where);
		if (r == 0)
			r = restore_entry(g, want);
		unlock_around(g, rel, true);
		ev.quarantine = where;
		ev.action = r == 0 ? (want->type == FT_DIR ? ACT_RECREATED : ACT_RESTORED)
				   : r == -ENODATA ? ACT_ALERTED : ACT_FAILED;
		goto repaired;
	}
	if (ch & (CH_CONTENT | CH_LINK)) {
		if (efd < 0 && cur.type == FT_REG)
			efd = openat_beneath(g->rootfd, rel, O_RDONLY | O_NOFOLLOW | O_NONBLOCK, 0);
		unlock_around(g, rel, false);
		r = restore_entry(g, want);
		unlock_around(g, rel, true);
		ev.action = r == 0 ? ACT_RESTORED : r == -ENODATA ? ACT_ALERTED : ACT_FAILED;
		if (r == -ENODATA) {
			/* Alerted once for this state; the next change alerts again.
			 * The recorded hash stays, and is never reused for this file. */
			want->ino = cur.ino;
			want->size = cur.size;
			want->mtime_ns = cur.mtime_ns;
			want->ctime_ns = cur.ctime_ns;
			want->flags |= FE_DIVERGED;
		}
		goto repaired;
	}
	unlock_around(g, rel, false);
	r = restore_metadata(g, want, cur.ino);
	if (r == -ESTALE) {
		/* swapped between our look and our fix: put ours back whole */
		r = restore_entry(g, want);
		ev.changes |= CH_CONTENT;
	}
	unlock_around(g, rel, true);
	ev.action = r == 0 ? ACT_RESTORED : ACT_FAILED;

repaired:
	ev.latency_ns = now_monotonic_ns() - noticed_ns;
	if (want->flags & FE_HASHED) {
		ev.has_old_hash = true;
		memcpy(ev.old_hash, want->hash, 32);
	}
	/* The tampered content is evidence: keep it (after the restore, so the
	 * restore does not wait for it). */
	if (efd >= 0 && (ev.changes & CH_CONTENT)) {
		if (lseek(efd, 0, SEEK_SET) == 0)
			ev.has_new_hash = capture_evidence(g, efd, ev.new_hash);
	}
	if (r < 0 && r != -ENODATA)
		ev.detail = strerror(-r);
	else if (r == -ENODATA)
		ev.detail = want->size > store_max_bytes(g->store)
			? "the file is above the store size cap: alerted, not restored"
			: "the recorded content is not in the store (the state directory could "
			  "not take it when it was recorded): alerted, not restored";
done:
	if (ev.latency_ns == 0)
		ev.latency_ns = now_monotonic_ns() - noticed_ns;
	/* Who did it: read right after the repair, not before it (the kernel
	 * already named the pid; /proc adds its executable, command line, uid). */
	event_writer_from_pid(&ev.writer, pid);
	if (r == 0) {
		g->tampers++;
		g->last_tamper_ns = ev.time_ns;
	} else if (r != -ENODATA) {
		/* A repair that failed is tried again by the next rescan (the daemon
		 * runs one within a second). One that failed only because the tree
		 * was still changing under it (rm -rf racing us) is not news. */
		g->needs_rescan = true;
		if (r == -ENOENT)
			goto out;
	}
	/* Content inspection of the tampered content (still open at efd). */
	if (efd >= 0 && inspect_wants(rel, 0) && inspect_fd(g->inspector, efd, &cf) == 1) {
		ev.content_kind = cf.kind;
		ev.content_what = cf.what;
		ev.content_offset = cf.offset;
		ev.category = "information_content";
	}
	guard_emit(g, &ev);
out:
	if (efd >= 0)
		close(efd);
	fentry_release(&cur);
	free(where);
	free(abs);
}

void
guard_reconcile(struct guard *g, const char *rel, pid_t pid, int64_t noticed_ns)
{
	if (g->state != GUARD_READY)
		return;
	reconcile_at(g, rel, pid, noticed_ns, EV_TAMPER, 0);
}

/* The store could not take some contents: say so loudly, once per scan. */
static void
report_store_errors(struct guard *g, const struct scan_stats *st)
{
	struct event ev;
	char detail[300];

	if (st->store_errors == 0)
		return;
	snprintf(detail, sizeof(detail),
		"state directory: %s; %llu files could not be stored: their changes will be "
		"alerted, not restored", strerror(-st->store_error),
		(unsigned long long)st->store_errors);
	log_error("guard", "%s: %s", g->root, detail);
	event_init(&ev, EV_STATE_ERROR);
	ev.path = g->root;
	ev.action = ACT_ALERTED;
	ev.detail = detail;
	ev.count = st->store_errors;
	guard_emit(g, &ev);
}

static void
on_scan_problem(const char *rel, int err, void *data)
{
	struct guard *g = data;

	log_warn("guard", "%s: cannot read %s: %s", g->root, rel, strerror(-err));
}

/* Compare the tree with the baseline; repair each difference as an event of type. */
static uint64_t
repair_differences(struct guard *g, enum event_type type)
{
	struct scan_opts opts = { .reuse = &g->base, .store = g->store };
	struct baseline cur = { 0 };
	struct scan_stats st;
	uint64_t repairs = 0;
	size_t i = 0, k = 0;
	char **todo = NULL;
	size_t ntodo = 0, cap = 0;
	int r;

	if (!guard_root_intact(g)) {
		repair_root(g, 0, now_monotonic_ns(), type);
		return 1;
	}
	r = tree_scan(g->root, &opts, &cur, &st, on_scan_problem, g);
	if (r < 0) {
		log_error("guard", "%s: rescan failed: %s", g->root, strerror(-r));
		return 0;
	}
	report_store_errors(g, &st);
	/* Collect the paths first: repairs change the tree and the baseline. */
	while (i < g->base.n || k < cur.n) {
		int cmp = i == g->base.n ? 1 : k == cur.n ? -1 : strcmp(g->base.e[i].path, cur.e[k].path);
		const char *path;

		if (cmp == 0) {
			unsigned ch = fentry_diff(&g->base.e[i], &cur.e[k]);

			if (g->base.e[i].type == FT_DIR)
				ch &= ~(unsigned)(CH_MTIME | CH_INODE);
			path = ch != 0 ? g->base.e[i].path : NULL;
			i++;
			k++;
		} else if (cmp < 0) {
			path = g->base.e[i++].path;
		} else {
			path = cur.e[k++].path;
		}
		if (path == NULL)
			continue;
		todo = xgrow(todo, &cap, ntodo + 1, sizeof(*todo));
		todo[ntodo++] = xstrdup(path);
	}
	baseline_release(&cur);
	for (size_t t = 0; t < ntodo; t++) {
		uint64_t before = g->tampers;

		reconcile_at(g, todo[t], 0, now_monotonic_ns(), type, 0);
		repairs += g->tampers - before;
		free(todo[t]);
	}
	free(todo);
	return repairs;
}

uint64_t
guard_rescan(struct guard *g, enum event_type type, const char *reason)
{
	struct event ev;
	char detail[160];
	uint64_t n;
	int64_t t0 = now_monotonic_ns();

	if (g->state == GUARD_PAUSED)
		return 0;
	n = repair_differences(g, type == EV_RESCAN ? EV_TAMPER : type);
	event_init(&ev, EV_RESCAN);
	ev.path = g->root;
	ev.count = n > 0 ? n : 1;
	snprintf(detail, sizeof(detail), "%s: %llu repaired", reason, (unsigned long long)n);
	ev.detail = detail;
	ev.latency_ns = now_monotonic_ns() - t0;
	if (type == EV_RESCAN || n > 0)
		guard_emit(g, &ev);
	return n;
}

static int
open_root(struct guard *g)
{
	char *parent = parent_of(g->root);

	g->parentfd = open(parent[0] != '\0' ? parent : "/", O_PATH | O_DIRECTORY | O_CLOEXEC);
	free(parent);
	if (g->parentfd < 0)
		return -errno;
	g->rootfd = openat(g->parentfd, g->rootname, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (g->rootfd < 0)
		return errno == ENOTDIR ? -ELOOP : -errno;
	return 0;
}

int
guard_open(struct guard *g, const char *root, int state_dirfd, int quarantine_dirfd,
	struct store *store, bool lock, guard_emit_fn emit, void *emit_data)
{
	struct scan_opts opts = { .store = store };
	struct scan_stats st;
	char *dir = NULL, *name = NULL;
	const char *slash;
	int r, rr;

	{
		/* the one field set before guard_open (start-up repairs use it) */
		const struct inspector *in = g->inspector;

		memset(g, 0, sizeof(*g));
		g->inspector = in;
	}
	g->parentfd = g->rootfd = -1;
	g->root = xstrdup(root);
	slash = strrchr(root, '/');
	g->rootname = xstrdup(slash != NULL && slash[1] != '\0' ? slash + 1 : root);
	g->id = guard_id_for(root);
	g->state_dirfd = state_dirfd;
	g->quarantine_dirfd = quarantine_dirfd;
	g->store = store;
	g->lock = lock;
	g->emit = emit;
	g->emit_data = emit_data;
	g->state = GUARD_STARTING;

	dir = xasprintf("guards/%s", g->id);
	mkdirat(state_dirfd, "guards", 0700);
	if (mkdirat(state_dirfd, dir, 0700) < 0 && errno != EEXIST) {
		r = -errno;
		goto out;
	}
	name = guard_file(g, "baseline");
	rr = open_root(g);
	r = baseline_load(state_dirfd, name, &g->base);
	if (r == -ENOENT) {
		/* First start: the tree as it is now is the baseline. */
		if (rr < 0) {
			r = rr;
			goto out;
		}
		r = tree_scan(g->root, &opts, &g->base, &st, on_scan_problem, g);
		if (r < 0)
			goto out;
		report_store_errors(g, &st);
		if (st.not_stored > st.store_errors)
			log_warn("guard", "%s: %llu files are above the store size cap: their changes "
				"are alerted, not restored", g->root,
				(unsigned long long)(st.not_stored - st.store_errors));
		r = guard_save(g);
		if (r < 0)
			goto out;
	} else if (r < 0) {
		goto out;
	} else {
		if (strcmp(g->base.root, g->root) != 0) {
			r = -EBADMSG;
			goto out;
		}
		if (paused_marker(g)) {
			g->state = GUARD_PAUSED;
			if (rr < 0)
				r = rr;
			goto out;
		}
		if (rr < 0 && rr != -ENOENT && rr != -ELOOP && rr != -ENOTDIR) {
			r = rr;
			goto out;
		}
		/* Whatever changed while we were down is repaired now, as drift
		 * (with the immutable attribute of an earlier --lock run lifted, or
		 * the repairs would fail; lock mode sets it again below). */
		g->state = GUARD_READY;
		lock_tree(g, false);
		if (rr < 0)
			repair_root(g, 0, now_monotonic_ns(), EV_DRIFT);
		repair_differences(g, EV_DRIFT);
		r = guard_save(g);
		if (r < 0)
			goto out;
	}
	g->dev = 0;
	{
		struct stat sb;

		if (fstat(g->rootfd, &sb) == 0)
			g->dev = sb.st_dev;
	}
	if (g->lock) {
		rr = lock_tree(g, true);
		g->lock_supported = rr != -EOPNOTSUPP;
		if (rr == -EOPNOTSUPP)
			emit_simple(g, EV_GUARD_ERROR, ACT_NONE,
				"lock mode: this filesystem has no immutable attribute; guarding by "
				"restore only");
	}
	g->state = GUARD_READY;
	r = 0;
out:
	free(dir);
	free(name);
	return r;
}

void
guard_close(struct guard *g)
{
	if (g->rootfd >= 0)
		close(g->rootfd);
	if (g->parentfd >= 0)
		close(g->parentfd);
	if (g->base.root != NULL)
		baseline_release(&g->base);
	free(g->root);
	free(g->rootname);
	free(g->id);
	memset(g, 0, sizeof(*g));
	g->rootfd = g->parentfd = -1;
}

/* Directory mtimes and inode numbers are not part of what a publish copies. */
static unsigned
publish_diff(const struct fentry *live, const struct fentry *want)
{
	unsigned ch = fentry_diff(live, want) & ~(unsigned)CH_INODE;

	if (want != NULL && want->type == FT_DIR)
		ch &= ~(unsigned)CH_MTIME;
	return ch;
}

/* One pass of making the live tree equal src: remove what src does not have
 * (deepest first), then write what differs (parents first). Returns the
 * number of differences found, or -errno. */
static int
sync_pass(struct guard *g, const struct baseline *src, const struct baseline *live,
	uint64_t *added, uint64_t *changed, uint64_t *removed)
{
	int n = 0, r;

	for (size_t i = live->n; i-- > 0;) {
		const struct fentry *e = &live->e[i];
		const struct fentry *s = baseline_find(src, e->path);
		const char *name;
		int pfd;

		if (e->path[0] == '\0' || (s != NULL && s->type == e->type))
			continue;
		pfd = openat_parent_beneath(g->rootfd, e->path, &name);
		if (pfd < 0)
			continue;	/* its parent went first */
		r = remove_tree(pfd, name, 0);
		close(pfd);
		if (r < 0)
			return r;
		n++;
		if (s == NULL && removed != NULL)
			(*removed)++;
	}
	for (size_t i = 0; i < src->n; i++) {
		struct fentry *s = &src->e[i];
		const struct fentry *e = baseline_find(live, s->path);

		if (e != NULL && e->type != s->type)
			e = NULL;	/* removed above */
		if (e != NULL && publish_diff(e, s) == 0)
			continue;
		if (e != NULL && (s->type == FT_DIR || !(publish_diff(e, s) & (CH_CONTENT | CH_LINK))))
			r = restore_metadata(g, s, e->ino);
		else
			r = restore_entry(g, s);
		if (r < 0 && r != -EOPNOTSUPP)
			return r;
		n++;
		if (e == NULL && added != NULL)
			(*added)++;
		else if (e != NULL && changed != NULL)
			(*changed)++;
	}
	return n;
}

/* Inspect every regular file of cand (under dir) whose content differs from
 * the baseline; on a finding emit content_blocked and return
 * GUARD_CONTENT_BLOCKED. Files that cannot be read are left to the publish. */
static int
publish_inspect(struct guard *g, const char *dir, const struct baseline *cand, const char *who)
{
	for (size_t i = 0; i < cand->n; i++) {
		const struct fentry *e = &cand->e[i];
		const struct fentry *b = baseline_find(&g->base, e->path);
		struct inspect_finding f;
		struct event ev;
		char detail[1024], *abs;
		int r;

		if (e->type != FT_REG || !inspect_wants(e->path, e->size))
			continue;
		if (b != NULL && b->type == FT_REG && (b->flags & FE_HASHED) && (e->flags & FE_HASHED) &&
			memcmp(b->hash, e->hash, 32) == 0)
			continue;	/* unchanged */
		abs = xasprintf("%s/%s", dir, e->path);
		r = inspect_file(g->inspector, AT_FDCWD, abs, &f);
		if (r != 1) {
			free(abs);
			continue;
		}
		event_init(&ev, EV_CONTENT_BLOCKED);
		ev.path = abs;
		ev.action = ACT_BLOCKED;
		ev.content_kind = f.kind;
		ev.content_what = f.what;
		ev.content_offset = f.offset;
		ev.category = "information_content";
		snprintf(detail, sizeof(detail), "publish by %s refused: %s \"%s\" at offset %llu",
			who != NULL ? who : "unknown", f.kind, f.what, (unsigned long long)f.offset);
		ev.detail = detail;
		guard_emit(g, &ev);
		free(abs);
		return GUARD_CONTENT_BLOCKED;
	}
	return 0;
}

int
guard_publish(struct guard *g, const char *from, const char *who)
{
	struct scan_opts opts = { .store = g->store };
	struct baseline src = { 0 }, next = { 0 };
	struct event ev;
	uint64_t added = 0, changed = 0, removed = 0;
	enum guard_state was = g->state;
	bool touched = false;
	char detail[1024];
	int r;

	if (from == NULL && g->state != GUARD_PAUSED)
		return -EALREADY;
	g->state = GUARD_PAUSED;
	/* A tree may still be immutable from an earlier --lock run: lift it
	 * whatever this agent's mode, or nothing can be written. */
	lock_tree(g, false);
	if (from != NULL) {
		/* Store the new content first: if that fails, nothing has changed. */
		struct scan_stats sst;

		r = tree_scan(from, &opts, &src, &sst, on_scan_problem, g);
		if (r < 0)
			goto out;
		for (size_t i = 0; i < src.n; i++) {
			if (src.e[i].type == FT_REG && !(src.e[i].flags & FE_STORED)) {
				/* what is published must be restorable */
				r = sst.store_error < 0 ? sst.store_error : -EFBIG;
				goto out;
			}
		}
		r = store_sync(g->store);
		if (r < 0)
			goto out;
		r = publish_inspect(g, from, &src, who);
		if (r < 0)
			goto out;
	}
	/* Make the tree equal src, then check: whatever else was written in the
	 * meantime is corrected by the next pass. */
	for (int pass = 0; pass < 4; pass++) {
		opts.reuse = &g->base;
		if (next.root != NULL)
			baseline_release(&next);
		memset(&next, 0, sizeof(next));
		r = tree_scan(g->root, &opts, &next, NULL, on_scan_problem, g);
		if (r < 0)
			goto out;
		if (from == NULL)
			break;
		r = sync_pass(g, &src, &next, pass == 0 ? &added : NULL,
			pass == 0 ? &changed : NULL, pass == 0 ? &removed : NULL);
		if (r < 0)
			goto out;
		if (r == 0)
			break;
		touched = true;
		if (pass == 3) {
			r = -EAGAIN;	/* someone keeps writing: do not bless it */
			goto out;
		}
	}
	if (from == NULL) {
		r = publish_inspect(g, g->root, &next, who);
		if (r < 0)
			goto out;
		for (size_t i = 0; i < next.n; i++) {
			struct fentry *e = baseline_find(&g->base, next.e[i].path);

			if (e == NULL)
				added++;
			else if (publish_diff(e, &next.e[i]) != 0)
				changed++;
		}
		for (size_t i = 0; i < g->base.n; i++)
			removed += baseline_find(&next, g->base.e[i].path) == NULL;
	}
	baseline_swap(&g->base, &next);
	r = guard_save(g);
	if (r < 0) {
		baseline_swap(&g->base, &next);	/* keep the old baseline in memory too */
		goto out;
	}
	touched = false;
	g->generation++;
	was = GUARD_READY;
	set_paused_marker(g, false, NULL);
	event_init(&ev, EV_PUBLISH);
	ev.path = g->root;
	ev.action = ACT_ACCEPTED;
	ev.files = 0;
	for (size_t i = 0; i < g->base.n; i++)
		ev.files += g->base.e[i].type == FT_REG;
	snprintf(detail, sizeof(detail), "by %s%s%s: %llu added, %llu changed, %llu removed",
		who != NULL ? who : "unknown", from != NULL ? " from " : " (accepted in place)",
		from != NULL ? from : "", (unsigned long long)added, (unsigned long long)changed,
		(unsigned long long)removed);
	ev.detail = detail;
	ev.count = added + changed + removed;
	guard_emit(g, &ev);
	r = 0;
out:
	if (touched) {
		/* Half-published: put the recorded tree back, so what is online
		 * always matches a baseline. */
		g->state = GUARD_READY;
		repair_differences(g, EV_TAMPER);
	}
	if (g->lock && g->lock_supported)
		lock_tree(g, true);
	g->state = was;
	if (src.root != NULL)
		baseline_release(&src);
	if (next.root != NULL)
		baseline_release(&next);
	return r;
}

int
guard_pause(struct guard *g, const char *who)
{
	char detail[300];

	if (g->state == GUARD_PAUSED)
		return -EALREADY;
	g->state = GUARD_PAUSED;
	set_paused_marker(g, true, who);
	lock_tree(g, false);
	snprintf(detail, sizeof(detail), "by %s", who != NULL ? who : "unknown");
	emit_simple(g, EV_PAUSE, ACT_NONE, detail);
	return 0;
}

int
guard_resume(struct guard *g, const char *who)
{
	char detail[300];
	uint64_t n;

	if (g->state != GUARD_PAUSED)
		return -EALREADY;
	g->state = GUARD_READY;
	set_paused_marker(g, false, NULL);
	n = repair_differences(g, EV_TAMPER);
	if (g->lock && g->lock_supported)
		lock_tree(g, true);
	snprintf(detail, sizeof(detail), "by %s: %llu changes made during the pause undone",
		who != NULL ? who : "unknown", (unsigned long long)n);
	emit_simple(g, EV_RESUME, ACT_RESTORED, detail);
	return 0;
}
