/*
 * cmd_detect.c - detection on log files without a centre:
 *
 *   yingji detect --rules DIR [--rules DIR...] [--format F] [--suppress T]
 *                 [--json] FILE...      Sigma rules over log lines, alerts out
 *   yingji rules check DIR...           load and compile rules, say what is refused
 *
 * Lines are read in blocks and cut at RECORD_MAX_LINE (the record is marked
 * truncated and the alert says so); each line is decoded (detect/decode.h)
 * and given to the detector (detect/detector.h), which calls back with the
 * alerts. A summary (lines, alerts per rule, lines/s) ends the run: on stdout
 * in the human form, on stderr with --json so that stdout holds only alerts.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cli/cli.h"
#include "core/buf.h"
#include "core/i18n.h"
#include "core/json.h"
#include "core/timeutil.h"
#include "core/xalloc.h"
#include "detect/decode/decode.h"
#include "detect/detector.h"
#include "detect/record.h"
#include "detect/sigma/rule.h"
#include "core/banned.h"

#define MAX_RULE_DIRS	64
#define READ_BLOCK	(1024 * 1024)
#define SHOW_VALUE_MAX	200		/* bytes of a matched value in the human form */
#define MAX_CUT_NOTES	20		/* truncated lines said on stderr, then only counted */

/* Alerts per rule, for the summary: an open-addressing table on the id. */
struct rule_tally {
	const char	*id;		/* NULL: empty slot */
	const char	*title;
	enum sigma_level level;
	bool		 correlation;
	uint64_t	 alerts, matches;
};

struct detect_run {
	bool			 json;
	const char		*file;		/* the file being read (for the alerts) */
	struct buf		 out;		/* one alert, then written */
	struct rule_tally	*tally;
	size_t			 tally_cap, tally_len;
	uint64_t		 alerts;
	uint64_t		 truncated;	/* lines cut at RECORD_MAX_LINE */
};

/* A line reader over a file descriptor: lines without their "\n" (and
 * "\r"), at most RECORD_MAX_LINE bytes; longer ones are cut and flagged. */
struct line_reader {
	int	 fd;
	char	*buf;
	size_t	 start, end;
	bool	 eof, skipping;		/* skipping: the rest of a cut line */
	int	 err;
};

static void
detect_help(FILE *out)
{
	fprintf(out, "%s", L(
		"用法: yingji detect --rules 目录 [--rules 目录...] [--format 格式]\n"
		"                    [--suppress 时长] [--json] [--cache 目录 | --no-cache]\n"
		"                    [--no-filter] 文件...\n"
		"\n"
		"用 Sigma 规则检测日志文件（文件为 - 时读标准输入），逐行解码后匹配，输出告警。\n"
		"  --rules 目录    加载目录下（递归）所有 *.yml / *.yaml 规则，可给多次；无法使用的\n"
		"                  规则在标准错误上逐条说明原因，其余规则照常工作\n"
		"  --format 格式   auto（默认，逐行识别）、syslog、nginx、apache、json\n"
		"  --suppress 时长 普通规则对同一来源（c-ip、src_ip 或 user）在该时长内只告警一次，\n"
		"                  其余计入 count（如 10m）\n"
		"  --json          每行一个 JSON 告警：rule_id、title、level、file、line、time、\n"
		"                  matched（命中的字段）、count、correlation、group、truncated；\n"
		"                  汇总写到标准错误\n"
		"  --cache 目录    编译好的规则（Hyperscan 数据库）保存在此目录，下次直接载入；\n"
		"                  默认 $YINGJI_CACHE，或 $XDG_CACHE_HOME/yingji，或\n"
		"                  ~/.cache/yingji（0700，须属于本用户且他人不可写，否则不用）\n"
		"  --no-cache      不保存也不载入编译结果（每次重新编译）\n"
		"  --no-filter     关闭行过滤，逐行解码（默认先用一次 Hyperscan 扫描整块日志，\n"
		"                  只解码可能命中某条规则的行；结果相同，只是更慢）\n"
		"\n"
		"超过 64 KiB 的行被截断并标记。结束时输出汇总：读取的行数、各规则的告警数、\n"
		"每秒行数。退出码：0 完成（无论有无告警）；2 用法错误或规则目录、文件无法读取。\n"
		"默认规则在源码的 rules/ 目录（说明见 docs/detect.md）。\n",
		"Usage: yingji detect --rules DIR [--rules DIR...] [--format FORMAT]\n"
		"                     [--suppress DURATION] [--json] [--cache DIR | --no-cache]\n"
		"                     [--no-filter] FILE...\n"
		"\n"
		"Run Sigma rules over log files (FILE - reads standard input): each line is\n"
		"decoded, matched, and the alerts are printed.\n"
		"  --rules DIR     load every *.yml / *.yaml under DIR (recursively); may be\n"
		"                  given several times. Rules that cannot be used are listed on\n"
		"                  standard error with the reason; the others work\n"
		"  --format FORMAT auto (default, sniffed per line), syslog, nginx, apache, json\n"
		"  --suppress DURATION\n"
		"                  plain rules: one alert per rule and source (c-ip, src_ip or\n"
		"                  user) within DURATION (e.g. 10m), the rest added to count\n"
		"  --json          one JSON alert per line: rule_id, title, level, file, line,\n"
		"                  time, matched (the fields that matched), count, correlation,\n"
		"                  group, truncated; the summary goes to standard error\n"
		"  --cache DIR     keep the compiled rules (Hyperscan databases) in DIR and load\n"
		"                  them next time; default $YINGJI_CACHE, else\n"
		"                  $XDG_CACHE_HOME/yingji, else ~/.cache/yingji (0700; not used\n"
		"                  unless it is the user's own and no one else may write to it)\n"
		"  --no-cache      neither keep nor load compiled rules (compile every time)\n"
		"  --no-filter     decode every line (by default one Hyperscan scan of each\n"
		"                  block picks the lines some rule could match, and only those\n"
		"                  are decoded; the alerts are the same, only slower)\n"
		"\n"
		"Lines longer than 64 KiB are cut and marked. A summary ends the run: lines\n"
		"read, alerts per rule, lines per second. Exit status: 0 done (alerts or not);\n"
		"2 usage error, or a rules directory or file that cannot be read.\n"
		"The default rules are in the source's rules/ directory (see docs/detect.md).\n"));
}

