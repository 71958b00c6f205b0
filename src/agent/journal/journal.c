/*
 * journal.c - the agent's event journal: checksummed records appended to
 * segment files under <state>/journal/, a lock-free reader, and the writer
 * thread that keeps the guard's restore path from ever waiting on a disk.
 *
 * Every file is opened relative to the state directory with O_NOFOLLOW, so a
 * symlink planted in the state directory cannot redirect a write.
 */
#include "agent/journal/journal.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

#include "core/crc32c.h"
#include "core/log.h"
#include "core/xalloc.h"
#include "core/hex.h"
#include "core/banned.h"

#define JOURNAL_DIR		"journal"
#define REC_MAGIC		"YJR1"
#define REC_HDR			28u	/* magic, len, seq, time, crc */
#define SEG_NAME_LEN		20u	/* 16 hex digits + ".seg" */
#define DEFAULT_SEGMENT_BYTES	(16ull << 20)
#define DEFAULT_MAX_BYTES	(256ull << 20)
#define READ_CHUNK		(64u << 10)

#define WRITER_QUEUE_MAX	((size_t)64 << 20)
#define WRITER_RETRY_NS		1000000000ll
#define WRITER_STOP_ATTEMPTS	5

struct seg {
	uint64_t	first_seq;	/* from the file name */
	uint64_t	bytes;
};

struct journal {
	pthread_mutex_t	 mu;
	int		 dirfd;		/* <state>/journal */
	int		 fd;		/* the segment being appended to, or -1 */
	uint64_t	 seg_bytes;	/* its length: where the next record goes */
	uint64_t	 next_seq;
	uint64_t	 total_bytes;	/* of every segment */
	uint64_t	 dropped;
	uint64_t	 durable_next;	/* every seq below this is on disk */
	int		 notify_fd;	/* eventfd written after each sync, or -1 */
	uint64_t	 segment_max, total_max;
	struct seg	*segs;		/* oldest first; appending to the last */
	size_t		 nsegs, segs_cap;
};

/* ---- encoding ---- */

/* ---- segment names and listing ---- */

static void
seg_name(uint64_t first_seq, char out[SEG_NAME_LEN + 1])
{
	snprintf(out, SEG_NAME_LEN + 1, "%016" PRIx64 ".seg", first_seq);
}

static bool
seg_name_parse(const char *name, uint64_t *ret_seq)
{
	uint64_t v = 0;

	if (strlen(name) != SEG_NAME_LEN || strcmp(name + 16, ".seg") != 0)
		return false;
	for (int i = 0; i < 16; i++) {
		char c = name[i];

		if (c >= '0' && c <= '9')
			v = (v << 4) | (uint64_t)(c - '0');
		else if (c >= 'a' && c <= 'f')
			v = (v << 4) | (uint64_t)(c - 'a' + 10);
		else
			return false;
	}
	*ret_seq = v;
	return true;
}

static int
seg_cmp(const void *a, const void *b)
{
	const struct seg *x = a, *y = b;

	return x->first_seq < y->first_seq ? -1 : x->first_seq > y->first_seq;
}

