/*
 * tamper_latency.c - tamper-to-restored latency of whatever guards DIR.
 *
 *   tamper_latency gen DIR [N]          write N (default 1000) files of 1-64 KiB
 *   tamper_latency measure DIR [OPTIONS] tamper with DIR's files, time the repair
 *   tamper_latency peer DIR             the peer: a bare inotify-and-rewrite loop
 *
 * measure options:
 *   --count N       tampers per kind (default 1000), files used round-robin
 *   --warmup N      unrecorded tampers per kind first (default 10)
 *   --kinds LIST    comma list of modify,chmod,delete,create,symlink (default all)
 *   --pace-us U     pause after each repair (default 2000)
 *   --timeout-ms T  give up on one tamper after T ms (default 2000)
 *   --loose         do not require the original mtime (the peer does not keep it)
 *   --peer          fork the peer restorer on DIR first (implies --loose)
 *   --from-return   time from the return of the tamper's last syscall instead
 *
 * A tamper's latency runs from just before its first visible syscall (open
 * O_TRUNC, chmod, unlink, open O_CREAT, rename of a symlink over the file) to
 * the moment lstat() first shows the path back in its original state (type,
 * mode, owner, size and, unless --loose, mtime; then the content is compared,
 * outside the timed span). Timing from the syscall's return instead reads
 * near zero whenever the woken restorer preempts the tamperer and finishes
 * before the syscall returns to it, which on a small machine is most of the time. The measurer sleeps in poll() on an inotify watch of DIR and
 * re-checks on every event, so it costs no CPU while it waits.
 *
 * Output: one human line per kind, and one machine line per kind:
 *   RESULT kind ok timeouts skipped p50_us p99_us max_us mean_us
 *
 * Build: cc -O2 -std=c17 -o tamper_latency tamper_latency.c -lm
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#ifndef SAFETY_MS
#define SAFETY_MS 5
#endif

struct file {
	char		*name;
	unsigned char	*data;
	size_t		 size;
	mode_t		 mode;
	uid_t		 uid;
	gid_t		 gid;
	struct timespec	 mtime;
};

static struct file *files;
static size_t nfiles;
static int dfd = -1;
static unsigned char *scratch;
static size_t scratch_size;

enum kind { K_MODIFY, K_CHMOD, K_DELETE, K_CREATE, K_SYMLINK, K_COUNT };
static const char *kind_name[K_COUNT] = { "modify", "chmod", "delete", "create", "symlink" };

static void
die(const char *what)
{
	fprintf(stderr, "tamper_latency: %s: %s\n", what, strerror(errno));
	exit(2);
}

static double
now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e6 + (double)ts.tv_nsec / 1e3;
}

static uint64_t
splitmix64(uint64_t *s)
{
	uint64_t z = (*s += 0x9e3779b97f4a7c15ull);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

static int
write_all(int fd, const void *p, size_t n)
{
	const unsigned char *c = p;

	while (n > 0) {
		ssize_t w = write(fd, c, n);

		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0)
			return -1;
		c += w;
		n -= (size_t)w;
	}
	return 0;
}

/* ---- gen ---- */

static int
gen_main(const char *dir, size_t n)
{
	uint64_t seed = 42;

	if (mkdir(dir, 0755) < 0 && errno != EEXIST)
		die(dir);
	dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd < 0)
		die(dir);
	scratch = malloc(65536);
	if (scratch == NULL)
		die("malloc");
	for (size_t i = 0; i < n; i++) {
		double u = (double)(splitmix64(&seed) >> 11) * (1.0 / 9007199254740992.0);
		size_t size = (size_t)exp(log(1024.0) + u * (log(65536.0) - log(1024.0)));
		uint64_t s = 0xfeed0000ull + i;
		char name[64];
		int fd;

		for (size_t k = 0; k < size; k += 8) {
			uint64_t v = splitmix64(&s);

			memcpy(scratch + k, &v, size - k < 8 ? size - k : 8);
		}
		snprintf(name, sizeof(name), "p%05zu.html", i);
		fd = openat(dfd, name, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
		if (fd < 0 || write_all(fd, scratch, size) < 0 || close(fd) < 0)
			die(name);
	}
	printf("tamper_latency: %zu files of 1-64 KiB in %s\n", n, dir);
	return 0;
}

/* ---- loading and checking ---- */

static int
cmp_file(const void *a, const void *b)
{
	return strcmp(((const struct file *)a)->name, ((const struct file *)b)->name);
}

