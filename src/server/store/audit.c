/*
 * audit.c - the hash-chained audit trail (audit.h): appending inside the
 * caller's transaction, verifying the whole chain, the head file.
 *
 * Nothing is cached between calls: audit_append reads the last record and
 * the AUTOINCREMENT counter every time, so a transaction the caller rolls
 * back leaves nothing stale behind (a cached head would have to be
 * invalidated on every rollback, and one missed rollback forks the chain).
 *
 * The hash formula joins the fields with "\n", so it is only unambiguous
 * when the fields before detail hold no "\n": append refuses control
 * characters in actor, action and object, and verify treats a record that
 * append would not have written (a "\n" moved from detail into object, say,
 * which leaves the hash unchanged) as edited. detail may hold "\n": prev,
 * after it, has a fixed length.
 *
 * Verify reads the AUTOINCREMENT counter before it scans the rows, each in
 * one statement, and the caller reads the anchor before both: with a writer
 * appending at the same time every later read sees at least as much as the
 * earlier one, so neither the counter nor the anchor can be ahead of the
 * rows scanned unless records were really removed.
 */
#include "server/store/audit.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/fdio.h"
#include "core/i18n.h"
#include "core/json_check.h"
#include "core/utf8.h"
#include "core/xalloc.h"
#include "tls/sha256.h"
#include "core/banned.h"

#define AUDIT_NAME_MAX		256	/* bytes of actor, action, object */
#define AUDIT_DETAIL_DEPTH	64	/* JSON nesting in detail */
#define HEAD_FILE_MAX		128	/* "<id> <hash> <time_ns>\n" is at most 104 bytes */
#define DEC_MAX			19	/* digits of INT64_MAX */

static const char magic[] = "yingji-audit-v1\n";
static const char zero_hash[AUDIT_HASH_HEX + 1] =
	"0000000000000000000000000000000000000000000000000000000000000000";

/* One field as stored: p[0..len), p never NULL. */
struct field {
	const char	*p;
	size_t		 len;
};

/* The hashed fields in formula order (the id comes first, as a number). */
enum {
	F_TIME,
	F_ACTOR,
	F_ACTION,
	F_OBJECT,
	F_DETAIL,
	F_PREV,
	F_HASHED,	/* fields in the formula */
	F_HASH = F_HASHED,
	F_COUNT,
};

static void
record_hash(struct sha256 *h, int64_t id, const struct field f[F_HASHED],
	char out[AUDIT_HASH_HEX + 1])
{
	uint8_t d[SHA256_LEN];
	char num[32];
	int n;

	n = snprintf(num, sizeof(num), "%" PRId64 "\n", id);
	sha256_update(h, magic, sizeof(magic) - 1);
	sha256_update(h, num, (size_t)n);
	for (int i = F_TIME; i < F_PREV; i++) {
		sha256_update(h, f[i].p, f[i].len);
		sha256_update(h, "\n", 1);
	}
	sha256_update(h, f[F_PREV].p, f[F_PREV].len);
	sha256_final(h, d);
	sha256_to_hex(d, out);
}

/* actor, action, object: at most AUDIT_NAME_MAX bytes of UTF-8 without
 * control characters (so without the "\n" that separates the fields);
 * may_be_empty for object. */
static int
name_check(const char *p, size_t len, bool may_be_empty)
{
	if (len > AUDIT_NAME_MAX)
		return -E2BIG;
	if (len == 0 && !may_be_empty)
		return -EINVAL;
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)p[i];

		if (c < 0x20 || c == 0x7f)
			return -EINVAL;
	}
	return utf8_valid(p, len) ? 0 : -EINVAL;
}

static int
detail_check(const char *p, size_t len)
{
	if (len > AUDIT_FIELD_MAX)
		return -E2BIG;
	return json_check_object(p, len, AUDIT_DETAIL_DEPTH, NULL) == 0 ? 0 : -EINVAL;
}

static bool
hash_valid(const char *p, size_t len)
{
	if (len != AUDIT_HASH_HEX)
		return false;
	for (size_t i = 0; i < len; i++)
		if (!((p[i] >= '0' && p[i] <= '9') || (p[i] >= 'a' && p[i] <= 'f')))
			return false;
	return true;
}

/* A non-negative decimal without sign or leading zeros, as printf writes
 * it; the whole of p[0..len). */
