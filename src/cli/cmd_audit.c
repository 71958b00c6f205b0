/*
 * cmd_audit.c - the audit trail, read straight from the centre's database
 * (no running centre needed, and none trusted):
 *
 *   yingji --data DIR audit verify [--anchor FILE] [--json]
 *   yingji --data DIR audit list [--json] [--after ID] [--limit N]
 *
 * The database is opened read-only (WAL: the centre keeps writing). verify
 * reads the anchor (DIR/audit.head, or the copy given with --anchor, e.g.
 * the one the daily notification carried) before the database, so the
 * anchor is never ahead of what the centre had committed.
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "core/buf.h"
#include "core/i18n.h"
#include "core/json.h"
#include "core/timeutil.h"
#include "core/xalloc.h"
#include "server/store/audit.h"
#include "server/store/db.h"
#include "core/banned.h"

#define DEFAULT_DATADIR		"/var/lib/yingji"
#define DB_NAME			"yingji.db"
#define HEAD_NAME		"audit.head"
#define LIST_DEFAULT		100
#define LIST_MAX		10000
#define SHOW_DETAIL_MAX		300	/* bytes of detail in the human form */
/* One JSON line: six fields of at most AUDIT_FIELD_MAX bytes, each byte at
 * most six when escaped. */
#define LIST_LINE_MAX		(6u * 6 * AUDIT_FIELD_MAX + 4096)

static void
audit_help(FILE *out)
{
	fprintf(out, "%s", L(
		"用法: yingji --data 目录 audit verify [--anchor 文件] [--json]\n"
		"      yingji --data 目录 audit list [--json] [--after 编号] [--limit 条数]\n"
		"\n"
		"审计链：每一次由人或预案引擎做出的写入（事件单创建、状态变更、报告、定级、\n"
		"任务、问责标记、预案加载、登录……）都在同一事务中追加一条记录，每条记录的\n"
		"哈希覆盖前一条的哈希。本命令在中心服务器上以只读方式直接打开 目录/yingji.db\n"
		"（中心服务可以同时运行），不经过 HTTP API。\n"
		"\n"
		"verify  从第 1 条起逐条重算哈希并检查：编号连续（删除留下缺口）、prev 链接、\n"
		"        内容与哈希相符、末尾未被截断（与 AUTOINCREMENT 计数器和锚点比较）、\n"
		"        锚点那条记录的哈希相符（整条链被一致地重写时只有锚点能发现）。\n"
		"  --anchor 文件  用此文件作锚点（格式同 audit.head：\"编号 哈希 时间ns\"，如每日\n"
		"                 通知发出的那一份）；默认读 目录/audit.head（没有则不核对锚点）\n"
		"  --json         输出一个 JSON 对象：ok、records、problem（ok、hash_mismatch、\n"
		"                 broken_link、gap、truncated、anchor_mismatch）、bad_id、detail、\n"
		"                 head{id,hash,time}、anchor{id,hash}（或 null）\n"
		"list    按编号顺序列出记录（时间为北京时间）。\n"
		"  --after 编号   从此编号之后开始（默认 0）\n"
		"  --limit 条数   最多列出的条数（1..10000，默认 100）\n"
		"  --json         每行一个 JSON 对象：id、time、time_ns、actor、action、object、\n"
		"                 detail（按存储原样的 JSON 文本，作为字符串）、prev、hash\n"
		"\n"
		"退出码：0 审计链完整（list：已列出）；1 审计链有问题（输出问题种类、第一条有问题\n"
		"的记录编号和说明）；2 用法错误，或数据库、锚点文件无法读取。\n"
		"手工核验一条记录的方法见 docs/audit.md。\n",
		"Usage: yingji --data DIR audit verify [--anchor FILE] [--json]\n"
		"       yingji --data DIR audit list [--json] [--after ID] [--limit N]\n"
		"\n"
		"The audit trail: every write a person or the plan engine makes (incident\n"
		"created, transition, report, grade, task, accountability flag, plan loaded,\n"
		"login, ...) appends one record in the same transaction, and each record's\n"
		"hash covers the one before. This command opens DIR/yingji.db read-only on\n"
		"the centre's machine (the centre may keep running), not through the HTTP API.\n"
		"\n"
		"verify  recompute every hash from record 1 on and check: ids consecutive (a\n"
		"        deletion leaves a gap), the prev links, content matching its hash, the\n"
		"        end not cut off (against the AUTOINCREMENT counter and the anchor),\n"
		"        the anchor's record having the anchor's hash (a chain rewritten\n"
		"        consistently is caught by the anchor only).\n"
		"  --anchor FILE  the anchor (audit.head's format: \"ID HASH TIME_NS\", e.g. the\n"
		"                 copy a daily notification carried); default DIR/audit.head\n"
		"                 (none there: no anchor check)\n"
		"  --json         print one JSON object: ok, records, problem (ok,\n"
		"                 hash_mismatch, broken_link, gap, truncated, anchor_mismatch),\n"
		"                 bad_id, detail, head{id,hash,time}, anchor{id,hash} (or null)\n"
		"list    print the records in id order (times in Beijing time, UTC+8).\n"
		"  --after ID     start after this id (default 0)\n"
		"  --limit N      at most N records (1..10000, default 100)\n"
		"  --json         one JSON object per line: id, time, time_ns, actor, action,\n"
		"                 object, detail (the stored JSON text, as a string), prev, hash\n"
		"\n"
		"Exit status: 0 the chain holds (list: listed); 1 the chain does not hold (the\n"
		"problem, the first bad record's id and an explanation are printed); 2 usage\n"
		"error, or the database or the anchor file cannot be read.\n"
		"How to check one record by hand: docs/audit.md.\n"));
}