static ssize_t
read_at(const char *name, unsigned char *buf, size_t cap)
{
	int fd = openat(dfd, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	size_t got = 0;

	if (fd < 0)
		return -1;
	while (got < cap) {
		ssize_t r = read(fd, buf + got, cap - got);

		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			break;
		got += (size_t)r;
	}
	close(fd);
	return (ssize_t)got;
}

static void
load(const char *dir)
{
	size_t cap = 0;
	DIR *d;
	struct dirent *de;

	dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd < 0)
		die(dir);
	d = opendir(dir);
	if (d == NULL)
		die(dir);
	while ((de = readdir(d)) != NULL) {
		struct stat st;
		struct file *f;

		if (de->d_name[0] == '.')
			continue;
		if (fstatat(dfd, de->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0 || !S_ISREG(st.st_mode))
			continue;
		if (nfiles == cap) {
			cap = cap ? cap * 2 : 1024;
			files = realloc(files, cap * sizeof(*files));
			if (files == NULL)
				die("realloc");
		}
		f = &files[nfiles];
		f->name = strdup(de->d_name);
		f->size = (size_t)st.st_size;
		f->mode = st.st_mode & 07777;
		f->uid = st.st_uid;
		f->gid = st.st_gid;
		f->mtime = st.st_mtim;
		f->data = malloc(f->size + 1);
		if (f->name == NULL || f->data == NULL)
			die("malloc");
		if (read_at(f->name, f->data, f->size + 1) != (ssize_t)f->size) {
			fprintf(stderr, "tamper_latency: %s changed while loading\n", f->name);
			exit(2);
		}
		if (f->size + 1 > scratch_size)
			scratch_size = f->size + 1;
		nfiles++;
	}
	closedir(d);
	if (nfiles == 0) {
		fprintf(stderr, "tamper_latency: no regular files in %s\n", dir);
		exit(2);
	}
	qsort(files, nfiles, sizeof(*files), cmp_file);
	scratch = malloc(scratch_size);
	if (scratch == NULL)
		die("malloc");
}

static bool
content_equal(const struct file *f)
{
	return read_at(f->name, scratch, f->size + 1) == (ssize_t)f->size &&
		memcmp(scratch, f->data, f->size) == 0;
}

/* Is f back to its original state? *t1 is when lstat() first showed it so. */
static bool
is_original(const struct file *f, bool strict, double *t1, ino_t *ino)
{
	struct stat st;
	double t;

	if (fstatat(dfd, f->name, &st, AT_SYMLINK_NOFOLLOW) < 0)
		return false;
	t = now_us();
	if (!S_ISREG(st.st_mode) || (st.st_mode & 07777) != f->mode || (size_t)st.st_size != f->size ||
		st.st_uid != f->uid || st.st_gid != f->gid)
		return false;
	if (strict && (st.st_mtim.tv_sec != f->mtime.tv_sec || st.st_mtim.tv_nsec != f->mtime.tv_nsec))
		return false;
	if (!content_equal(f))
		return false;
	if (t1 != NULL)
		*t1 = t;
	if (ino != NULL)
		*ino = st.st_ino;
	return true;
}

static bool
is_gone(const char *name, double *t1)
{
	struct stat st;

	if (fstatat(dfd, name, &st, AT_SYMLINK_NOFOLLOW) == 0 || errno != ENOENT)
		return false;
	*t1 = now_us();
	return true;
}

/* ---- the peer: a bare inotify-and-rewrite loop ---- */

static ssize_t
find_file(const char *name)
{
	size_t lo = 0, hi = nfiles;

	while (lo < hi) {
		size_t mid = (lo + hi) / 2;
		int c = strcmp(name, files[mid].name);

		if (c == 0)
			return (ssize_t)mid;
		if (c < 0)
			hi = mid;
		else
			lo = mid + 1;
	}
	return -1;
}

static void
peer_write_new(const struct file *f)
{
	int fd = openat(dfd, f->name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, f->mode);

	if (fd < 0)
		return;
	write_all(fd, f->data, f->size);
	fchmod(fd, f->mode);
	close(fd);
}

static void
peer_repair(const struct file *f)
{
	struct stat st;

	if (fstatat(dfd, f->name, &st, AT_SYMLINK_NOFOLLOW) < 0) {
		if (errno == ENOENT)
			peer_write_new(f);
		return;
	}
	if (!S_ISREG(st.st_mode)) {
		if (unlinkat(dfd, f->name, S_ISDIR(st.st_mode) ? AT_REMOVEDIR : 0) == 0)
			peer_write_new(f);
		return;
	}
	if ((size_t)st.st_size != f->size || !content_equal(f)) {
		int fd = openat(dfd, f->name, O_WRONLY | O_TRUNC | O_NOFOLLOW | O_CLOEXEC);

		if (fd >= 0) {
			write_all(fd, f->data, f->size);
			close(fd);
		}
	}
	if ((st.st_mode & 07777) != f->mode)
		fchmodat(dfd, f->name, f->mode, 0);
}

static void
peer_loop(const char *dir, int readyfd)
{
	char buf[65536] __attribute__((aligned(__alignof__(struct inotify_event))));
	size_t *dirty = malloc(nfiles * sizeof(*dirty)), ndirty;
	unsigned char *is_dirty = calloc(nfiles, 1);
	int ifd = inotify_init1(IN_CLOEXEC);

	if (dirty == NULL || is_dirty == NULL)
		die("malloc");
	if (ifd < 0 || inotify_add_watch(ifd, dir, IN_MODIFY | IN_CLOSE_WRITE | IN_ATTRIB |
			IN_DELETE | IN_CREATE | IN_MOVED_TO | IN_MOVED_FROM) < 0)
		die("inotify");
	if (readyfd >= 0) {
		write_all(readyfd, "r", 1);
		close(readyfd);
	}
	for (;;) {
		ssize_t len = read(ifd, buf, sizeof(buf));

		if (len < 0 && errno == EINTR)
			continue;
		if (len <= 0)
			die("read inotify");
		ndirty = 0;
		for (char *p = buf; p < buf + len;) {
			const struct inotify_event *ev = (const void *)p;
			ssize_t i;

			p += sizeof(*ev) + ev->len;
			if (ev->len == 0)
				continue;
			i = find_file(ev->name);
			if (i < 0) {
				/* An intruder: delete it. */
				if (ev->mask & (IN_CREATE | IN_MOVED_TO))
					unlinkat(dfd, ev->name, (ev->mask & IN_ISDIR) ? AT_REMOVEDIR : 0);
				continue;
			}
			if (!is_dirty[i]) {
				is_dirty[i] = 1;
				dirty[ndirty++] = (size_t)i;
			}
		}
		for (size_t k = 0; k < ndirty; k++) {
			peer_repair(&files[dirty[k]]);
			is_dirty[dirty[k]] = 0;
		}
	}
}

/* ---- measure ---- */

struct result {
	double	*lat;
	size_t	 n, timeouts, skipped, inplace;
};

static int ifd = -1;

static void
drain(void)
{
	char buf[16384] __attribute__((aligned(__alignof__(struct inotify_event))));

	while (read(ifd, buf, sizeof(buf)) > 0)
		;
}

/* Sleep in poll() until an event on DIR, at most until deadline. */
static void
wait_event(double deadline)
{
	double left = deadline - now_us();
	struct pollfd p = { .fd = ifd, .events = POLLIN };
	int ms = left <= 0 ? 0 : (int)(left / 1000) + 1;

	if (ms > SAFETY_MS)
		ms = SAFETY_MS;	/* a safety net only: every repair makes an event */
	poll(&p, 1, ms);
	drain();
}

static int
cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static double
pct(const double *v, size_t n, double q)
{
	size_t r = (size_t)ceil(q * (double)n);

	if (n == 0)
		return NAN;
	if (r < 1)
		r = 1;
	if (r > n)
		r = n;
	return v[r - 1];
}

static void
run_kind(enum kind k, size_t count, size_t warmup, unsigned pace_us, unsigned timeout_ms,
	bool strict, bool from_start, int stagefd, struct result *res)
{
	static const char payload[] = "<html><body><h1>defaced</h1></body></html>\n";
	size_t consecutive_timeouts = 0;

	res->lat = malloc((count + 1) * sizeof(double));
	if (res->lat == NULL)
		die("malloc");
	for (size_t it = 0; it < warmup + count; it++) {
		const struct file *f = &files[it % nfiles];
		bool record = it >= warmup, ok = false;
		double t0, t_start, t1 = 0, deadline;
		ino_t tampered_ino = 0, restored_ino = 0;
		char newname[96];
		int fd;

		/* Start from the original state, or skip this file. */
		deadline = now_us() + timeout_ms * 1000.0;
		while (k != K_CREATE && !is_original(f, strict, NULL, NULL) && now_us() < deadline)
			wait_event(deadline);
		if (k != K_CREATE && !is_original(f, strict, NULL, &tampered_ino)) {
			if (record)
				res->skipped++;
			continue;
		}
		drain();

		if (k == K_SYMLINK) {
			/* Made outside DIR: only the rename below is seen there. */
			unlinkat(stagefd, "link", 0);
			if (symlinkat("/etc/passwd", stagefd, "link") < 0)
				die("symlink");
		} else if (k == K_CREATE) {
			snprintf(newname, sizeof(newname), "zz-intruder-%d-%05zu.php", (int)getpid(), it);
		}
		t_start = now_us();
		switch (k) {
		case K_MODIFY:
			/* Same inode: tampered_ino is the original's. */
			fd = openat(dfd, f->name, O_WRONLY | O_TRUNC | O_NOFOLLOW | O_CLOEXEC);
			if (fd < 0) {
				if (record)
					res->skipped++;
				continue;
			}
			write_all(fd, payload, sizeof(payload) - 1);
			close(fd);
			break;
		case K_CHMOD:
			if (fchmodat(dfd, f->name, f->mode == 0777 ? 0600 : 0777, 0) < 0) {
				if (record)
					res->skipped++;
				continue;
			}
			break;
		case K_DELETE:
			if (unlinkat(dfd, f->name, 0) < 0) {
				if (record)
					res->skipped++;
				continue;
			}
			break;
		case K_CREATE:
			fd = openat(dfd, newname, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
			if (fd < 0) {
				if (record)
					res->skipped++;
				continue;
			}
			write_all(fd, "<?php system($_GET['c']); ?>\n", 29);
			close(fd);
			break;
		case K_SYMLINK:
			if (renameat(stagefd, "link", dfd, f->name) < 0) {
				if (record)
					res->skipped++;
				continue;
			}
			break;
		default:
			abort();
		}
		t0 = now_us();
		if (from_start)
			t0 = t_start;

		deadline = t0 + timeout_ms * 1000.0;
		for (;;) {
			ok = k == K_CREATE ? is_gone(newname, &t1)
					   : is_original(f, strict, &t1, &restored_ino);
			if (ok || now_us() >= deadline)
				break;
			wait_event(deadline);
		}
		if (!ok) {
			if (k == K_CREATE)
				unlinkat(dfd, newname, 0);
			if (record)
				res->timeouts++;
			if (++consecutive_timeouts >= 5) {
				fprintf(stderr, "tamper_latency: %s: 5 tampers in a row not repaired "
						"within %u ms, giving up on this kind\n",
					kind_name[k], timeout_ms);
				break;
			}
			continue;
		}
		consecutive_timeouts = 0;
		if (record) {
			res->lat[res->n++] = t1 > t0 ? t1 - t0 : 0;
			if (k == K_MODIFY && restored_ino == tampered_ino)
				res->inplace++;
		}
		if (pace_us > 0)
			usleep(pace_us);
	}
	qsort(res->lat, res->n, sizeof(double), cmp_double);
}

static pid_t peer_pid = -1;

static void
stop_peer(void)
{
	if (peer_pid > 0) {
		kill(peer_pid, SIGTERM);
		waitpid(peer_pid, NULL, 0);
		peer_pid = -1;
	}
}

static void
on_signal(int sig)
{
	if (peer_pid > 0)
		kill(peer_pid, SIGTERM);
	signal(sig, SIG_DFL);
	raise(sig);
}

static int
measure_main(const char *dir, int argc, char **argv)
{
	size_t count = 1000, warmup = 10;
	unsigned pace_us = 2000, timeout_ms = 2000;
	bool strict = true, peer = false, from_start = true, want[K_COUNT] = { true, true, true, true, true };
	struct result res[K_COUNT] = { 0 };
	char stage[4096];
	int stagefd;

	for (int i = 0; i < argc; i++) {
		const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;

		if (strcmp(a, "--loose") == 0) {
			strict = false;
		} else if (strcmp(a, "--peer") == 0) {
			peer = true;
			strict = false;
		} else if (strcmp(a, "--from-return") == 0) {
			from_start = false;
		} else if (v == NULL) {
			fprintf(stderr, "tamper_latency: %s needs a value\n", a);
			return 2;
		} else if (strcmp(a, "--count") == 0) {
			count = strtoul(v, NULL, 10), i++;
		} else if (strcmp(a, "--warmup") == 0) {
			warmup = strtoul(v, NULL, 10), i++;
		} else if (strcmp(a, "--pace-us") == 0) {
			pace_us = (unsigned)strtoul(v, NULL, 10), i++;
		} else if (strcmp(a, "--timeout-ms") == 0) {
			timeout_ms = (unsigned)strtoul(v, NULL, 10), i++;
		} else if (strcmp(a, "--kinds") == 0) {
			char *list = strdup(v), *save = NULL;

			memset(want, 0, sizeof(want));
			for (char *t = strtok_r(list, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
				int found = 0;

				for (int k = 0; k < K_COUNT; k++)
					if (strcmp(t, kind_name[k]) == 0)
						want[k] = true, found = 1;
				if (!found) {
					fprintf(stderr, "tamper_latency: unknown kind %s\n", t);
					return 2;
				}
			}
			free(list);
			i++;
		} else {
			fprintf(stderr, "tamper_latency: unknown option %s\n", a);
			return 2;
		}
	}

	load(dir);
	snprintf(stage, sizeof(stage), "%s.stage", dir);
	if (mkdir(stage, 0755) < 0 && errno != EEXIST)
		die(stage);
	stagefd = open(stage, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (stagefd < 0)
		die(stage);

	if (peer) {
		int pfd[2];
		char c;

		if (pipe2(pfd, O_CLOEXEC) < 0)
			die("pipe");
		peer_pid = fork();
		if (peer_pid < 0)
			die("fork");
		if (peer_pid == 0) {
			close(pfd[0]);
			prctl(PR_SET_PDEATHSIG, SIGTERM);
			peer_loop(dir, pfd[1]);
			_exit(0);
		}
		close(pfd[1]);
		signal(SIGINT, on_signal);
		signal(SIGTERM, on_signal);
		if (read(pfd[0], &c, 1) != 1) {
			fprintf(stderr, "tamper_latency: the peer did not start\n");
			return 2;
		}
		close(pfd[0]);
	}

	ifd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
	if (ifd < 0 || inotify_add_watch(ifd, dir, IN_MODIFY | IN_CLOSE_WRITE | IN_ATTRIB |
			IN_DELETE | IN_CREATE | IN_MOVED_TO | IN_MOVED_FROM) < 0)
		die("inotify");

	printf("# %s: %zu files, %zu tampers per kind (+%zu warm-up), %s check, timed from %s, "
	       "restorer: %s\n",
		dir, nfiles, count, warmup, strict ? "strict (incl. mtime)" : "loose (no mtime)",
		from_start ? "the first tampering syscall" : "the tamper's return",
		peer ? "bare inotify loop (peer)" : "external (the agent)");
	fflush(stdout);
	for (int k = 0; k < K_COUNT; k++) {
		struct result *r = &res[k];

		if (!want[k])
			continue;
		run_kind((enum kind)k, count, warmup, pace_us, timeout_ms, strict, from_start, stagefd,
			r);
		double sum = 0;

		for (size_t i = 0; i < r->n; i++)
			sum += r->lat[i];
		printf("%-8s repaired %zu/%zu  timeouts %zu  skipped %zu  p50 %.0f us  p99 %.0f us  "
		       "max %.0f us",
			kind_name[k], r->n, count, r->timeouts, r->skipped, pct(r->lat, r->n, 0.50),
			pct(r->lat, r->n, 0.99), r->n ? r->lat[r->n - 1] : NAN);
		if (k == K_MODIFY && strict)
			printf("  (in-place repairs: %zu)", r->inplace);
		printf("\n");
		printf("RESULT %s %zu %zu %zu %.0f %.0f %.0f %.0f\n", kind_name[k], r->n, r->timeouts,
			r->skipped, pct(r->lat, r->n, 0.50), pct(r->lat, r->n, 0.99),
			r->n ? r->lat[r->n - 1] : NAN, r->n ? sum / (double)r->n : NAN);
		fflush(stdout);
	}
	stop_peer();
	unlinkat(stagefd, "link", 0);
	close(stagefd);
	rmdir(stage);
	return 0;
}

int
main(int argc, char **argv)
{
	if (argc >= 3 && strcmp(argv[1], "gen") == 0)
		return gen_main(argv[2], argc >= 4 ? strtoul(argv[3], NULL, 10) : 1000);
	if (argc >= 3 && strcmp(argv[1], "measure") == 0)
		return measure_main(argv[2], argc - 3, argv + 3);
	if (argc == 3 && strcmp(argv[1], "peer") == 0) {
		load(argv[2]);
		peer_loop(argv[2], -1);
		return 0;
	}
	fprintf(stderr, "usage: tamper_latency gen DIR [N] | measure DIR [OPTIONS] | peer DIR\n");
	return 2;
}