static int
dec_parse(const char *p, size_t len, int64_t *ret)
{
	int64_t v = 0;

	if (len == 0 || len > DEC_MAX || (p[0] == '0' && len > 1))
		return -EINVAL;
	for (size_t i = 0; i < len; i++) {
		if (p[i] < '0' || p[i] > '9')
			return -EINVAL;
		if (v > (INT64_MAX - (p[i] - '0')) / 10)
			return -EINVAL;
		v = v * 10 + (p[i] - '0');
	}
	*ret = v;
	return 0;
}

static bool
head_valid(const struct audit_head *h)
{
	size_t n = strnlen(h->hash, sizeof(h->hash));

	if (h->id < 0 || h->time_ns < 0 || !hash_valid(h->hash, n))
		return false;
	/* the empty chain's head is exactly the first record's prev */
	return h->id > 0 || (h->time_ns == 0 && strcmp(h->hash, zero_hash) == 0);
}

static void
head_set(struct audit_head *h, int64_t id, const char *hash, size_t hash_len, int64_t time_ns)
{
	size_t n = hash_len < AUDIT_HASH_HEX ? hash_len : AUDIT_HASH_HEX;

	h->id = id;
	if (hash != NULL)
		memcpy(h->hash, hash, n);
	else
		n = 0;
	h->hash[n] = '\0';
	h->time_ns = time_ns;
}

static int
head_row(const struct db_row *row, void *data)
{
	struct audit_head *h = data;
	int64_t id = db_row_int(row, 0), time_ns = db_row_int(row, 2);
	const char *hash = db_row_text(row, 1);

	head_set(h, id, hash, db_row_len(row, 1), time_ns);
	return 1;
}

int
audit_head_get(struct db *s, struct audit_head *ret)
{
	struct audit_head h;
	int r;

	if (s == NULL || ret == NULL)
		return -EINVAL;
	head_set(&h, 0, zero_hash, AUDIT_HASH_HEX, 0);
	r = db_query(s, "SELECT id, hash, time_ns FROM audit ORDER BY id DESC LIMIT 1",
		head_row, &h, "");
	if (r < 0)
		return r;
	*ret = h;
	return 0;
}

static int
int_row(const struct db_row *row, void *data)
{
	*(int64_t *)data = db_row_int(row, 0);
	return 1;
}

/* The AUTOINCREMENT counter: the largest id the table ever held (0: none). */
static int
audit_counter(struct db *s, int64_t *ret)
{
	int64_t seq = 0;
	int r;

	r = db_query(s, "SELECT seq FROM sqlite_sequence WHERE name = 'audit'", int_row, &seq, "");
	if (r < 0)
		return r;
	*ret = seq;
	return 0;
}

int
audit_append(struct db *s, int64_t time_ns, const char *actor, const char *action,
	const char *object, const char *detail, struct audit_head *ret_head)
{
	struct audit_head last;
	struct field f[F_HASHED];
	struct sha256 *h = NULL;
	char time[32], hash[AUDIT_HASH_HEX + 1];
	int64_t seq, id;
	int n, r;

	if (s == NULL || actor == NULL || action == NULL || object == NULL || time_ns < 0)
		return -EINVAL;
	if (detail == NULL)
		detail = "{}";
	f[F_ACTOR] = (struct field){ actor, strnlen(actor, AUDIT_NAME_MAX + 1) };
	f[F_ACTION] = (struct field){ action, strnlen(action, AUDIT_NAME_MAX + 1) };
	f[F_OBJECT] = (struct field){ object, strnlen(object, AUDIT_NAME_MAX + 1) };
	f[F_DETAIL] = (struct field){ detail, strnlen(detail, AUDIT_FIELD_MAX + 1) };
	r = name_check(actor, f[F_ACTOR].len, false);
	if (r == 0)
		r = name_check(action, f[F_ACTION].len, false);
	if (r == 0)
		r = name_check(object, f[F_OBJECT].len, true);
	if (r == 0)
		r = detail_check(detail, f[F_DETAIL].len);
	if (r < 0)
		return r;

	r = audit_head_get(s, &last);
	if (r < 0)
		return r;
	r = audit_counter(s, &seq);
	if (r < 0)
		return r;
	/* What AUTOINCREMENT would choose; chosen here because the hash covers
	 * it. After a deletion at the end (counter > last id) the gap stays. */
	id = seq > last.id ? seq : last.id;
	if (id == INT64_MAX)
		return -EOVERFLOW;
	id++;

	n = snprintf(time, sizeof(time), "%" PRId64, time_ns);
	f[F_TIME] = (struct field){ time, (size_t)n };
	f[F_PREV] = (struct field){ last.hash, strlen(last.hash) };
	h = sha256_new();
	record_hash(h, id, f, hash);
	r = db_exec(s, "INSERT INTO audit (id, time_ns, actor, action, object, detail, prev, hash)"
		" VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)", "iitttttt", id, time_ns, actor, action,
		object, detail, last.hash, hash);
	if (r < 0)
		goto out;

	if (ret_head != NULL)
		head_set(ret_head, id, hash, AUDIT_HASH_HEX, time_ns);
	r = 0;
out:
	sha256_free(h);
	return r;
}

