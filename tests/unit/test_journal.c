/* test_journal.c - the event journal: what survives reopening, crashes, torn
 * tails, damage, rotation and the size cap, and what the writer thread delivers. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "agent/journal/journal.h"
#include "core/json_get.h"
#include "core/log.h"
#include "core/timeutil.h"
#include "core/xalloc.h"
#include "core/banned.h"

#define REC_HDR 28

struct tdir {
	char	path[PATH_MAX];
	int	fd;
};

/* What a reader saw. */
struct seen {
	uint64_t	 n, first, last;
	bool		 contiguous;	/* seq went up by one each time */
	bool		 payload_ok;	/* each payload was payload_for(seq) */
	uint64_t	*seqs;		/* every seq, when want_seqs */
	size_t		 seqs_cap;
	bool		 want_seqs;
};

static void
payload_for(uint64_t seq, char *out, size_t outlen)
{
	snprintf(out, outlen, "{\"type\":\"tamper\",\"path\":\"/srv/www/f%" PRIu64
		"\",\"n\":%" PRIu64 "}", seq, seq);
}

static int
collect_cb(uint64_t seq, int64_t time_ns, const void *payload, size_t len, void *data)
{
	struct seen *s = data;
	char want[128];

	payload_for(seq, want, sizeof(want));
	if (s->n == 0) {
		s->first = seq;
		s->contiguous = true;
		s->payload_ok = true;
	} else if (seq != s->last + 1) {
		s->contiguous = false;
	}
	if (len != strlen(want) || memcmp(payload, want, len) != 0 ||
		time_ns != (int64_t)seq * 1000)
		s->payload_ok = false;
	if (s->want_seqs) {
		s->seqs = xgrow(s->seqs, &s->seqs_cap, s->n + 1, sizeof(*s->seqs));
		s->seqs[s->n] = seq;
	}
	s->last = seq;
	s->n++;
	return 0;
}

static struct seen
read_all(int fd, uint64_t from)
{
	struct seen s = { 0 };
	uint64_t next = 0;

	assert_int_equal(journal_read(fd, from, collect_cb, &s, &next), 0);
	if (s.n > 0)
		assert_int_equal(next, s.last + 1);
	return s;
}

static void
append_n(struct journal *j, uint64_t n)
{
	char p[128];

	for (uint64_t i = 0; i < n; i++) {
		uint64_t want = journal_next_seq(j), seq = 0;

		payload_for(want, p, sizeof(p));
		assert_int_equal(journal_append(j, (int64_t)want * 1000, p, strlen(p), &seq), 0);
		assert_int_equal(seq, want);
	}
}

static struct journal *
open_j(int fd, uint64_t seg, uint64_t max)
{
	struct journal_opts o = { .segment_bytes = seg, .max_bytes = max };
	struct journal *j = NULL;

	assert_int_equal(journal_open(fd, &o, &j), 0);
	assert_non_null(j);
	return j;
}