static void
rules_help(FILE *out)
{
	fprintf(out, "%s", L(
		"用法: yingji rules check 目录...\n"
		"\n"
		"加载并编译目录下（递归）所有 Sigma 规则（*.yml / *.yaml），报告加载的数量\n"
		"（普通规则、关联规则），并逐条列出被拒绝的规则：文件、行号和原因（YAML 语法、\n"
		"未知修饰符、条件引用不存在的选择、Hyperscan 与 PCRE2 都无法编译的正则……）。\n"
		"退出码：0 目录可读（即使有规则被拒绝）；2 用法错误或目录无法读取。\n",
		"Usage: yingji rules check DIR...\n"
		"\n"
		"Load and compile every Sigma rule (*.yml / *.yaml) under DIR (recursively),\n"
		"report how many loaded (plain rules, correlation rules) and list each rule\n"
		"refused with its file, line and reason (YAML syntax, unknown modifier, a\n"
		"condition naming no selection, a regular expression neither Hyperscan nor\n"
		"PCRE2 compiles...).\n"
		"Exit status: 0 the directories could be read (even with rules refused);\n"
		"2 usage error or a directory that cannot be read.\n"));
}

static const char *
level_label(enum sigma_level l)
{
	switch (l) {
	case SIGMA_INFORMATIONAL:
		return L("信息", "info");
	case SIGMA_LOW:
		return L("低", "low");
	case SIGMA_MEDIUM:
		return L("中", "medium");
	case SIGMA_HIGH:
		return L("高", "high");
	case SIGMA_CRITICAL:
		return L("严重", "critical");
	}
	return "?";
}

/* Bytes for a terminal: control characters and DEL as \xHH, at most max bytes
 * (then "..."). */
static void
put_shown(struct buf *b, const char *s, size_t len, size_t max)
{
	static const char hexdig[] = "0123456789abcdef";
	size_t n = len < max ? len : max;

	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c < 0x20 || c == 0x7f) {
			(void)buf_appendf(b, "\\x%c%c", hexdig[c >> 4], hexdig[c & 15]);
		} else {
			(void)buf_putc(b, (char)c);
		}
	}
	if (n < len)
		(void)buf_puts(b, "...");
}

static void
print_errors_buf(const struct buf *errors)
{
	const char *p = errors->data, *end = errors->data + errors->len;

	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		size_t n = nl != NULL ? (size_t)(nl - p) : (size_t)(end - p);

		if (n > 0)
			fprintf(stderr, "yingji: %s: %.*s\n", L("规则无法编译", "rule not compiled"),
				(int)n, p);
		p += n + 1;
	}
}