/* The regular files named like segments in the journal directory, oldest first. */
static int
seg_list(int dirfd, struct seg **ret_segs, size_t *ret_n, size_t *ret_cap)
{
	struct seg *segs = NULL;
	size_t n = 0, cap = 0;
	struct dirent *de;
	DIR *d = NULL;
	int fd, r;

	fd = openat(dirfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0) {
		r = -errno;
		goto out;
	}
	d = fdopendir(fd);
	if (d == NULL) {
		r = -errno;
		close(fd);
		goto out;
	}
	for (;;) {
		struct stat st;
		uint64_t seq;

		errno = 0;
		de = readdir(d);
		if (de == NULL) {
			if (errno != 0) {
				r = -errno;
				goto out;
			}
			break;
		}
		if (!seg_name_parse(de->d_name, &seq))
			continue;
		if (fstatat(dirfd, de->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0) {
			if (errno == ENOENT)	/* removed by rotation meanwhile */
				continue;
			r = -errno;
			goto out;
		}
		if (!S_ISREG(st.st_mode))
			continue;
		segs = xgrow(segs, &cap, n + 1, sizeof(*segs));
		segs[n].first_seq = seq;
		segs[n].bytes = (uint64_t)st.st_size;
		n++;
	}
	if (n > 1)
		qsort(segs, n, sizeof(*segs), seg_cmp);

	*ret_segs = segs;
	segs = NULL;
	*ret_n = n;
	if (ret_cap != NULL)
		*ret_cap = cap;
	r = 0;
out:
	if (d != NULL)
		closedir(d);
	free(segs);
	return r;
}

/* ---- reading records ---- */

enum { REC_OK = 0, REC_END, REC_BAD };

struct record {
	uint64_t		 seq;
	int64_t			 time_ns;
	const unsigned char	*payload;	/* valid until the next read */
	uint32_t		 len;
	uint64_t		 off;		/* of the record in the file */
};

/* A buffered sequential reader of one segment. The buffer grows to hold one
 * whole record (at most REC_HDR + JOURNAL_MAX_RECORD bytes). */
struct seg_reader {
	int		 fd;
	unsigned char	*buf;
	size_t		 cap, start, end;	/* unread bytes are buf[start..end) */
	uint64_t	 pos;			/* file offset of buf[start] */
};

static void
seg_reader_init(struct seg_reader *sr, int fd)
{
	memset(sr, 0, sizeof(*sr));
	sr->fd = fd;
}

static void
seg_reader_release(struct seg_reader *sr)
{
	free(sr->buf);
	sr->buf = NULL;
}

static void
seg_reader_skip(struct seg_reader *sr, size_t n)
{
	sr->start += n;
	sr->pos += n;
}

/* Make need bytes available at buf[start] unless the file ends first. */
static int
seg_reader_fill(struct seg_reader *sr, size_t need)
{
	ssize_t n;

	if (sr->end - sr->start >= need)
		return 0;
	if (sr->start > 0) {
		memmove(sr->buf, sr->buf + sr->start, sr->end - sr->start);
		sr->end -= sr->start;
		sr->start = 0;
	}
	if (need > sr->cap || sr->cap == 0) {
		size_t cap = need > READ_CHUNK ? need : READ_CHUNK;

		sr->buf = xrealloc(sr->buf, cap);
		sr->cap = cap;
	}
	while (sr->end < need) {
		n = pread(sr->fd, sr->buf + sr->end, sr->cap - sr->end, (off_t)(sr->pos + sr->end));
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		if (n == 0)
			break;
		sr->end += (size_t)n;
	}
	return 0;
}

/* The record at the current position. REC_BAD leaves the position on it. */
static int
seg_reader_next(struct seg_reader *sr, struct record *rec)
{
	const unsigned char *h;
	uint32_t len, crc;
	int r;

	r = seg_reader_fill(sr, REC_HDR);
	if (r < 0)
		return r;
	if (sr->end == sr->start)
		return REC_END;
	if (sr->end - sr->start < REC_HDR)
		return REC_BAD;
	h = sr->buf + sr->start;
	if (memcmp(h, REC_MAGIC, 4) != 0)
		return REC_BAD;
	len = le32_get(h + 4);
	if (len > JOURNAL_MAX_RECORD)
		return REC_BAD;
	r = seg_reader_fill(sr, REC_HDR + len);
	if (r < 0)
		return r;
	if (sr->end - sr->start < REC_HDR + len)
		return REC_BAD;
	h = sr->buf + sr->start;	/* the fill may have moved it */
	crc = crc32c(0, h + 4, 20);
	crc = crc32c(crc, h + REC_HDR, len);
	if (crc != le32_get(h + 24))
		return REC_BAD;
	rec->seq = le64_get(h + 8);
	rec->time_ns = (int64_t)le64_get(h + 16);
	rec->payload = h + REC_HDR;
	rec->len = len;
	rec->off = sr->pos;
	seg_reader_skip(sr, REC_HDR + len);
	return REC_OK;
}

/* From the current position, find the next whole record with seq > min_seq:
 * whole records with a smaller seq are stepped over, anything else a byte at
 * a time. REC_OK or REC_END. Used only on damaged segments. */
static int
seg_reader_resync(struct seg_reader *sr, uint64_t min_seq, struct record *rec)
{
	int r;

	for (;;) {
		const unsigned char *p;
		size_t avail;

		r = seg_reader_fill(sr, 4);
		if (r < 0)
			return r;
		avail = sr->end - sr->start;
		if (avail < 4)
			return REC_END;
		p = memmem(sr->buf + sr->start, avail, REC_MAGIC, 4);
		if (p == NULL) {
			seg_reader_skip(sr, avail - 3);
			continue;
		}
		seg_reader_skip(sr, (size_t)(p - (sr->buf + sr->start)));
		r = seg_reader_next(sr, rec);
		if (r < 0)
			return r;
		if (r == REC_OK && rec->seq > min_seq)
			return REC_OK;
		if (r == REC_BAD)
			seg_reader_skip(sr, 1);
	}
}

struct seg_scan {
	uint64_t	good_end;	/* end of the whole records before the first bad one */
	uint64_t	next_seq;	/* one past the highest seq in the segment */
	bool		damaged;	/* whole records follow a bad one: not a torn tail */
};

/* Walk the segment that was being appended to when the agent last stopped. */
static int
seg_scan(int fd, uint64_t first_seq, struct seg_scan *ret)
{
	struct seg_reader sr;
	struct record rec;
	uint64_t expect = first_seq, max_seq;
	bool damaged = false;
	int st, r;

	seg_reader_init(&sr, fd);
	for (;;) {
		st = seg_reader_next(&sr, &rec);
		if (st < 0) {
			r = st;
			goto out;
		}
		if (st != REC_OK || rec.seq != expect)
			break;
		if (expect == UINT64_MAX) {
			r = -EOVERFLOW;
			goto out;
		}
		expect++;
	}
	ret->good_end = st == REC_OK ? rec.off : sr.pos;
	if (st == REC_END) {
		ret->next_seq = expect;
		ret->damaged = false;
		r = 0;
		goto out;
	}

	/* A whole record with a later seq anywhere after the bad one means damage
	 * to written data, not a torn append: cutting it off would lose records
	 * and hand out their sequence numbers again. */
	max_seq = expect - 1;
	if (st == REC_OK && rec.seq > max_seq) {
		damaged = true;
		max_seq = rec.seq;
	}
	while ((st = seg_reader_resync(&sr, max_seq, &rec)) == REC_OK) {
		damaged = true;
		max_seq = rec.seq;
	}
	if (st < 0) {
		r = st;
		goto out;
	}
	if (max_seq == UINT64_MAX) {
		r = -EOVERFLOW;
		goto out;
	}
	ret->next_seq = damaged ? max_seq + 1 : expect;
	ret->damaged = damaged;
	r = 0;
out:
	seg_reader_release(&sr);
	return r;
}

struct read_state {
	uint64_t	 from_seq, next_seq;
	journal_read_cb	 cb;
	void		*data;
	bool		 stopped;
};

/* Deliver one segment's records. *ret_bad is set when it held a bad record. */
static int
read_segment(int fd, uint64_t first_seq, struct read_state *rs, bool *ret_bad,
	uint64_t *ret_bad_off)
{
	struct seg_reader sr;
	struct record rec;
	uint64_t expect = first_seq;
	int st, r = 0;

	*ret_bad = false;
	seg_reader_init(&sr, fd);
	for (;;) {
		st = seg_reader_next(&sr, &rec);
		if (st < 0) {
			r = st;
			break;
		}
		if (st == REC_END)
			break;
		if (st == REC_BAD || rec.seq != expect) {
			*ret_bad = true;
			*ret_bad_off = st == REC_OK ? rec.off : sr.pos;
			break;
		}
		expect++;
		if (rec.seq < rs->from_seq)
			continue;
		r = rs->cb(rec.seq, rec.time_ns, rec.payload, rec.len, rs->data);
		rs->next_seq = rec.seq + 1;
		if (r != 0) {
			rs->stopped = true;
			if (r > 0)
				r = 0;
			break;
		}
	}
	seg_reader_release(&sr);
	return r;
}

int
journal_read(int state_dirfd, uint64_t from_seq, journal_read_cb cb, void *data,
	uint64_t *ret_next_seq)
{
	struct read_state rs = { .from_seq = from_seq, .next_seq = from_seq, .cb = cb,
		.data = data };
	struct seg *segs = NULL;
	size_t nsegs = 0;
	int dirfd, fd = -1, r;

	dirfd = openat(state_dirfd, JOURNAL_DIR, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (dirfd < 0) {
		r = -errno;
		goto out;
	}
	r = seg_list(dirfd, &segs, &nsegs, NULL);
	if (r < 0)
		goto out;
	for (size_t i = 0; i < nsegs && !rs.stopped; i++) {
		char name[SEG_NAME_LEN + 1];
		uint64_t bad_off = 0;
		bool bad;

		if (i + 1 < nsegs && segs[i + 1].first_seq <= from_seq)
			continue;	/* every record in it is older than from_seq */
		seg_name(segs[i].first_seq, name);
		fd = openat(dirfd, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
		if (fd < 0) {
			if (errno == ENOENT)	/* the oldest, removed meanwhile */
				continue;
			r = -errno;
			goto out;
		}
		r = read_segment(fd, segs[i].first_seq, &rs, &bad, &bad_off);
		close(fd);
		fd = -1;
		if (r < 0)
			goto out;
		if (!bad)
			continue;
		if (i + 1 == nsegs)
			break;		/* a torn tail, or an append in progress */
		log_warn("journal", "%s: damaged record at offset %" PRIu64
			", skipping the rest of this segment", name, bad_off);
		/* Those numbers cannot be read: a follower need not look again. */
		if (rs.next_seq < segs[i + 1].first_seq)
			rs.next_seq = segs[i + 1].first_seq;
	}
	if (ret_next_seq != NULL)
		*ret_next_seq = rs.next_seq;
	r = 0;
out:
	if (dirfd >= 0)
		close(dirfd);
	free(segs);
	return r;
}

/* ---- appending ---- */

static int
pwrite_all(int fd, struct iovec *iov, int iovcnt, uint64_t off)
{
	ssize_t n;

	while (iovcnt > 0) {
		n = pwritev(fd, iov, iovcnt, (off_t)off);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		if (n == 0)
			return -EIO;
		off += (uint64_t)n;
		while (iovcnt > 0 && (size_t)n >= iov->iov_len) {
			n -= (ssize_t)iov->iov_len;
			iov++;
			iovcnt--;
		}
		if (iovcnt > 0) {
			iov->iov_base = (char *)iov->iov_base + n;
			iov->iov_len -= (size_t)n;
		}
	}
	return 0;
}

/* Create the segment for records from first_seq on and make it current. The
 * caller has synced the previous one. */
static int
journal_new_segment(struct journal *j, uint64_t first_seq)
{
	char name[SEG_NAME_LEN + 1];
	int fd;

	seg_name(first_seq, name);
	fd = openat(j->dirfd, name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (fd < 0)
		return -errno;
	/* The name must survive a crash too, or so would no record in it. */
	if (fsync(j->dirfd) < 0) {
		int r = -errno;

		close(fd);
		(void)unlinkat(j->dirfd, name, 0);
		return r;
	}
	if (j->fd >= 0)
		close(j->fd);
	j->fd = fd;
	j->seg_bytes = 0;
	j->segs = xgrow(j->segs, &j->segs_cap, j->nsegs + 1, sizeof(*j->segs));
	j->segs[j->nsegs].first_seq = first_seq;
	j->segs[j->nsegs].bytes = 0;
	j->nsegs++;
	return 0;
}

static int
journal_rotate(struct journal *j)
{
	/* journal_sync() covers only the current segment: make the old one
	 * durable before leaving it. */
	if (fdatasync(j->fd) < 0)
		return -errno;
	return journal_new_segment(j, j->next_seq);
}

/* Remove the oldest segments while the journal is over max_bytes. A segment
 * holds the seqs up to the next one's first: that is what it drops. */
static void
journal_enforce_max(struct journal *j)
{
	while (j->total_bytes > j->total_max && j->nsegs > 1) {
		char name[SEG_NAME_LEN + 1];

		seg_name(j->segs[0].first_seq, name);
		if (unlinkat(j->dirfd, name, 0) < 0 && errno != ENOENT)
			return;		/* tried again after the next append */
		j->dropped += j->segs[1].first_seq - j->segs[0].first_seq;
		j->total_bytes -= j->segs[0].bytes;
		memmove(j->segs, j->segs + 1, (j->nsegs - 1) * sizeof(*j->segs));
		j->nsegs--;
	}
}

/* Take over the segment that was being appended to: cut a torn tail, or, if
 * it is damaged, leave it be and start a new one. */
static int
journal_resume(struct journal *j)
{
	struct seg *last = &j->segs[j->nsegs - 1];
	char name[SEG_NAME_LEN + 1];
	struct seg_scan scan;
	struct stat st;
	int fd = -1, r;

	seg_name(last->first_seq, name);
	fd = openat(j->dirfd, name, O_RDWR | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0) {
		r = -errno;
		goto out;
	}
	r = seg_scan(fd, last->first_seq, &scan);
	if (r < 0)
		goto out;
	j->next_seq = scan.next_seq;
	if (scan.damaged) {
		log_warn("journal", "%s: damaged record at offset %" PRIu64
			"; kept as it is, continuing in a new segment", name, scan.good_end);
		r = journal_new_segment(j, j->next_seq);
		goto out;
	}
	if (fstat(fd, &st) < 0) {
		r = -errno;
		goto out;
	}
	if ((uint64_t)st.st_size > scan.good_end) {
		log_info("journal", "%s: cutting a torn tail of %" PRIu64 " bytes", name,
			(uint64_t)st.st_size - scan.good_end);
		if (ftruncate(fd, (off_t)scan.good_end) < 0 || fdatasync(fd) < 0) {
			r = -errno;
			goto out;
		}
		j->total_bytes -= (uint64_t)st.st_size - scan.good_end;
	}
	/* What a killed agent left in the page cache is taken as written: make
	 * it so, before any of it is shipped. */
	if (fdatasync(fd) < 0) {
		r = -errno;
		goto out;
	}
	last->bytes = scan.good_end;
	j->seg_bytes = scan.good_end;
	j->fd = fd;
	fd = -1;
	r = 0;
out:
	if (fd >= 0)
		close(fd);
	return r;
}

int
journal_open(int state_dirfd, const struct journal_opts *opts, struct journal **ret)
{
	struct journal *j;
	int r;

	j = xcalloc(1, sizeof(*j));
	pthread_mutex_init(&j->mu, NULL);
	j->dirfd = -1;
	j->fd = -1;
	j->notify_fd = -1;
	j->next_seq = 1;
	j->segment_max = opts != NULL && opts->segment_bytes > 0 ? opts->segment_bytes
								: DEFAULT_SEGMENT_BYTES;
	j->total_max = opts != NULL && opts->max_bytes > 0 ? opts->max_bytes : DEFAULT_MAX_BYTES;

	if (mkdirat(state_dirfd, JOURNAL_DIR, 0700) < 0 && errno != EEXIST) {
		r = -errno;
		goto out;
	}
	j->dirfd = openat(state_dirfd, JOURNAL_DIR,
		O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (j->dirfd < 0) {
		r = -errno;
		goto out;
	}
	/* Two appenders would write over each other's records. */
	if (flock(j->dirfd, LOCK_EX | LOCK_NB) < 0) {
		r = errno == EWOULDBLOCK ? -EBUSY : -errno;
		goto out;
	}
	r = seg_list(j->dirfd, &j->segs, &j->nsegs, &j->segs_cap);
	if (r < 0)
		goto out;
	for (size_t i = 0; i < j->nsegs; i++)
		j->total_bytes += j->segs[i].bytes;
	if (j->nsegs == 0)
		r = journal_new_segment(j, 1);
	else
		r = journal_resume(j);
	if (r < 0)
		goto out;
	journal_enforce_max(j);
	j->durable_next = j->next_seq;

	*ret = j;
	j = NULL;
out:
	journal_close(j);
	return r;
}

void
journal_close(struct journal *j)
{
	if (j == NULL)
		return;
	if (j->fd >= 0) {
		(void)fdatasync(j->fd);
		close(j->fd);
	}
	if (j->dirfd >= 0)
		close(j->dirfd);
	pthread_mutex_destroy(&j->mu);
	free(j->segs);
	free(j);
}

int
journal_append(struct journal *j, int64_t time_ns, const void *payload, size_t len,
	uint64_t *ret_seq)
{
	unsigned char hdr[REC_HDR];
	struct iovec iov[2];
	uint64_t reclen;
	uint32_t crc;
	int r;

	if (len > JOURNAL_MAX_RECORD)
		return -E2BIG;
	pthread_mutex_lock(&j->mu);
	if (j->next_seq == UINT64_MAX) {
		r = -EOVERFLOW;
		goto out;
	}
	reclen = REC_HDR + len;
	if (j->seg_bytes > 0 && j->seg_bytes + reclen > j->segment_max) {
		r = journal_rotate(j);
		if (r < 0)
			goto out;
	}

	memcpy(hdr, REC_MAGIC, 4);
	le32_put(hdr + 4, (uint32_t)len);
	le64_put(hdr + 8, j->next_seq);
	le64_put(hdr + 16, (uint64_t)time_ns);
	crc = crc32c(0, hdr + 4, 20);
	crc = crc32c(crc, payload, len);
	le32_put(hdr + 24, crc);
	iov[0].iov_base = hdr;
	iov[0].iov_len = REC_HDR;
	iov[1].iov_base = (void *)payload;
	iov[1].iov_len = len;
	r = pwrite_all(j->fd, iov, len > 0 ? 2 : 1, j->seg_bytes);
	if (r < 0) {
		/* Leave no partial record behind (the next append would overwrite
		 * it anyway, as it writes at seg_bytes). */
		(void)ftruncate(j->fd, (off_t)j->seg_bytes);
		goto out;
	}
	j->seg_bytes += reclen;
	j->segs[j->nsegs - 1].bytes = j->seg_bytes;
	j->total_bytes += reclen;
	if (ret_seq != NULL)
		*ret_seq = j->next_seq;
	j->next_seq++;
	journal_enforce_max(j);
	r = 0;
out:
	pthread_mutex_unlock(&j->mu);
	return r;
}

int
journal_sync(struct journal *j)
{
	int r = 0;

	pthread_mutex_lock(&j->mu);
	if (fdatasync(j->fd) < 0)
		r = -errno;
	else
		j->durable_next = j->next_seq;
	if (r == 0 && j->notify_fd >= 0) {
		uint64_t one = 1;

		(void)!write(j->notify_fd, &one, sizeof(one));
	}
	pthread_mutex_unlock(&j->mu);
	return r;
}

uint64_t
journal_durable_seq(struct journal *j)
{
	uint64_t seq;

	pthread_mutex_lock(&j->mu);
	seq = j->durable_next - 1;
	pthread_mutex_unlock(&j->mu);
	return seq;
}

void
journal_set_notify_fd(struct journal *j, int fd)
{
	pthread_mutex_lock(&j->mu);
	j->notify_fd = fd;
	pthread_mutex_unlock(&j->mu);
}

int
journal_trim(struct journal *j, uint64_t upto_seq)
{
	int r = 0;

	pthread_mutex_lock(&j->mu);
	/* A segment holds the seqs up to the next one's first; the last one is
	 * being appended to and always stays. */
	while (j->nsegs > 1 && j->segs[1].first_seq - 1 <= upto_seq) {
		char name[SEG_NAME_LEN + 1];

		seg_name(j->segs[0].first_seq, name);
		if (unlinkat(j->dirfd, name, 0) < 0 && errno != ENOENT) {
			r = -errno;
			break;
		}
		j->total_bytes -= j->segs[0].bytes;
		memmove(j->segs, j->segs + 1, (j->nsegs - 1) * sizeof(*j->segs));
		j->nsegs--;
	}
	pthread_mutex_unlock(&j->mu);
	return r;
}

uint64_t
journal_next_seq(const struct journal *j)
{
	struct journal *mj = (struct journal *)j;	/* the lock is not part of the value */
	uint64_t seq;

	pthread_mutex_lock(&mj->mu);
	seq = j->next_seq;
	pthread_mutex_unlock(&mj->mu);
	return seq;
}

uint64_t
journal_take_dropped(struct journal *j)
{
	uint64_t n;

	pthread_mutex_lock(&j->mu);
	n = j->dropped;
	j->dropped = 0;
	pthread_mutex_unlock(&j->mu);
	return n;
}

/* ---- the writer thread ---- */

struct pending {
	struct pending	*next;
	int64_t		 time_ns;
	size_t		 len;
	unsigned char	 payload[];
};

struct journal_writer {
	struct journal	*j;
	pthread_t	 thread;
	pthread_mutex_t	 mu;
	pthread_cond_t	 wake;		/* the writer: work, a retry is due, or stop */
	pthread_cond_t	 progress;	/* producers, flushers: room, durability, failure */
	struct pending	*head, **tailp;
	size_t		 queued_bytes;	/* payload submitted and not yet appended */
	uint64_t	 submitted, written, durable;	/* counts of records, in order */
	uint64_t	 failures;	/* failed attempts so far */
	int		 error;		/* of the last attempt */
	int		 fail_error;	/* of the last failed attempt */
	bool		 stopping;
};

static void
pending_free_list(struct pending *p)
{
	while (p != NULL) {
		struct pending *next = p->next;

		free(p);
		p = next;
	}
}

/* Wait until the retry is due, whatever wakes the condition variable meanwhile. */
static void
writer_wait_retry(struct journal_writer *w)
{
	struct timespec ts;
	int64_t ns;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	ns = ts.tv_nsec + WRITER_RETRY_NS;
	ts.tv_sec += (time_t)(ns / 1000000000);
	ts.tv_nsec = (long)(ns % 1000000000);
	while (pthread_cond_timedwait(&w->wake, &w->mu, &ts) != ETIMEDOUT)
		;
}

static void *
writer_main(void *arg)
{
	struct journal_writer *w = arg;
	unsigned stop_failures = 0;

	pthread_mutex_lock(&w->mu);
	for (;;) {
		struct pending *batch, *p;
		uint64_t appended = 0;
		size_t bytes = 0;
		int r = 0;

		while (w->head == NULL && w->durable == w->written && !w->stopping)
			pthread_cond_wait(&w->wake, &w->mu);
		if (w->head == NULL && w->durable == w->written)
			break;		/* stopping, and everything is durable */
		batch = w->head;
		w->head = NULL;
		w->tailp = &w->head;
		pthread_mutex_unlock(&w->mu);

		/* Everything queued so far goes in one batch with one fdatasync. */
		while (batch != NULL) {
			r = journal_append(w->j, batch->time_ns, batch->payload, batch->len, NULL);
			if (r < 0)
				break;
			p = batch;
			batch = p->next;
			bytes += p->len;
			free(p);
			appended++;
		}
		if (r == 0)
			r = journal_sync(w->j);
		else
			(void)journal_sync(w->j);	/* what did go in */

		pthread_mutex_lock(&w->mu);
		if (batch != NULL) {
			/* Back to the front, ahead of what was submitted meanwhile. */
			for (p = batch; p->next != NULL; p = p->next)
				;
			p->next = w->head;
			if (w->head == NULL)
				w->tailp = &p->next;
			w->head = batch;
		}
		w->written += appended;
		w->queued_bytes -= bytes;
		if (r == 0) {
			w->durable = w->written;
			if (w->error != 0)
				log_info("journal", "writing the journal again");
			w->error = 0;
			pthread_cond_broadcast(&w->progress);
			continue;
		}

		if (w->error == 0)
			log_error("journal", "cannot write the journal: %s; keeping %" PRIu64
				" records queued and retrying every second", strerror(-r),
				w->submitted - w->written);
		w->error = r;
		w->fail_error = r;
		w->failures++;
		pthread_cond_broadcast(&w->progress);
		if (w->stopping && ++stop_failures >= WRITER_STOP_ATTEMPTS) {
			log_error("journal", "stopping with %" PRIu64 " records not journaled: %s",
				w->submitted - w->durable, strerror(-r));
			break;
		}
		writer_wait_retry(w);
	}
	pthread_mutex_unlock(&w->mu);
	return NULL;
}

int
journal_writer_start(struct journal *j, struct journal_writer **ret)
{
	struct journal_writer *w;
	pthread_condattr_t ca;
	sigset_t all, old;
	int r;

	w = xcalloc(1, sizeof(*w));
	w->j = j;
	w->tailp = &w->head;
	pthread_mutex_init(&w->mu, NULL);
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&w->wake, &ca);
	pthread_condattr_destroy(&ca);
	pthread_cond_init(&w->progress, NULL);

	/* Signals are the main thread's business: the writer blocks them all. */
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	r = -pthread_create(&w->thread, NULL, writer_main, w);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (r < 0)
		goto out;

	*ret = w;
	w = NULL;
out:
	if (w != NULL) {
		pthread_cond_destroy(&w->progress);
		pthread_cond_destroy(&w->wake);
		pthread_mutex_destroy(&w->mu);
		free(w);
	}
	return r;
}

void
journal_writer_submit(struct journal_writer *w, int64_t time_ns, const void *payload, size_t len)
{
	struct pending *p;

	if (len > JOURNAL_MAX_RECORD) {
		log_error("journal", "an event of %zu bytes is larger than a journal record (%u "
			"bytes): not journaled", len, JOURNAL_MAX_RECORD);
		return;
	}
	p = xmalloc(sizeof(*p) + len);
	p->next = NULL;
	p->time_ns = time_ns;
	p->len = len;
	if (len > 0)
		memcpy(p->payload, payload, len);

	pthread_mutex_lock(&w->mu);
	/* Only when the disk has failed for long: wait rather than drop. */
	while (w->queued_bytes > 0 && w->queued_bytes + len > WRITER_QUEUE_MAX)
		pthread_cond_wait(&w->progress, &w->mu);
	*w->tailp = p;
	w->tailp = &p->next;
	w->queued_bytes += len;
	w->submitted++;
	pthread_cond_signal(&w->wake);
	pthread_mutex_unlock(&w->mu);
}

int
journal_writer_flush(struct journal_writer *w)
{
	uint64_t target, failures;
	int r;

	pthread_mutex_lock(&w->mu);
	target = w->submitted;
	failures = w->failures;
	while (w->durable < target && w->failures == failures)
		pthread_cond_wait(&w->progress, &w->mu);
	r = w->durable >= target ? 0 : w->fail_error;
	pthread_mutex_unlock(&w->mu);
	return r;
}

int
journal_writer_error(struct journal_writer *w)
{
	int r;

	pthread_mutex_lock(&w->mu);
	r = w->error;
	pthread_mutex_unlock(&w->mu);
	return r;
}

void
journal_writer_stop(struct journal_writer *w)
{
	if (w == NULL)
		return;
	pthread_mutex_lock(&w->mu);
	w->stopping = true;
	pthread_cond_signal(&w->wake);
	pthread_mutex_unlock(&w->mu);
	pthread_join(w->thread, NULL);

	pending_free_list(w->head);	/* only if it gave up */
	pthread_cond_destroy(&w->progress);
	pthread_cond_destroy(&w->wake);
	pthread_mutex_destroy(&w->mu);
	free(w);
}