static const char *
problem_label(enum audit_problem p)
{
	switch (p) {
	case AUDIT_OK:
		return L("完整", "intact");
	case AUDIT_HASH_MISMATCH:
		return L("内容与哈希不符", "content does not match its hash");
	case AUDIT_BROKEN_LINK:
		return L("链接断开", "broken link");
	case AUDIT_GAP:
		return L("记录缺失", "records missing");
	case AUDIT_TRUNCATED:
		return L("末尾被截断", "end cut off");
	case AUDIT_ANCHOR_MISMATCH:
		return L("与锚点不符", "does not match the anchor");
	}
	return audit_problem_name(p);
}

/* The data directory of the global options; audit reads files, so --server
 * cannot do. NULL (said why) when not usable. */
static const char *
audit_datadir(const char *cmd)
{
	if (cli_global.server != NULL) {
		fprintf(stderr, "yingji audit %s: %s\n", cmd, L("审计链直接从数据库读取，只能在中心"
			"服务器上用 --data 目录，不能用 --server", "the audit trail is read from the "
			"database itself: use --data DIR on the centre's machine, not --server"));
		return NULL;
	}
	return cli_global.datadir != NULL ? cli_global.datadir : DEFAULT_DATADIR;
}

static int
open_db(const char *cmd, const char *dir, struct db **ret)
{
	char *path = xasprintf("%s/%s", dir, DB_NAME);
	int r;

	r = db_open(path, true, ret);
	if (r == -ENOENT)
		fprintf(stderr, "yingji audit %s: %s: %s\n", cmd, path, L("没有数据库（数据目录不对？）",
			"no database (wrong data directory?)"));
	else if (r == -EACCES || r == -EPERM)
		fprintf(stderr, "yingji audit %s: %s: %s\n", cmd, path, L("无权读取（需要 root）",
			"permission denied (needs root)"));
	else if (r < 0)
		fprintf(stderr, "yingji audit %s: %s: %s\n", cmd, path, strerror(-r));
	free(path);
	return r;
}