static int
setup(void **state)
{
	struct tdir *t = xcalloc(1, sizeof(*t));
	const char *tmp = getenv("TMPDIR");

	snprintf(t->path, sizeof(t->path), "%s/yingji-test-journal.XXXXXX",
		tmp != NULL && *tmp != '\0' ? tmp : "/tmp");
	if (mkdtemp(t->path) == NULL)
		return -1;
	t->fd = open(t->path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (t->fd < 0)
		return -1;
	*state = t;
	return 0;
}

static int
teardown(void **state)
{
	struct tdir *t = *state;
	struct dirent *de;
	int jfd;
	DIR *d;

	jfd = openat(t->fd, "journal", O_RDONLY | O_DIRECTORY);
	if (jfd >= 0 && (d = fdopendir(jfd)) != NULL) {
		while ((de = readdir(d)) != NULL)
			if (de->d_name[0] != '.')
				unlinkat(jfd, de->d_name, 0);
		closedir(d);
	}
	unlinkat(t->fd, "journal", AT_REMOVEDIR);
	close(t->fd);
	rmdir(t->path);
	free(t);
	return 0;
}

static int
name_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The segment file names, oldest first; returns how many. */
static size_t
list_segments(struct tdir *t, char ***ret)
{
	char **names = NULL;
	size_t n = 0, cap = 0;
	struct dirent *de;
	DIR *d;

	d = fdopendir(openat(t->fd, "journal", O_RDONLY | O_DIRECTORY));
	assert_non_null(d);
	while ((de = readdir(d)) != NULL) {
		if (strstr(de->d_name, ".seg") == NULL)
			continue;
		names = xgrow(names, &cap, n + 1, sizeof(*names));
		names[n++] = xstrdup(de->d_name);
	}
	closedir(d);
	qsort(names, n, sizeof(*names), name_cmp);
	*ret = names;
	return n;
}

static void
free_names(char **names, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(names[i]);
	free(names);
}

/* Open segment number idx (oldest first) of the journal for writing. */
static int
open_segment(struct tdir *t, size_t idx, off_t *ret_size)
{
	char **names, path[PATH_MAX + 64];
	struct stat st;
	size_t n;
	int fd;

	n = list_segments(t, &names);
	assert_true(idx < n);
	snprintf(path, sizeof(path), "%s/journal/%s", t->path, names[idx]);
	free_names(names, n);
	fd = open(path, O_RDWR | O_CLOEXEC);
	assert_true(fd >= 0);
	assert_int_equal(fstat(fd, &st), 0);
	*ret_size = st.st_size;
	return fd;
}

static size_t
record_len(uint64_t seq)
{
	char p[128];

	payload_for(seq, p, sizeof(p));
	return REC_HDR + strlen(p);
}

static void
reopen_reads_every_record_in_order(void **state)
{
	/* 1000 events, a restart: all 1000 are there, in order, and numbering goes on. */
	struct tdir *t = *state;
	struct journal *j, *j2 = NULL;
	struct seen s;
	uint64_t next = 0;

	j = open_j(t->fd, 0, 0);
	assert_int_equal(journal_next_seq(j), 1);
	append_n(j, 1000);
	assert_int_equal(journal_sync(j), 0);
	journal_close(j);

	j = open_j(t->fd, 0, 0);
	assert_int_equal(journal_next_seq(j), 1001);
	assert_int_equal(journal_take_dropped(j), 0);
	/* A second appender is refused rather than allowed to interleave. */
	assert_int_equal(journal_open(t->fd, NULL, &j2), -EBUSY);
	journal_close(j);

	s = read_all(t->fd, 0);
	assert_int_equal(s.n, 1000);
	assert_int_equal(s.first, 1);
	assert_true(s.contiguous);
	assert_true(s.payload_ok);

	s = read_all(t->fd, 500);
	assert_int_equal(s.n, 501);
	assert_int_equal(s.first, 500);

	/* Nothing new: next_seq stays where the caller asked to go on from. */
	memset(&s, 0, sizeof(s));
	assert_int_equal(journal_read(t->fd, 5000, collect_cb, &s, &next), 0);
	assert_int_equal(s.n, 0);
	assert_int_equal(next, 5000);
}

static int
stop_after_ten(uint64_t seq, int64_t time_ns, const void *payload, size_t len, void *data)
{
	uint64_t *n = data;

	return ++*n == 10 ? 1 : 0;
}

static int
fail_at_three(uint64_t seq, int64_t time_ns, const void *payload, size_t len, void *data)
{
	return seq == 3 ? -ECANCELED : 0;
}

static void
reader_callback_stops_or_fails(void **state)
{
	struct tdir *t = *state;
	struct journal *j;
	uint64_t n = 0, next = 0;

	j = open_j(t->fd, 0, 0);
	append_n(j, 50);
	journal_close(j);
	assert_int_equal(journal_read(t->fd, 1, stop_after_ten, &n, &next), 0);
	assert_int_equal(n, 10);
	assert_int_equal(next, 11);
	assert_int_equal(journal_read(t->fd, 1, fail_at_three, NULL, NULL), -ECANCELED);
}

static void
no_journal_is_enoent(void **state)
{
	struct tdir *t = *state;
	struct seen s = { 0 };

	assert_int_equal(journal_read(t->fd, 0, collect_cb, &s, NULL), -ENOENT);
}

static void
torn_tail_is_cut_and_numbering_goes_on(void **state)
{
	/* A crash mid-append leaves part of the last record: every whole record
	 * is kept, and the next append takes the torn record's number. */
	struct tdir *t = *state;
	const off_t cuts[] = { 10, (off_t)record_len(1000) - 5, (off_t)record_len(1000) - REC_HDR };
	uint64_t total = 1000;

	for (size_t c = 0; c < sizeof(cuts) / sizeof(cuts[0]); c++) {
		struct journal *j;
		struct seen s;
		off_t size;
		int fd;

		j = open_j(t->fd, 0, 0);
		append_n(j, total - (journal_next_seq(j) - 1));
		journal_close(j);

		fd = open_segment(t, 0, &size);
		assert_int_equal(ftruncate(fd, size - cuts[c]), 0);
		close(fd);

		s = read_all(t->fd, 0);
		assert_int_equal(s.n, total - 1);
		assert_true(s.contiguous);

		j = open_j(t->fd, 0, 0);
		assert_int_equal(journal_next_seq(j), total);
		append_n(j, 1);
		journal_close(j);

		s = read_all(t->fd, 0);
		assert_int_equal(s.n, total);
		assert_int_equal(s.last, total);
		assert_true(s.contiguous);
		assert_true(s.payload_ok);
	}
}

static void
garbage_tail_is_cut(void **state)
{
	struct tdir *t = *state;
	static const char garbage[][40] = {
		"garbage after the last whole record....",
		"YJR1\xff\xff\x00\x00 looks like a header, is not",
		"YJR1\x08\x00\x00\x00\xe9\x03\x00\x00\x00\x00\x00\x00 short",
	};
	struct journal *j;
	struct seen s;
	off_t size, size2;
	int fd;

	j = open_j(t->fd, 0, 0);
	append_n(j, 1000);
	journal_close(j);

	for (size_t g = 0; g < sizeof(garbage) / sizeof(garbage[0]); g++) {
		fd = open_segment(t, 0, &size);
		assert_int_equal(pwrite(fd, garbage[g], sizeof(garbage[g]), size),
			(ssize_t)sizeof(garbage[g]));
		close(fd);

		s = read_all(t->fd, 0);
		assert_int_equal(s.n, 1000 + g);

		j = open_j(t->fd, 0, 0);
		assert_int_equal(journal_next_seq(j), 1001 + g);
		fd = open_segment(t, 0, &size2);
		close(fd);
		assert_int_equal(size2, size);
		append_n(j, 1);
		journal_close(j);

		s = read_all(t->fd, 0);
		assert_int_equal(s.n, 1001 + g);
		assert_true(s.contiguous);
		assert_true(s.payload_ok);
	}
}

static void
flipped_byte_is_caught_and_numbers_not_reused(void **state)
{
	/* Damage inside written data: the reader stops at it; reopening keeps
	 * the damaged segment as it is and never hands out its numbers again. */
	struct tdir *t = *state;
	struct journal *j;
	struct seen s;
	off_t off = 0, size;
	uint64_t next = 0;
	char b;
	int fd;

	j = open_j(t->fd, 0, 0);
	append_n(j, 100);
	journal_close(j);

	for (uint64_t seq = 1; seq < 50; seq++)
		off += (off_t)record_len(seq);
	off += REC_HDR + 5;	/* a payload byte of record 50 */
	fd = open_segment(t, 0, &size);
	assert_int_equal(pread(fd, &b, 1, off), 1);
	b ^= 0x20;
	assert_int_equal(pwrite(fd, &b, 1, off), 1);
	close(fd);

	s = read_all(t->fd, 0);
	assert_int_equal(s.n, 49);
	assert_int_equal(s.last, 49);

	j = open_j(t->fd, 0, 0);
	assert_int_equal(journal_next_seq(j), 101);
	append_n(j, 1);
	journal_close(j);

	fd = open_segment(t, 0, &off);
	close(fd);
	assert_int_equal(off, size);	/* the damaged segment is left alone */

	s = (struct seen){ .want_seqs = true };
	assert_int_equal(journal_read(t->fd, 0, collect_cb, &s, NULL), 0);
	assert_int_equal(s.n, 50);
	assert_int_equal(s.seqs[48], 49);
	assert_int_equal(s.seqs[49], 101);
	assert_true(s.payload_ok);
	free(s.seqs);

	/* A follower that has read up to 49 goes on past the damage. */
	s = (struct seen){ 0 };
	assert_int_equal(journal_read(t->fd, 50, collect_cb, &s, &next), 0);
	assert_int_equal(s.n, 1);
	assert_int_equal(next, 102);
	s = (struct seen){ 0 };
	j = open_j(t->fd, 0, 0);
	journal_close(j);
	assert_int_equal(journal_read(t->fd, 102, collect_cb, &s, &next), 0);
	assert_int_equal(s.n, 0);
	assert_int_equal(next, 102);
}

static void
rotation_spans_segments(void **state)
{
	struct tdir *t = *state;
	struct journal *j;
	char **names;
	struct seen s;
	size_t n;

	j = open_j(t->fd, 4096, 0);
	append_n(j, 1000);
	journal_close(j);

	n = list_segments(t, &names);
	assert_true(n >= 10);
	assert_string_equal(names[0], "0000000000000001.seg");
	free_names(names, n);

	s = read_all(t->fd, 0);
	assert_int_equal(s.n, 1000);
	assert_true(s.contiguous);
	assert_true(s.payload_ok);

	s = read_all(t->fd, 777);
	assert_int_equal(s.n, 224);
	assert_int_equal(s.first, 777);

	j = open_j(t->fd, 4096, 0);
	assert_int_equal(journal_next_seq(j), 1001);
	append_n(j, 100);
	journal_close(j);
	s = read_all(t->fd, 0);
	assert_int_equal(s.n, 1100);
	assert_true(s.contiguous);
}

static void
damage_in_an_old_segment_skips_to_the_next(void **state)
{
	struct tdir *t = *state;
	struct journal *j;
	struct seen s;
	uint64_t in_first = 0;
	off_t size, off;
	char b;
	int fd;

	j = open_j(t->fd, 4096, 0);
	append_n(j, 1000);
	journal_close(j);

	fd = open_segment(t, 0, &size);
	for (off = 0; off < size; in_first++)
		off += (off_t)record_len(in_first + 1);
	off = (off_t)(record_len(1) + record_len(2) + 1);	/* the magic of record 3 */
	assert_int_equal(pread(fd, &b, 1, off), 1);
	b ^= 1;
	assert_int_equal(pwrite(fd, &b, 1, off), 1);
	close(fd);

	s = (struct seen){ .want_seqs = true };
	assert_int_equal(journal_read(t->fd, 0, collect_cb, &s, NULL), 0);
	assert_int_equal(s.n, 1000 - (in_first - 2));
	assert_int_equal(s.seqs[1], 2);
	assert_int_equal(s.seqs[2], in_first + 1);
	assert_int_equal(s.last, 1000);
	free(s.seqs);
}

static void
max_bytes_drops_oldest_and_counts(void **state)
{
	struct tdir *t = *state;
	struct journal *j;
	char **names;
	struct seen s;
	uint64_t dropped, total = 0;
	size_t n;

	j = open_j(t->fd, 4096, 16384);
	append_n(j, 1000);
	dropped = journal_take_dropped(j);
	assert_true(dropped > 0);
	assert_int_equal(journal_take_dropped(j), 0);
	journal_close(j);

	s = read_all(t->fd, 0);
	assert_int_equal(s.first, dropped + 1);
	assert_int_equal(s.n + dropped, 1000);
	assert_true(s.contiguous);

	n = list_segments(t, &names);
	for (size_t i = 0; i < n; i++) {
		char path[PATH_MAX + 64];
		struct stat st;

		snprintf(path, sizeof(path), "%s/journal/%s", t->path, names[i]);
		assert_int_equal(stat(path, &st), 0);
		total += (uint64_t)st.st_size;
	}
	free_names(names, n);
	assert_true(total <= 16384);

	/* A smaller cap at the next start drops more, and says so. */
	j = open_j(t->fd, 4096, 8192);
	dropped += journal_take_dropped(j);
	journal_close(j);
	s = read_all(t->fd, 0);
	assert_int_equal(s.first, dropped + 1);
	assert_int_equal(s.n + dropped, 1000);
}

static void
oversized_record_is_refused(void **state)
{
	struct tdir *t = *state;
	struct journal *j;
	char *big = xcalloc(1, JOURNAL_MAX_RECORD + 1);
	struct journal_writer *w = NULL;
	uint64_t seq = 0;

	memset(big, 'x', JOURNAL_MAX_RECORD + 1);
	j = open_j(t->fd, 0, 0);
	assert_int_equal(journal_append(j, 1, big, JOURNAL_MAX_RECORD + 1, &seq), -E2BIG);
	assert_int_equal(journal_next_seq(j), 1);
	assert_int_equal(journal_append(j, 1, big, JOURNAL_MAX_RECORD, &seq), 0);
	assert_int_equal(seq, 1);

	/* The writer cannot return an error from submit: it refuses loudly. */
	assert_int_equal(journal_writer_start(j, &w), 0);
	journal_writer_submit(w, 2, big, JOURNAL_MAX_RECORD + 1);
	assert_int_equal(journal_writer_flush(w), 0);
	journal_writer_stop(w);
	assert_int_equal(journal_next_seq(j), 2);
	journal_close(j);
	free(big);
}

struct producer {
	struct journal_writer	*w;
	int			 id;
	int			 count;
};

static void *
produce(void *arg)
{
	struct producer *p = arg;
	char msg[64];

	for (int i = 0; i < p->count; i++) {
		int n = snprintf(msg, sizeof(msg), "{\"t\":%d,\"i\":%d}", p->id, i);

		journal_writer_submit(p->w, now_realtime_ns(), msg, (size_t)n);
	}
	return NULL;
}

struct per_thread {
	int64_t		 next[2];
	uint64_t	 n, last_seq;
	bool		 ok;
};

static int
per_thread_cb(uint64_t seq, int64_t time_ns, const void *payload, size_t len, void *data)
{
	struct per_thread *pt = data;
	int64_t tid = -1, i = -1;

	if (json_get_i64(payload, len, "t", &tid) < 0 || json_get_i64(payload, len, "i", &i) < 0 ||
		tid < 0 || tid > 1 || i != pt->next[tid] || seq != pt->last_seq + 1)
		pt->ok = false;
	else
		pt->next[tid]++;
	pt->last_seq = seq;
	pt->n++;
	return 0;
}

static void
writer_delivers_in_submission_order(void **state)
{
	/* Two producers, 5000 events each: after stop all 10000 are there, each
	 * producer's in its own order. */
	struct tdir *t = *state;
	struct journal_writer *w = NULL;
	struct producer p[2];
	pthread_t th[2];
	struct per_thread pt = { .ok = true };
	struct journal *j;

	j = open_j(t->fd, 64 << 10, 0);
	assert_int_equal(journal_writer_start(j, &w), 0);
	for (int k = 0; k < 2; k++) {
		p[k] = (struct producer){ .w = w, .id = k, .count = 5000 };
		assert_int_equal(pthread_create(&th[k], NULL, produce, &p[k]), 0);
	}
	for (int k = 0; k < 2; k++)
		pthread_join(th[k], NULL);
	assert_int_equal(journal_writer_flush(w), 0);
	assert_int_equal(journal_next_seq(j), 10001);
	assert_int_equal(journal_writer_error(w), 0);

	/* What is still queued at stop is written too. */
	for (int i = 5000; i < 5100; i++) {
		char msg[64];
		int n = snprintf(msg, sizeof(msg), "{\"t\":1,\"i\":%d}", i);

		journal_writer_submit(w, 1, msg, (size_t)n);
	}
	journal_writer_stop(w);
	assert_int_equal(journal_next_seq(j), 10101);
	journal_close(j);

	assert_int_equal(journal_read(t->fd, 1, per_thread_cb, &pt, NULL), 0);
	assert_int_equal(pt.n, 10100);
	assert_int_equal(pt.next[0], 5000);
	assert_int_equal(pt.next[1], 5100);
	assert_true(pt.ok);
}

static void
writer_retries_after_a_write_error(void **state)
{
	/* The disk refuses (here: the file size limit): records stay queued, the
	 * error is visible, and once writing works again nothing is missing. */
	struct tdir *t = *state;
	struct journal_writer *w = NULL;
	struct rlimit old, lim;
	struct journal *j;
	struct seen s;
	char p[128];
	int err = 0;

	signal(SIGXFSZ, SIG_IGN);
	j = open_j(t->fd, 0, 0);
	append_n(j, 10);
	assert_int_equal(getrlimit(RLIMIT_FSIZE, &old), 0);
	lim = old;
	lim.rlim_cur = 10 * record_len(5) + 200;
	assert_int_equal(setrlimit(RLIMIT_FSIZE, &lim), 0);

	assert_int_equal(journal_writer_start(j, &w), 0);
	for (uint64_t seq = 11; seq <= 60; seq++) {
		payload_for(seq, p, sizeof(p));
		journal_writer_submit(w, (int64_t)seq * 1000, p, strlen(p));
	}
	assert_int_equal(journal_writer_flush(w), -EFBIG);
	err = journal_writer_error(w);
	assert_int_equal(err, -EFBIG);

	assert_int_equal(setrlimit(RLIMIT_FSIZE, &old), 0);
	for (int i = 0; i < 50 && journal_writer_error(w) != 0; i++)
		usleep(100 * 1000);
	assert_int_equal(journal_writer_error(w), 0);
	assert_int_equal(journal_writer_flush(w), 0);
	journal_writer_stop(w);
	journal_close(j);
	signal(SIGXFSZ, SIG_DFL);

	s = read_all(t->fd, 0);
	assert_int_equal(s.n, 60);
	assert_true(s.contiguous);
	assert_true(s.payload_ok);
}

static int
whole_cb(uint64_t seq, int64_t time_ns, const void *payload, size_t len, void *data)
{
	struct seen *s = data;
	int64_t i;

	if (s->n == 0) {
		s->first = seq;
		s->contiguous = true;
		s->payload_ok = true;
	} else if (seq != s->last + 1) {
		s->contiguous = false;
	}
	if (json_get_i64(payload, len, "i", &i) < 0)
		s->payload_ok = false;
	s->last = seq;
	s->n++;
	return 0;
}

/* The child: append through the writer as fast as it can, syncing often,
 * until killed. */
static void
child_append_forever(int state_fd)
{
	struct journal_writer *w = NULL;
	struct journal *j = NULL;
	char msg[96];

	if (journal_open(state_fd, &(struct journal_opts){ .segment_bytes = 32 << 10 }, &j) < 0 ||
		journal_writer_start(j, &w) < 0)
		_exit(3);
	for (int64_t i = 0;; i++) {
		int n = snprintf(msg, sizeof(msg), "{\"type\":\"tamper\",\"i\":%" PRId64 "}", i);

		journal_writer_submit(w, i, msg, (size_t)n);
		if (i % 16 == 0 && journal_writer_flush(w) < 0)
			_exit(4);
	}
}

static void
kill_9_loses_no_whole_record(void **state)
{
	/* SIGKILL mid-stream, three times over: every record read back is whole,
	 * and numbers run from 1 without a gap or a repeat. */
	struct tdir *t = *state;
	const int delays_ms[] = { 50, 150, 300 };
	uint64_t before = 0;

	for (size_t k = 0; k < sizeof(delays_ms) / sizeof(delays_ms[0]); k++) {
		struct journal *j;
		struct seen s = { 0 };
		int status = 0;
		pid_t pid;

		pid = fork();
		assert_true(pid >= 0);
		if (pid == 0)
			child_append_forever(t->fd);
		/* Kill it a while after it has got going, however slow the machine. */
		for (int tries = 0; tries < 1000; tries++) {
			struct seen p = { 0 };

			if (journal_read(t->fd, 0, whole_cb, &p, NULL) == 0 && p.n > before)
				break;
			usleep(10 * 1000);
		}
		usleep((useconds_t)delays_ms[k] * 1000);
		assert_int_equal(kill(pid, SIGKILL), 0);
		assert_int_equal(waitpid(pid, &status, 0), pid);
		assert_true(WIFSIGNALED(status));

		assert_int_equal(journal_read(t->fd, 0, whole_cb, &s, NULL), 0);
		assert_true(s.n > before);
		assert_int_equal(s.first, 1);
		assert_int_equal(s.last, s.n);
		assert_true(s.contiguous);
		assert_true(s.payload_ok);

		j = open_j(t->fd, 32 << 10, 0);
		assert_int_equal(journal_next_seq(j), s.n + 1);
		journal_close(j);
		print_message("killed after %" PRIu64 " records\n", s.n);
		before = s.n;
	}
}

int
main(void)
{
#define T(name) cmocka_unit_test_setup_teardown(name, setup, teardown)
	const struct CMUnitTest tests[] = {
		T(reopen_reads_every_record_in_order),
		T(reader_callback_stops_or_fails),
		T(no_journal_is_enoent),
		T(torn_tail_is_cut_and_numbering_goes_on),
		T(garbage_tail_is_cut),
		T(flipped_byte_is_caught_and_numbers_not_reused),
		T(rotation_spans_segments),
		T(damage_in_an_old_segment_skips_to_the_next),
		T(max_bytes_drops_oldest_and_counts),
		T(oversized_record_is_refused),
		T(writer_delivers_in_submission_order),
		T(writer_retries_after_a_write_error),
		T(kill_9_loses_no_whole_record),
	};

	log_set_level(LOG_ERR);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