static void
print_refused(const struct sigma_ruleset *rs, size_t from)
{
	for (size_t i = from; i < rs->nerrors; i++)
		fprintf(stderr, "yingji: %s: %s:%u: %s\n", L("规则被拒绝", "rule refused"),
			rs->errors[i].path != NULL ? rs->errors[i].path : "-", rs->errors[i].line,
			rs->errors[i].message != NULL ? rs->errors[i].message : "");
}

/* --- the tally ----------------------------------------------------------- */

static uint64_t
hash_str(const char *s)
{
	uint64_t h = 1469598103934665603ull;

	for (; *s; s++) {
		h ^= (unsigned char)*s;
		h *= 1099511628211ull;
	}
	return h;
}

static void
tally_add(struct detect_run *run, const struct alert *a)
{
	const char *id = a->rule_id != NULL ? a->rule_id : "-";
	size_t i;

	if ((run->tally_len + 1) * 2 > run->tally_cap) {
		struct rule_tally *old = run->tally;
		size_t oldcap = run->tally_cap;

		run->tally_cap = oldcap ? oldcap * 2 : 64;
		run->tally = xcalloc(run->tally_cap, sizeof(*run->tally));
		for (size_t k = 0; k < oldcap; k++) {
			if (old[k].id == NULL)
				continue;
			i = hash_str(old[k].id) & (run->tally_cap - 1);
			while (run->tally[i].id != NULL)
				i = (i + 1) & (run->tally_cap - 1);
			run->tally[i] = old[k];
		}
		free(old);
	}
	i = hash_str(id) & (run->tally_cap - 1);
	while (run->tally[i].id != NULL && strcmp(run->tally[i].id, id) != 0)
		i = (i + 1) & (run->tally_cap - 1);
	if (run->tally[i].id == NULL) {
		run->tally[i].id = id;		/* the ruleset outlives the tally */
		run->tally[i].title = a->title != NULL ? a->title : "";
		run->tally[i].level = a->level;
		run->tally[i].correlation = a->correlation;
		run->tally_len++;
	}
	/* The rest of an attack already alerted adds matches, not an alert. */
	if (!a->continued)
		run->tally[i].alerts++;
	run->tally[i].matches += a->count ? a->count : 1;
}

static int
tally_cmp(const void *a, const void *b)
{
	const struct rule_tally *x = a, *y = b;

	if (x->alerts != y->alerts)
		return x->alerts > y->alerts ? -1 : 1;
	return strcmp(x->id, y->id);
}

/* --- alerts -------------------------------------------------------------- */

static void
alert_json(struct detect_run *run, const struct alert *a, const struct record *rec, const char *file)
{
	struct json j;
	char t[64];

	json_begin(&j, &run->out);
	json_key_str(&j, "rule_id", a->rule_id != NULL ? a->rule_id : "");
	json_key_str(&j, "title", a->title != NULL ? a->title : "");
	json_key_str(&j, "level", sigma_level_name(a->level));
	if (file != NULL)
		json_key_str(&j, "file", file);
	else
		json_key_null(&j, "file");
	if (rec != NULL)
		json_key_u64(&j, "line", rec->line_no);
	else
		json_key_null(&j, "line");
	if (rec != NULL && rec->time_ns != 0) {
		time_format_local(rec->time_ns, t, sizeof(t));
		json_key_str(&j, "time", t);
	} else {
		json_key_null(&j, "time");
	}
	json_key_object(&j, "matched");
	if (a->matched != NULL) {
		const char *p = a->matched;

		while (*p != '\0') {
			const char *nl = strchr(p, '\n');
			size_t n = nl != NULL ? (size_t)(nl - p) : strlen(p);
			const char *eq = memchr(p, '=', n);

			if (eq != NULL && eq > p) {
				char key[128];
				size_t klen = (size_t)(eq - p) < sizeof(key) - 1 ? (size_t)(eq - p)
					: sizeof(key) - 1;

				memcpy(key, p, klen);
				key[klen] = '\0';
				json_key_strn(&j, key, eq + 1, n - (size_t)(eq - p) - 1);
			}
			p += n;
			if (*p == '\n')
				p++;
		}
	}
	json_close(&j);
	json_key_u64(&j, "count", a->count ? a->count : 1);
	json_key_bool(&j, "correlation", a->correlation);
	json_key_bool(&j, "continued", a->continued);
	if (a->group != NULL)
		json_key_str(&j, "group", a->group);
	else
		json_key_null(&j, "group");
	json_key_bool(&j, "truncated", rec != NULL && rec->truncated);
	if (a->first_ns != 0 || a->last_ns != 0) {
		json_key_i64(&j, "first", a->first_ns);
		json_key_i64(&j, "last", a->last_ns);
	}
	(void)json_end(&j);
	(void)buf_putc(&run->out, '\n');
}