static void
print_verdict_json(const struct audit_verdict *v, const struct audit_head *anchor)
{
	struct json j;
	struct buf out;
	char t[64];

	buf_init(&out, 0);
	json_begin(&j, &out);
	json_key_bool(&j, "ok", v->problem == AUDIT_OK);
	json_key_i64(&j, "records", v->records);
	json_key_str(&j, "problem", audit_problem_name(v->problem));
	json_key_i64(&j, "bad_id", v->bad_id);
	json_key_str(&j, "detail", v->detail);
	json_key_object(&j, "head");
	json_key_i64(&j, "id", v->head.id);
	json_key_str(&j, "hash", v->head.hash);
	if (v->head.id > 0) {
		time_format_local(v->head.time_ns, t, sizeof(t));
		json_key_str(&j, "time", t);
	} else {
		json_key_null(&j, "time");
	}
	json_close(&j);
	if (anchor != NULL) {
		json_key_object(&j, "anchor");
		json_key_i64(&j, "id", anchor->id);
		json_key_str(&j, "hash", anchor->hash);
		json_close(&j);
	} else {
		json_key_null(&j, "anchor");
	}
	(void)json_end(&j);
	printf("%s\n", out.data);
	buf_release(&out);
}

static int
audit_verify_cmd(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "anchor", required_argument, NULL, 'a' },
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 }
	};
	struct audit_verdict v;
	struct audit_head anchor;
	struct db *db = NULL;
	const char *dir, *anchor_arg = NULL;
	char *anchor_path = NULL;
	bool json = false, have_anchor = false;
	int opt, r;

	optind = 1;
	while ((opt = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
		switch (opt) {
		case 'a':
			anchor_arg = optarg;
			break;
		case 'j':
			json = true;
			break;
		case 'h':
			audit_help(stdout);
			return 0;
		default:
			audit_help(stderr);
			return 2;
		}
	}
	if (optind != argc) {
		fprintf(stderr, "yingji audit verify: %s '%s'\n", L("多余的参数", "unexpected argument"),
			argv[optind]);
		return 2;
	}
	dir = audit_datadir("verify");
	if (dir == NULL)
		return 2;

	/* the anchor first: it is written after each commit, so the database
	 * read next holds at least what it names */
	anchor_path = anchor_arg != NULL ? xstrdup(anchor_arg) : xasprintf("%s/%s", dir, HEAD_NAME);
	r = audit_head_read(anchor_path, &anchor);
	if (r == 0) {
		have_anchor = true;
	} else if (r != -ENOENT || anchor_arg != NULL) {
		fprintf(stderr, "yingji audit verify: %s: %s\n", anchor_path, r == -EINVAL ?
			L("锚点文件格式无效（应为一行 \"编号 哈希 时间ns\"）",
			"bad anchor file (want one line \"ID HASH TIME_NS\")") : strerror(-r));
		r = 2;
		goto out;
	}

	if (open_db("verify", dir, &db) < 0) {
		r = 2;
		goto out;
	}
	r = audit_verify(db, have_anchor ? &anchor : NULL, &v);
	if (r < 0) {
		fprintf(stderr, "yingji audit verify: %s: %s\n", L("无法读取审计表", "cannot read the "
			"audit table"), db_errmsg(db));
		r = 2;
		goto out;
	}

	if (json) {
		print_verdict_json(&v, have_anchor ? &anchor : NULL);
	} else if (v.problem == AUDIT_OK) {
		printf(L("审计链完整：%" PRId64 " 条记录，末条 #%" PRId64 " %s\n",
			"audit chain intact: %" PRId64 " records, last #%" PRId64 " %s\n"),
			v.records, v.head.id, v.head.hash);
		if (have_anchor)
			printf(L("锚点 #%" PRId64 "（%s）相符\n", "anchor #%" PRId64 " (%s) matches\n"),
				anchor.id, anchor_path);
		else
			printf(L("未核对锚点（没有 %s）：链尾被删除或整条链被重写时无法发现\n",
				"no anchor checked (no %s): a cut-off end or a rewritten chain would "
				"go unnoticed\n"), anchor_path);
	} else {
		if (v.problem == AUDIT_TRUNCATED)
			printf(L("审计链有问题：%s（%s），第一条缺失的记录 #%" PRId64 "\n",
				"audit chain broken: %s (%s), first missing record #%" PRId64 "\n"),
				problem_label(v.problem), audit_problem_name(v.problem), v.bad_id);
		else
			printf(L("审计链有问题：%s（%s），第一条有问题的记录 #%" PRId64 "\n",
				"audit chain broken: %s (%s), first bad record #%" PRId64 "\n"),
				problem_label(v.problem), audit_problem_name(v.problem), v.bad_id);
		printf("%s\n", v.detail);
		printf(L("共读取 %" PRId64 " 条记录，末条 #%" PRId64 "\n",
			"%" PRId64 " records read, the last #%" PRId64 "\n"), v.records, v.head.id);
	}
	r = v.problem == AUDIT_OK ? 0 : 1;
out:
	db_close(db);
	free(anchor_path);
	return r;
}