const char *
audit_problem_name(enum audit_problem p)
{
	static const char *const names[] = {
		[AUDIT_OK] = "ok",
		[AUDIT_HASH_MISMATCH] = "hash_mismatch",
		[AUDIT_BROKEN_LINK] = "broken_link",
		[AUDIT_GAP] = "gap",
		[AUDIT_TRUNCATED] = "truncated",
		[AUDIT_ANCHOR_MISMATCH] = "anchor_mismatch",
	};

	if ((unsigned)p >= sizeof(names) / sizeof(names[0]))
		return "unknown";
	return names[p];
}

/* ---- verify ---- */

struct verify_run {
	struct sha256		*h;
	const struct audit_head	*anchor;	/* NULL: none */
	struct audit_verdict	*v;		/* problem, bad_id, records, head, detail */
	int64_t			 expected;	/* the next id */
	char			 prev[AUDIT_HASH_HEX + 1];	/* the last good record's hash */
};

static void
verdict_set(struct audit_verdict *v, enum audit_problem p, int64_t bad_id, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

static void
verdict_set(struct audit_verdict *v, enum audit_problem p, int64_t bad_id, const char *fmt, ...)
{
	va_list ap;

	v->problem = p;
	v->bad_id = bad_id;
	va_start(ap, fmt);
	vsnprintf(v->detail, sizeof(v->detail), fmt, ap);
	va_end(ap);
}

/* Would audit_append have written this record? (time a plain decimal, names
 * without control characters, detail one JSON object: otherwise bytes may
 * have moved between fields without changing the hash.) */
static bool
record_canonical(const struct field f[F_COUNT], const bool null[F_COUNT])
{
	int64_t t;

	for (int i = 0; i < F_COUNT; i++)
		if (null[i])
			return false;
	return dec_parse(f[F_TIME].p, f[F_TIME].len, &t) == 0 &&
		name_check(f[F_ACTOR].p, f[F_ACTOR].len, false) == 0 &&
		name_check(f[F_ACTION].p, f[F_ACTION].len, false) == 0 &&
		name_check(f[F_OBJECT].p, f[F_OBJECT].len, true) == 0 &&
		detail_check(f[F_DETAIL].p, f[F_DETAIL].len) == 0;
}

/* Columns: id, time_ns, actor, action, object, detail, prev, hash. */
static int
verify_row(const struct db_row *row, void *data)
{
	struct verify_run *vr = data;
	struct audit_verdict *v = vr->v;
	struct field f[F_COUNT];
	bool null[F_COUNT];
	char hash[AUDIT_HASH_HEX + 1];
	int64_t id = db_row_int(row, 0);
	int64_t time_ns = db_row_int(row, 1);	/* before the text: no conversion in between */

	for (int i = 0; i < F_COUNT; i++) {
		const char *p = db_row_text(row, 1 + i);

		null[i] = p == NULL;
		f[i].p = p != NULL ? p : "";
		f[i].len = p != NULL ? db_row_len(row, 1 + i) : 0;
	}
	v->records++;
	head_set(&v->head, id, f[F_HASH].p, f[F_HASH].len, time_ns);
	if (v->problem != AUDIT_OK)
		return 0;	/* the first problem is named; the rest only counted */

	if (id != vr->expected) {
		if (id > vr->expected && id - 1 > vr->expected)
			verdict_set(v, AUDIT_GAP, id, L("记录 #%" PRId64 " 至 #%" PRId64 " 缺失（已被删除）",
				"records #%" PRId64 " to #%" PRId64 " are missing (deleted)"),
				vr->expected, id - 1);
		else if (id > vr->expected)
			verdict_set(v, AUDIT_GAP, id, L("记录 #%" PRId64 " 缺失（已被删除）",
				"record #%" PRId64 " is missing (deleted)"), vr->expected);
		else
			verdict_set(v, AUDIT_GAP, id, L("出现了不应有的记录编号 #%" PRId64
				"（应为 #%" PRId64 "）", "record id #%" PRId64 " should not exist (expected #%"
				PRId64 ")"), id, vr->expected);
		return 0;
	}
	if (null[F_PREV] || f[F_PREV].len != AUDIT_HASH_HEX ||
		memcmp(f[F_PREV].p, vr->prev, AUDIT_HASH_HEX) != 0) {
		if (id == 1)
			verdict_set(v, AUDIT_BROKEN_LINK, id, "%s", L("记录 #1 的 prev 不是 64 个 0"
				"（链首被替换）", "record #1's prev is not 64 zeros (the start was replaced)"));
		else
			verdict_set(v, AUDIT_BROKEN_LINK, id, L("记录 #%" PRId64 " 的 prev 不是记录 #%"
				PRId64 " 的哈希（记录被替换或调换）", "record #%" PRId64 "'s prev is not record #%"
				PRId64 "'s hash (a record was replaced or moved)"), id, id - 1);
		return 0;
	}
	if (!record_canonical(f, null)) {
		verdict_set(v, AUDIT_HASH_MISMATCH, id, L("记录 #%" PRId64 " 的字段不是本程序写入的形式"
			"（被改动）", "record #%" PRId64 "'s fields are not as this program writes them "
			"(edited)"), id);
		return 0;
	}
	record_hash(vr->h, id, f, hash);
	if (f[F_HASH].len != AUDIT_HASH_HEX || memcmp(f[F_HASH].p, hash, AUDIT_HASH_HEX) != 0) {
		verdict_set(v, AUDIT_HASH_MISMATCH, id, L("记录 #%" PRId64 " 的内容与其哈希不符"
			"（被改动）", "record #%" PRId64 "'s content does not give its hash (edited)"), id);
		return 0;
	}
	if (vr->anchor != NULL && vr->anchor->id == id && strcmp(vr->anchor->hash, hash) != 0) {
		verdict_set(v, AUDIT_ANCHOR_MISMATCH, id, L("记录 #%" PRId64 " 的哈希与锚点不符："
			"此前的记录已被重写", "record #%" PRId64 "'s hash is not the anchor's: the records "
			"up to it were rewritten"), id);
		return 0;
	}
	memcpy(vr->prev, hash, sizeof(hash));
	vr->expected = id + 1;
	return 0;
}

int
audit_verify(struct db *s, const struct audit_head *anchor, struct audit_verdict *ret)
{
	struct audit_verdict v;
	struct verify_run vr;
	int64_t seq, last, missing_to;
	int r;

	if (s == NULL || ret == NULL || (anchor != NULL && !head_valid(anchor)))
		return -EINVAL;
	memset(&v, 0, sizeof(v));
	head_set(&v.head, 0, zero_hash, AUDIT_HASH_HEX, 0);
	memset(&vr, 0, sizeof(vr));
	vr.anchor = anchor;
	vr.v = &v;
	vr.expected = 1;
	memcpy(vr.prev, zero_hash, sizeof(zero_hash));

	r = audit_counter(s, &seq);
	if (r < 0)
		goto out;
	vr.h = sha256_new();
	r = db_query(s, "SELECT id, time_ns, actor, action, object, detail, prev, hash FROM audit"
		" ORDER BY id", verify_row, &vr, "");
	if (r < 0)
		goto out;

	if (v.problem == AUDIT_OK) {
		last = vr.expected - 1;
		missing_to = seq;
		if (anchor != NULL && anchor->id > missing_to)
			missing_to = anchor->id;
		if (missing_to > last) {
			if (anchor != NULL && anchor->id > last)
				verdict_set(&v, AUDIT_TRUNCATED, last + 1, L("末尾的记录 #%" PRId64
					" 至 #%" PRId64 " 缺失（锚点为 #%" PRId64 "，计数器为 %" PRId64 "）",
					"the last records #%" PRId64 " to #%" PRId64 " are missing (the anchor "
					"is #%" PRId64 ", the counter %" PRId64 ")"), last + 1, missing_to,
					anchor->id, seq);
			else
				verdict_set(&v, AUDIT_TRUNCATED, last + 1, L("末尾的记录 #%" PRId64
					" 至 #%" PRId64 " 缺失（AUTOINCREMENT 计数器为 %" PRId64 "）",
					"the last records #%" PRId64 " to #%" PRId64 " are missing (the "
					"AUTOINCREMENT counter is %" PRId64 ")"), last + 1, missing_to, seq);
		} else {
			snprintf(v.detail, sizeof(v.detail), L("%" PRId64 " 条记录，末条 #%" PRId64,
				"%" PRId64 " records, the last #%" PRId64), v.records, v.head.id);
		}
	}

	*ret = v;
	r = 0;
out:
	sha256_free(vr.h);
	return r;
}

/* ---- the head file ---- */

int
audit_head_write(const char *path, const struct audit_head *h)
{
	char line[HEAD_FILE_MAX], *tmp = NULL, *dir = NULL;
	const char *slash;
	bool created = false;
	int fd = -1, n, r;

	if (path == NULL || path[0] == '\0' || h == NULL || !head_valid(h))
		return -EINVAL;
	n = snprintf(line, sizeof(line), "%" PRId64 " %s %" PRId64 "\n", h->id, h->hash, h->time_ns);
	if (n < 0 || (size_t)n >= sizeof(line))
		return -EINVAL;

	/* the temporary file in the same directory, so rename() is atomic */
	tmp = xasprintf("%s.XXXXXX", path);
	fd = mkostemp(tmp, O_CLOEXEC);
	if (fd < 0) {
		r = -errno;
		goto out;
	}
	created = true;
	if (fchmod(fd, 0600) < 0) {
		r = -errno;
		goto out;
	}
	r = fd_write_all(fd, line, (size_t)n);
	if (r < 0)
		goto out;
	if (fsync(fd) < 0) {
		r = -errno;
		goto out;
	}
	r = close(fd);
	fd = -1;
	if (r < 0) {
		r = -errno;
		goto out;
	}
	if (rename(tmp, path) < 0) {
		r = -errno;
		goto out;
	}
	created = false;

	/* and the rename itself durable */
	slash = strrchr(path, '/');
	dir = slash == NULL ? xstrdup(".") : slash == path ? xstrdup("/") :
		xstrndup(path, (size_t)(slash - path));
	fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0) {
		r = -errno;
		goto out;
	}
	r = fsync(fd) < 0 ? -errno : 0;
out:
	if (fd >= 0)
		close(fd);
	if (created)
		(void)unlink(tmp);
	free(tmp);
	free(dir);
	return r;
}