static void
alert_human(struct detect_run *run, const struct alert *a, const struct record *rec, const char *file)
{
	struct buf *b = &run->out;
	char t[64];

	if (rec != NULL && rec->time_ns != 0) {
		time_format_local(rec->time_ns, t, sizeof(t));
		/* "2026-11-22T11:49:38" is enough for a person */
		if (strlen(t) > 19)
			t[19] = '\0';
	} else {
		memcpy(t, "-", 2);
	}
	(void)buf_appendf(b, "%s [%s] %s", t, level_label(a->level), a->title != NULL ? a->title : "");
	if (a->continued)
		(void)buf_appendf(b, " (%s %llu)", L("续：同一攻击此后又有", "continued: the same attack, "
			"further matches"), (unsigned long long)a->count);
	else if (a->correlation)
		(void)buf_appendf(b, " (%s %llu)", L("关联，次数", "correlation, count"),
			(unsigned long long)(a->count ? a->count : 1));
	else if (a->count > 1)
		(void)buf_appendf(b, " (x%llu)", (unsigned long long)a->count);
	(void)buf_appendf(b, "  %s:", file != NULL ? file : "-");
	if (rec != NULL)
		(void)buf_appendf(b, "%llu", (unsigned long long)rec->line_no);
	else
		(void)buf_putc(b, '-');
	if (rec != NULL && rec->truncated)
		(void)buf_appendf(b, " %s", L("[行已截断]", "[line truncated]"));
	if (a->group != NULL && a->group[0] != '\0') {
		(void)buf_appendf(b, "  %s ", L("分组", "group"));
		put_shown(b, a->group, strlen(a->group), SHOW_VALUE_MAX);
	}
	if (a->matched != NULL && a->matched[0] != '\0') {
		const char *p = a->matched;
		bool first = true;

		(void)buf_puts(b, "  ");
		while (*p != '\0') {
			const char *nl = strchr(p, '\n');
			size_t n = nl != NULL ? (size_t)(nl - p) : strlen(p);

			if (!first)
				(void)buf_puts(b, ", ");
			put_shown(b, p, n, SHOW_VALUE_MAX);
			first = false;
			p += n;
			if (*p == '\n')
				p++;
		}
	}
	(void)buf_putc(b, '\n');
}

static void
on_alert(const struct alert *a, void *data)
{
	struct detect_run *run = data;
	const struct record *rec = a->record;
	const char *file = run->file;

	/* A flushed alert names the file read last: alerts carry no file. */
	buf_reset(&run->out);
	if (run->json)
		alert_json(run, a, rec, file);
	else
		alert_human(run, a, rec, file);
	fwrite(run->out.data, 1, run->out.len, stdout);
	run->alerts++;
	tally_add(run, a);
}

/* --- reading lines ------------------------------------------------------- */

static void
reader_init(struct line_reader *lr, int fd)
{
	memset(lr, 0, sizeof(*lr));
	lr->fd = fd;
	lr->buf = xmalloc(READ_BLOCK);
}

static void
reader_release(struct line_reader *lr)
{
	free(lr->buf);
	lr->buf = NULL;
}

/* Fill the buffer after moving what is left to its start. */
static void
reader_fill(struct line_reader *lr)
{
	ssize_t n;

	if (lr->start > 0) {
		memmove(lr->buf, lr->buf + lr->start, lr->end - lr->start);
		lr->end -= lr->start;
		lr->start = 0;
	}
	for (;;) {
		n = read(lr->fd, lr->buf + lr->end, READ_BLOCK - lr->end);
		if (n < 0 && errno == EINTR)
			continue;
		break;
	}
	if (n < 0) {
		lr->err = -errno;
		lr->eof = true;
	} else if (n == 0) {
		lr->eof = true;
	} else {
		lr->end += (size_t)n;
	}
}

/* The next line in *ret_line, *ret_len (valid until the next call), cut ones
 * with *ret_cut. 0, or -ENOENT at the end. */