/* ---- list ---- */

struct list_run {
	bool		 json;
	unsigned	 limit, shown;
	int64_t		 last_id;
	bool		 more;		/* a row past limit exists */
	struct buf	 out;
};

/* Bytes for a terminal: white space runs (a JSON detail may span lines) as
 * one space, other control characters and DEL as \xHH, at most max bytes
 * (then "..."). */
static void
put_shown(const char *s, size_t len, size_t max)
{
	size_t n = len < max ? len : max;
	bool space = false;

	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c == ' ' || c == '\t' || c == '\n' || c == '\r') {
			if (!space)
				putchar(' ');
			space = true;
			continue;
		}
		space = false;
		if (c < 0x20 || c == 0x7f)
			printf("\\x%02x", c);
		else
			putchar(c);
	}
	if (n < len)
		fputs("...", stdout);
}

/* Columns: id, time_ns, actor, action, object, detail, prev, hash. */
static int
list_row(const struct db_row *row, void *data)
{
	struct list_run *lr = data;
	struct json j;
	const char *t[8];
	size_t n[8];
	char when[64];
	int64_t id = db_row_int(row, 0), time_ns = db_row_int(row, 1);

	if (lr->shown == lr->limit) {
		lr->more = true;
		return 1;
	}
	for (int i = 2; i < 8; i++) {
		t[i] = db_row_text(row, i);
		n[i] = t[i] != NULL ? db_row_len(row, i) : 0;
		if (t[i] == NULL)
			t[i] = "";
		if (n[i] > AUDIT_FIELD_MAX)	/* only a hand-edited row; bounds the output */
			n[i] = AUDIT_FIELD_MAX;
	}
	time_format_local(time_ns, when, sizeof(when));
	lr->shown++;
	lr->last_id = id;

	if (lr->json) {
		buf_reset(&lr->out);
		json_begin(&j, &lr->out);
		json_key_i64(&j, "id", id);
		json_key_str(&j, "time", when);
		json_key_i64(&j, "time_ns", time_ns);
		json_key_strn(&j, "actor", t[2], n[2]);
		json_key_strn(&j, "action", t[3], n[3]);
		json_key_strn(&j, "object", t[4], n[4]);
		/* a string holding the stored text byte for byte (which the hash
		 * covers), not the object: it may span lines */
		json_key_strn(&j, "detail", t[5], n[5]);
		json_key_strn(&j, "prev", t[6], n[6]);
		json_key_strn(&j, "hash", t[7], n[7]);
		if (json_end(&j) < 0)
			return -E2BIG;
		fwrite(lr->out.data, 1, lr->out.len, stdout);
		putchar('\n');
		return 0;
	}
	/* "2026-11-22 11:49:38" is enough for a person */
	if (strlen(when) > 19) {
		when[10] = ' ';
		when[19] = '\0';
	}
	printf("#%" PRId64 "  %s  ", id, when);
	put_shown(t[2], n[2], 256);
	putchar(' ');
	put_shown(t[3], n[3], 256);
	putchar(' ');
	put_shown(t[4], n[4], 256);
	putchar(' ');
	put_shown(t[5], n[5], SHOW_DETAIL_MAX);
	printf("  %.12s\n", t[7]);
	return 0;
}