/* "<id> <hash> <time_ns>\n" and nothing else. */
static int
head_parse(const char *p, size_t len, struct audit_head *ret)
{
	struct audit_head h;
	const char *end = p + len, *sp;

	if (len == 0 || p[len - 1] != '\n')
		return -EINVAL;
	end--;
	sp = memchr(p, ' ', (size_t)(end - p));
	if (sp == NULL || dec_parse(p, (size_t)(sp - p), &h.id) < 0)
		return -EINVAL;
	p = sp + 1;
	if (end - p < AUDIT_HASH_HEX + 2 || !hash_valid(p, AUDIT_HASH_HEX) ||
		p[AUDIT_HASH_HEX] != ' ')
		return -EINVAL;
	memcpy(h.hash, p, AUDIT_HASH_HEX);
	h.hash[AUDIT_HASH_HEX] = '\0';
	p += AUDIT_HASH_HEX + 1;
	if (dec_parse(p, (size_t)(end - p), &h.time_ns) < 0)
		return -EINVAL;
	if (!head_valid(&h))
		return -EINVAL;
	*ret = h;
	return 0;
}

int
audit_head_read(const char *path, struct audit_head *ret)
{
	struct stat st;
	char *data = NULL;
	size_t len = 0;
	int fd = -1, r;

	if (path == NULL || ret == NULL)
		return -EINVAL;
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
	if (fd < 0)
		return -errno;
	if (fstat(fd, &st) < 0) {
		r = -errno;
		goto out;
	}
	if (!S_ISREG(st.st_mode) || st.st_size > HEAD_FILE_MAX) {
		r = -EINVAL;
		goto out;
	}
	r = fd_read_all(fd, HEAD_FILE_MAX, &data, &len);
	if (r == -EFBIG)
		r = -EINVAL;
	if (r < 0)
		goto out;
	r = head_parse(data, len, ret);
out:
	if (fd >= 0)
		close(fd);
	free(data);
	return r;
}