static int
reader_next(struct line_reader *lr, const char **ret_line, size_t *ret_len, bool *ret_cut)
{
	for (;;) {
		char *p = lr->buf + lr->start;
		size_t avail = lr->end - lr->start;
		char *nl = memchr(p, '\n', avail);

		if (lr->skipping) {
			if (nl != NULL) {
				lr->start += (size_t)(nl - p) + 1;
				lr->skipping = false;
				continue;
			}
			lr->start = lr->end = 0;
			if (lr->eof)
				return -ENOENT;
			reader_fill(lr);
			continue;
		}
		if (nl != NULL && (size_t)(nl - p) <= RECORD_MAX_LINE) {
			size_t n = (size_t)(nl - p);

			lr->start += n + 1;
			if (n > 0 && p[n - 1] == '\r')
				n--;
			*ret_line = p;
			*ret_len = n;
			*ret_cut = false;
			return 0;
		}
		if (avail > RECORD_MAX_LINE) {
			/* too long: the first RECORD_MAX_LINE bytes, the rest skipped */
			lr->start += RECORD_MAX_LINE;
			lr->skipping = true;
			*ret_line = p;
			*ret_len = RECORD_MAX_LINE;
			*ret_cut = true;
			return 0;
		}
		if (lr->eof) {
			if (avail == 0)
				return -ENOENT;
			lr->start = lr->end;
			if (p[avail - 1] == '\r')
				avail--;
			*ret_line = p;
			*ret_len = avail;
			*ret_cut = false;
			return 0;
		}
		reader_fill(lr);
	}
}

/* A run of whole lines (each ending with '\n') at the front of the buffer,
 * filled first when less than half is there: 0 with the run in *ret,
 * *ret_len; -EAGAIN when no whole line is there (one longer than the buffer,
 * the last one without '\n', the rest of a cut line): read it with
 * reader_next; -ENOENT at the end. */
static int
reader_block(struct line_reader *lr, const char **ret, size_t *ret_len)
{
	const char *p, *nl;
	size_t avail;

	if (lr->skipping)
		return -EAGAIN;
	if (!lr->eof && lr->end - lr->start < READ_BLOCK / 2)
		reader_fill(lr);
	p = lr->buf + lr->start;
	avail = lr->end - lr->start;
	if (avail == 0)
		return lr->eof ? -ENOENT : -EAGAIN;
	nl = memrchr(p, '\n', avail);
	if (nl == NULL)
		return -EAGAIN;
	*ret = p;
	*ret_len = (size_t)(nl - p) + 1;
	lr->start += *ret_len;
	return 0;
}

/* --- loading ------------------------------------------------------------- */

/* Load the dirs into rs, printing each refusal; -errno when a dir cannot be
 * read (said on stderr). */
static int
load_rules(struct sigma_ruleset *rs, char **dirs, size_t ndirs, bool quiet)
{
	int r = 0;

	for (size_t i = 0; i < ndirs; i++) {
		size_t before = rs->nerrors;
		int k = sigma_load_dir(rs, dirs[i]);

		if (k < 0) {
			fprintf(stderr, "yingji: %s %s: %s\n", L("无法读取规则目录", "cannot read the rules directory"),
				dirs[i], strerror(-k));
			r = k;
			continue;
		}
		if (!quiet)
			print_refused(rs, before);
	}
	return r;
}

static int
current_year(void)
{
	time_t now = time(NULL);
	struct tm tm;

	if (localtime_r(&now, &tm) == NULL)
		return 1970;
	return tm.tm_year + 1900;
}

/* --- yingji detect --------------------------------------------------------- */

struct detect_file_ctx {
	struct detector		*d;
	struct detect_run	*run;
	struct record		*rec;
	const char		*path;
	enum log_format		 fmt;
	int			 year;
	uint64_t		 n;		/* lines read so far */
};

static void
note_cut(struct detect_file_ctx *c)
{
	if (c->run->truncated++ < MAX_CUT_NOTES)
		fprintf(stderr, "yingji: %s:%llu: %s\n", c->path, (unsigned long long)c->n,
			L("行超过 64 KiB，已截断（其余部分未检测）",
			"line longer than 64 KiB, cut (the rest is not examined)"));
}

/* Line number c->n: decode it and run the rules. */
static void
detect_line(struct detect_file_ctx *c, const char *line, size_t len, bool cut)
{
	int r;

	(void)decode_line(c->fmt, line, len, c->year, c->rec);
	c->rec->line_no = c->n;
	c->rec->truncated = cut;
	r = detector_process(c->d, c->rec, on_alert, c->run);
	if (r < 0)
		fprintf(stderr, "yingji: %s:%llu: %s\n", c->path, (unsigned long long)c->n, strerror(-r));
}

/* Whole lines buf[0..len) (the last ends with '\n'): the line filter picks
 * the lines worth decoding; the others are only counted. */