static int
parse_count(const char *s, int64_t lo, int64_t hi, int64_t *ret)
{
	char *end = NULL;
	long long v;

	errno = 0;
	v = strtoll(s, &end, 10);
	if (errno != 0 || end == s || *end != '\0' || v < lo || v > hi)
		return -EINVAL;
	*ret = v;
	return 0;
}

static int
audit_list_cmd(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "after", required_argument, NULL, 'a' },
		{ "limit", required_argument, NULL, 'l' },
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 }
	};
	struct list_run lr = { .limit = LIST_DEFAULT };
	struct db *db = NULL;
	const char *dir;
	int64_t after = 0, v;
	int opt, r;

	optind = 1;
	while ((opt = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
		switch (opt) {
		case 'a':
			if (parse_count(optarg, 0, INT64_MAX, &after) < 0) {
				fprintf(stderr, "yingji audit list: %s\n", L("--after 应为非负整数",
					"--after wants a non-negative integer"));
				return 2;
			}
			break;
		case 'l':
			if (parse_count(optarg, 1, LIST_MAX, &v) < 0) {
				fprintf(stderr, "yingji audit list: %s\n", L("--limit 应为 1..10000",
					"--limit wants 1..10000"));
				return 2;
			}
			lr.limit = (unsigned)v;
			break;
		case 'j':
			lr.json = true;
			break;
		case 'h':
			audit_help(stdout);
			return 0;
		default:
			audit_help(stderr);
			return 2;
		}
	}
	if (optind != argc) {
		fprintf(stderr, "yingji audit list: %s '%s'\n", L("多余的参数", "unexpected argument"),
			argv[optind]);
		return 2;
	}
	dir = audit_datadir("list");
	if (dir == NULL)
		return 2;
	if (open_db("list", dir, &db) < 0)
		return 2;

	buf_init(&lr.out, LIST_LINE_MAX);
	/* one row past the limit says whether there are more */
	r = db_query(db, "SELECT id, time_ns, actor, action, object, detail, prev, hash FROM audit"
		" WHERE id > ?1 ORDER BY id LIMIT ?2", list_row, &lr, "ii", after,
		(int64_t)lr.limit + 1);
	if (r < 0) {
		fprintf(stderr, "yingji audit list: %s: %s\n", L("无法读取审计表",
			"cannot read the audit table"), db_errmsg(db));
		r = 2;
		goto out;
	}
	if (!lr.json && lr.shown == 0)
		printf("%s\n", L("（没有记录）", "(no records)"));
	else if (!lr.json && lr.more)
		printf(L("……还有更多：--after %" PRId64 "\n", "... more: --after %" PRId64 "\n"),
			lr.last_id);
	r = 0;
out:
	buf_release(&lr.out);
	db_close(db);
	return r;
}

int
cmd_audit(int argc, char **argv)
{
	if (argc >= 2 && (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0 ||
		strcmp(argv[1], "help") == 0)) {
		audit_help(stdout);
		return 0;
	}
	if (argc >= 2 && strcmp(argv[1], "verify") == 0)
		return audit_verify_cmd(argc - 1, argv + 1);
	if (argc >= 2 && strcmp(argv[1], "list") == 0)
		return audit_list_cmd(argc - 1, argv + 1);
	audit_help(stderr);
	return 2;
}