static void
detect_block(struct detect_file_ctx *c, const char *buf, size_t len)
{
	const size_t *cand = NULL;
	size_t ncand = 0, ci = 0, pos = 0;
	uint64_t skipped = 0;
	bool all = detector_filter_block(c->d, buf, len, &cand, &ncand) < 0;

	while (pos < len) {
		const char *line = buf + pos;
		const char *nl = memchr(line, '\n', len - pos);
		size_t n = nl != NULL ? (size_t)(nl - line) : len - pos;
		bool take = all || (ci < ncand && cand[ci] == pos), cut = false;

		c->n++;
		pos += n + 1;
		/* as reader_next: the length with its '\r' decides the cut */
		if (n > RECORD_MAX_LINE) {
			n = RECORD_MAX_LINE;
			cut = true;
			note_cut(c);
		} else if (n > 0 && line[n - 1] == '\r') {
			n--;
		}
		if (!take) {
			skipped++;
			continue;
		}
		ci++;
		detector_skip(c->d, skipped);
		skipped = 0;
		detect_line(c, line, n, cut);
	}
	detector_skip(c->d, skipped);
}

static int
detect_file(struct detector *d, struct detect_run *run, struct record *rec, const char *path,
	enum log_format fmt, int year, bool filter, uint64_t *lines)
{
	struct detect_file_ctx c = { .d = d, .run = run, .rec = rec, .path = path, .fmt = fmt,
		.year = year };
	struct line_reader lr;
	const char *line;
	size_t len;
	bool cut;
	int fd, r;

	if (strcmp(path, "-") == 0) {
		fd = STDIN_FILENO;
	} else {
		fd = open(path, O_RDONLY | O_CLOEXEC);
		if (fd < 0) {
			r = -errno;
			fprintf(stderr, "yingji: %s %s: %s\n", L("无法读取", "cannot read"), path, strerror(-r));
			return r;
		}
	}
	run->file = path;
	reader_init(&lr, fd);
	for (;;) {
		if (filter) {
			r = reader_block(&lr, &line, &len);
			if (r == 0) {
				detect_block(&c, line, len);
				continue;
			}
			if (r == -ENOENT)
				break;
		}
		if (reader_next(&lr, &line, &len, &cut) < 0)
			break;
		c.n++;
		if (cut)
			note_cut(&c);
		detect_line(&c, line, len, cut);
	}
	r = 0;
	if (lr.err < 0) {
		r = lr.err;
		fprintf(stderr, "yingji: %s %s: %s\n", L("读取出错", "read error"), path, strerror(-r));
	}
	reader_release(&lr);
	if (fd != STDIN_FILENO)
		close(fd);
	*lines += c.n;
	return r;
}

/* How the rules were compiled (the cache) and whether lines are filtered
 * before decoding (and when not, which rule stops it). */
static void
print_build_notes(const struct detector *d, const struct detector_stats *st, bool use_filter)
{
	const char *rep = detector_report(d), *p;

	fprintf(stderr, "yingji: %s %zu, %s %zu\n",
		L("Hyperscan 数据库", "Hyperscan databases"), st->hs_databases,
		L("其中取自缓存", "loaded from the cache"), st->hs_databases_cached);
	if (!use_filter)
		fprintf(stderr, "yingji: %s\n", L("行过滤已关闭（--no-filter）：逐行解码",
			"line filter off (--no-filter): every line is decoded"));
	else if (st->line_filter)
		fprintf(stderr, "yingji: %s: %zu %s\n", L("行过滤开启", "line filter on"),
			st->line_filter_literals, L("个字面串", "literals"));
	/* The report's lines about the filter and the cache. */
	for (p = rep; p != NULL && *p != '\0';) {
		const char *nl = strchr(p, '\n');
		size_t n = nl != NULL ? (size_t)(nl - p) : strlen(p);

		if (memmem(p, n, "line filter off", 15) != NULL ||
				memmem(p, n, "compiled rules are not kept", 27) != NULL)
			fprintf(stderr, "yingji: %.*s\n", (int)n, p);
		p += n + (nl != NULL);
	}
}

static void
print_summary(FILE *out, struct detect_run *run, uint64_t lines, size_t nfiles, int64_t elapsed_ns)
{
	double secs = (double)elapsed_ns / 1e9;
	struct rule_tally *list;
	size_t n = 0;

	fprintf(out, "\n%s: %llu %s, %zu %s, %llu %s, %.0f %s/s (%.3f s)\n", L("汇总", "Summary"),
		(unsigned long long)lines, L("行", "lines"), nfiles, L("个文件", "files"),
		(unsigned long long)run->alerts, L("条告警", "alerts"),
		secs > 0 ? (double)lines / secs : 0.0, L("行", "lines"), secs);
	if (run->truncated > 0)
		fprintf(out, "%s: %llu\n", L("截断的行（超过 64 KiB）", "lines cut (longer than 64 KiB)"),
			(unsigned long long)run->truncated);
	if (run->tally_len == 0)
		return;
	list = xcalloc(run->tally_len, sizeof(*list));
	for (size_t i = 0; i < run->tally_cap; i++)
		if (run->tally[i].id != NULL)
			list[n++] = run->tally[i];
	qsort(list, n, sizeof(*list), tally_cmp);
	fprintf(out, "%s:\n", L("各规则告警数（告警 / 命中次数）", "Alerts per rule (alerts / matches)"));
	for (size_t i = 0; i < n; i++)
		fprintf(out, "  %8llu / %-8llu %-8s %s  %s%s\n", (unsigned long long)list[i].alerts,
			(unsigned long long)list[i].matches, sigma_level_name(list[i].level), list[i].id,
			list[i].title, list[i].correlation ? L("（关联）", " (correlation)") : "");
	free(list);
}

int
cmd_detect(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "rules", required_argument, NULL, 'r' },
		{ "format", required_argument, NULL, 'f' },
		{ "suppress", required_argument, NULL, 's' },
		{ "json", no_argument, NULL, 'j' },
		{ "cache", required_argument, NULL, 'c' },
		{ "no-cache", no_argument, NULL, 'C' },
		{ "no-filter", no_argument, NULL, 'F' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 }
	};
	char *dirs[MAX_RULE_DIRS], cache[4096];
	bool use_cache = true, use_filter = true;
	struct detector_stats st;
	size_t ndirs = 0;
	struct sigma_ruleset rs = { 0 };
	struct detector_opts o = { 0 };
	struct detector *d = NULL;
	struct detect_run run;
	struct record rec;
	struct buf errors;
	enum log_format fmt = LOG_FMT_AUTO;
	uint64_t lines = 0;
	int64_t t0;
	size_t nplain = 0, ncorr = 0;
	int opt, year, rc = 0, r;

	memset(&run, 0, sizeof(run));
	optind = 1;
	while ((opt = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
		switch (opt) {
		case 'r':
			if (ndirs == MAX_RULE_DIRS) {
				fprintf(stderr, "yingji: %s\n", L("--rules 太多", "too many --rules"));
				return 2;
			}
			dirs[ndirs++] = optarg;
			break;
		case 'f':
			if (log_format_parse(optarg, &fmt) < 0) {
				fprintf(stderr, "yingji: %s '%s'\n", L("未知格式", "unknown format"), optarg);
				detect_help(stderr);
				return 2;
			}
			break;
		case 's':
			if (duration_parse(optarg, &o.suppress_ns) < 0 || o.suppress_ns < 0) {
				fprintf(stderr, "yingji: %s '%s'\n", L("时长无效", "bad duration"), optarg);
				return 2;
			}
			break;
		case 'j':
			run.json = true;
			break;
		case 'c':
			if (snprintf(cache, sizeof(cache), "%s", optarg) >= (int)sizeof(cache)) {
				fprintf(stderr, "yingji: --cache: %s\n", strerror(ENAMETOOLONG));
				return 2;
			}
			o.cache_dir = cache;
			break;
		case 'C':
			use_cache = false;
			break;
		case 'F':
			use_filter = false;
			break;
		case 'h':
			detect_help(stdout);
			return 0;
		default:
			detect_help(stderr);
			return 2;
		}
	}
	if (ndirs == 0 || optind >= argc) {
		fprintf(stderr, "yingji: %s\n\n", ndirs == 0 ? L("需要 --rules", "--rules is required")
			: L("需要至少一个日志文件", "at least one log file is required"));
		detect_help(stderr);
		return 2;
	}

	if (!use_cache)
		o.cache_dir = NULL;
	else if (o.cache_dir == NULL && detector_cache_default(cache, sizeof(cache)) == 0)
		o.cache_dir = cache;
	if (load_rules(&rs, dirs, ndirs, false) < 0) {
		sigma_ruleset_release(&rs);
		return 2;
	}
	buf_init(&errors, 16 * 1024 * 1024);
	r = detector_build(&rs, &o, &d, &errors);
	print_errors_buf(&errors);
	buf_release(&errors);
	if (r < 0) {
		fprintf(stderr, "yingji: %s: %s\n", L("无法构建检测器", "cannot build the detector"), strerror(-r));
		sigma_ruleset_release(&rs);
		return 1;
	}
	detector_counts(d, &nplain, &ncorr);
	detector_stats(d, &st);
	fprintf(stderr, "yingji: %s %zu %s, %zu %s, %zu %s\n", L("规则", "rules"), nplain,
		L("条普通规则", "plain"), ncorr, L("条关联规则", "correlation"), rs.nerrors,
		L("条被拒绝", "refused"));
	print_build_notes(d, &st, use_filter);
	if (nplain + ncorr == 0)
		fprintf(stderr, "yingji: %s\n", L("没有可用的规则", "no usable rule"));

	buf_init(&run.out, 4 * RECORD_MAX_LINE + 65536);
	record_init(&rec);
	year = current_year();
	t0 = now_monotonic_ns();
	for (int i = optind; i < argc; i++)
		if (detect_file(d, &run, &rec, argv[i], fmt, year, use_filter && st.line_filter,
				&lines) < 0)
			rc = 2;
	detector_flush(d, on_alert, &run);
	fflush(stdout);
	print_summary(run.json ? stderr : stdout, &run, lines, (size_t)(argc - optind),
		now_monotonic_ns() - t0);

	detector_free(d);
	record_release(&rec);
	buf_release(&run.out);
	free(run.tally);
	sigma_ruleset_release(&rs);
	return rc;
}

/* --- yingji rules ---------------------------------------------------------- */

static int
rules_check(int argc, char **argv)
{
	struct sigma_ruleset rs = { 0 };
	struct detector_opts o = { 0 };
	struct detector *d = NULL;
	struct buf errors;
	size_t nplain = 0, ncorr = 0, nbuild = 0;
	int64_t t0 = now_monotonic_ns();
	int r, rc = 0;

	if (argc < 2) {
		rules_help(stderr);
		return 2;
	}
	if (load_rules(&rs, argv + 1, (size_t)argc - 1, true) < 0)
		rc = 2;
	for (size_t i = 0; i < rs.nerrors; i++)
		printf("%s: %s:%u: %s\n", L("拒绝", "refused"),
			rs.errors[i].path != NULL ? rs.errors[i].path : "-", rs.errors[i].line,
			rs.errors[i].message != NULL ? rs.errors[i].message : "");
	buf_init(&errors, 16 * 1024 * 1024);
	r = detector_build(&rs, &o, &d, &errors);
	if (r < 0) {
		printf("%s: %s\n", L("无法构建检测器", "cannot build the detector"), strerror(-r));
	} else {
		const char *p = errors.data, *end = errors.data + errors.len;

		while (p < end) {
			const char *nl = memchr(p, '\n', (size_t)(end - p));
			size_t n = nl != NULL ? (size_t)(nl - p) : (size_t)(end - p);

			if (n > 0) {
				printf("%s: %.*s\n", L("无法编译", "not compiled"), (int)n, p);
				nbuild++;
			}
			p += n + 1;
		}
		detector_counts(d, &nplain, &ncorr);
	}
	if (i18n_english())
		printf("loaded: %zu rules (plain %zu, correlation %zu); %zu refused; "
			"in use after compiling: %zu (plain %zu, correlation %zu), %zu not compiled; %.2f s\n",
			rs.nrules + rs.ncorrs, rs.nrules, rs.ncorrs, rs.nerrors, nplain + ncorr, nplain,
			ncorr, nbuild, (double)(now_monotonic_ns() - t0) / 1e9);
	else
		printf("已加载: %zu 条规则（普通 %zu，关联 %zu）；%zu 条被拒绝；"
			"编译后可用: %zu 条（普通 %zu，关联 %zu），%zu 条无法编译；%.2f 秒\n",
			rs.nrules + rs.ncorrs, rs.nrules, rs.ncorrs, rs.nerrors, nplain + ncorr, nplain,
			ncorr, nbuild, (double)(now_monotonic_ns() - t0) / 1e9);
	detector_free(d);
	buf_release(&errors);
	sigma_ruleset_release(&rs);
	return rc;
}

int
cmd_rules(int argc, char **argv)
{
	if (argc < 2 || strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0 ||
		strcmp(argv[1], "help") == 0) {
		rules_help(argc < 2 ? stderr : stdout);
		return argc < 2 ? 2 : 0;
	}
	if (strcmp(argv[1], "check") == 0) {
		for (int i = 2; i < argc; i++) {
			if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
				rules_help(stdout);
				return 0;
			}
			if (argv[i][0] == '-' && argv[i][1] != '\0') {
				fprintf(stderr, "yingji: %s '%s'\n\n", L("未知选项", "unknown option"), argv[i]);
				rules_help(stderr);
				return 2;
			}
		}
		return rules_check(argc - 1, argv + 1);
	}
	fprintf(stderr, "yingji: %s '%s'\n\n", L("未知子命令", "unknown subcommand"), argv[1]);
	rules_help(stderr);
	return 2;
}
