/*
 * cmd_scan.c - `yingji-agent scan PATH [--baseline FILE] [--json]`: a one-shot
 * scan. Without --baseline it hashes everything and prints a summary; with it,
 * it creates FILE if missing, else compares and reports every difference.
 * Exit 0 when nothing changed, 1 when something did, 2 on error.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "agent/commands.h"
#include "agent/event.h"
#include "agent/guard/baseline.h"
#include "agent/guard/scan.h"
#include "core/buf.h"
#include "core/i18n.h"
#include "core/json.h"
#include "core/path.h"
#include "tls/sha256.h"
#include "core/banned.h"

static const char scan_help[] =
	"Usage: yingji-agent scan PATH [--baseline FILE] [--update] [--json] [--threads N]\n"
	"\n"
	"Walk PATH without following symlinks and record every entry: type, size, mode,\n"
	"owner, mtime and ctime (ns), inode, symlink target and SHA-256 (all cores).\n"
	"\n"
	"  --baseline FILE  create FILE if it does not exist; otherwise compare PATH with\n"
	"                   it and report every added, removed, modified or metadata change.\n"
	"                   Files whose inode, size, mtime and ctime are unchanged keep the\n"
	"                   recorded hash without being read.\n"
	"  --update         with --baseline: write the current state to FILE after comparing.\n"
	"  --json           one JSON object per change, then one summary object with\n"
	"                   \"files\", \"dirs\", \"bytes\", \"seconds\", \"changes\".\n"
	"  --threads N      hashing threads (default: one per core).\n"
	"\n"
	"Exit status: 0 nothing changed (or baseline created), 1 something changed, 2 error.\n";

struct scan_ctx {
	bool		 json;
	uint64_t	 changes;
	uint64_t	 problems;
	const char	*root;
};

static const char *
change_kind(unsigned ch)
{
	if (ch & CH_ADDED)
		return "added";
	if (ch & CH_REMOVED)
		return "removed";
	if (ch & (CH_CONTENT | CH_TYPE | CH_LINK))
		return "modified";
	return "metadata";
}

static const char *
change_kind_human(const char *kind)
{
	if (strcmp(kind, "added") == 0)
		return L("新增", "added");
	if (strcmp(kind, "removed") == 0)
		return L("删除", "removed");
	if (strcmp(kind, "modified") == 0)
		return L("修改", "modified");
	return L("属性", "metadata");
}

static void
report_change(struct scan_ctx *c, const struct fentry *old, const struct fentry *cur,
	unsigned ch)
{
	const struct fentry *e = cur != NULL ? cur : old;
	char *abs = path_join_abs(c->root, e->path);
	char changes[128], hex[SHA256_HEX_LEN + 1];
	const char *kind = change_kind(ch);
	struct buf out;

	c->changes++;
	buf_init(&out, 0);
	event_changes_str(ch, changes, sizeof(changes));
	if (c->json) {
		struct json j;

		json_begin(&j, &out);
		json_key_str(&j, "type", "change");
		json_key_str(&j, "kind", kind);
		json_key_str(&j, "path", abs);
		json_key_str(&j, "changes", changes);
		if (old != NULL && (old->flags & FE_HASHED)) {
			sha256_to_hex(old->hash, hex);
			json_key_str(&j, "old_sha256", hex);
		}
		if (cur != NULL && (cur->flags & FE_HASHED)) {
			sha256_to_hex(cur->hash, hex);
			json_key_str(&j, "new_sha256", hex);
		}
		json_end(&j);
	} else {
		/* Names may hold newlines or any byte: print them JSON-escaped. */
		buf_appendf(&out, "%-6s ", change_kind_human(kind));
		json_append_string(&out, abs, strlen(abs));
		buf_appendf(&out, " (%s)", changes);
	}
	puts(out.data);
	buf_release(&out);
	free(abs);
}

static void
compare(struct scan_ctx *c, const struct baseline *old, const struct baseline *cur)
{
	size_t i = 0, k = 0;

	while (i < old->n || k < cur->n) {
		int cmp;

		if (i == old->n)
			cmp = 1;
		else if (k == cur->n)
			cmp = -1;
		else
			cmp = strcmp(old->e[i].path, cur->e[k].path);
		if (cmp < 0) {
			report_change(c, &old->e[i], NULL, CH_REMOVED);
			i++;
		} else if (cmp > 0) {
			report_change(c, NULL, &cur->e[k], CH_ADDED);
			k++;
		} else {
			unsigned ch = fentry_diff(&old->e[i], &cur->e[k]) & ~CH_INODE;

			if (ch != 0)
				report_change(c, &old->e[i], &cur->e[k], ch);
			i++;
			k++;
		}
	}
}

static void
on_problem(const char *rel, int err, void *data)
{
	struct scan_ctx *c = data;

	c->problems++;
	fprintf(stderr, "yingji-agent: %s: %s: %s\n", L("无法读取", "cannot read"), rel,
		strerror(-err));
}

static void
print_summary(const struct scan_ctx *c, const struct scan_stats *st, const char *baseline_state)
{
	double mb = (double)st->hashed_bytes / 1e6;
	double secs = st->seconds > 0 ? st->seconds : 1e-9;
	struct buf out;
	struct json j;

	buf_init(&out, 0);
	if (c->json) {
		json_begin(&j, &out);
		json_key_str(&j, "type", "summary");
		json_key_str(&j, "path", c->root);
		json_key_u64(&j, "files", st->files);
		json_key_u64(&j, "dirs", st->dirs);
		json_key_u64(&j, "symlinks", st->links);
		json_key_u64(&j, "bytes", st->bytes);
		json_key_u64(&j, "hashed_bytes", st->hashed_bytes);
		json_key_u64(&j, "reused_hashes", st->reused);
		json_key_u64(&j, "unreadable", st->unreadable);
		json_key_u64(&j, "vanished", st->vanished);
		json_key_double(&j, "seconds", st->seconds);
		json_key_double(&j, "files_per_second", (double)st->files / secs);
		json_key_double(&j, "mb_per_second", mb / secs);
		json_key_u64(&j, "changes", c->changes);
		if (baseline_state != NULL)
			json_key_str(&j, "baseline", baseline_state);
		json_end(&j);
		puts(out.data);
	} else {
		printf(L("扫描 %s: %llu 个文件, %llu 个目录, %llu 个符号链接, %.1f MB, 用时 %.3f 秒 "
			 "(%.0f 文件/秒, %.0f MB/秒)\n",
			 "scanned %s: %llu files, %llu dirs, %llu symlinks, %.1f MB in %.3f s "
			 "(%.0f files/s, %.0f MB/s)\n"),
			c->root, (unsigned long long)st->files, (unsigned long long)st->dirs,
			(unsigned long long)st->links, (double)st->bytes / 1e6, st->seconds,
			(double)st->files / secs, mb / secs);
		if (baseline_state != NULL && strcmp(baseline_state, "created") == 0)
			printf("%s\n", L("基线已建立", "baseline created"));
		else if (baseline_state != NULL)
			printf(L("与基线相比: %llu 处变化\n", "compared with the baseline: %llu changes\n"),
				(unsigned long long)c->changes);
	}
	buf_release(&out);
}

int
cmd_scan(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "baseline", required_argument, NULL, 'b' },
		{ "update", no_argument, NULL, 'u' },
		{ "json", no_argument, NULL, 'j' },
		{ "threads", required_argument, NULL, 't' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	struct scan_ctx c = { 0 };
	struct scan_opts opts = { 0 };
	struct scan_stats st = { 0 };
	struct baseline old = { 0 }, cur = { 0 };
	const char *baseline_file = NULL;
	char *root = NULL;
	bool update = false, have_old = false;
	int opt, r, status = 2;

	optind = 1;
	while ((opt = getopt_long(argc, argv, "b:ujt:h", longopts, NULL)) != -1) {
		switch (opt) {
		case 'b':
			baseline_file = optarg;
			break;
		case 'u':
			update = true;
			break;
		case 'j':
			c.json = true;
			break;
		case 't':
			opts.threads = (unsigned)strtoul(optarg, NULL, 10);
			break;
		case 'h':
			fputs(scan_help, stdout);
			return 0;
		default:
			fputs(scan_help, stderr);
			return 2;
		}
	}
	if (optind + 1 != argc) {
		fputs(scan_help, stderr);
		return 2;
	}
	root = path_absolute(argv[optind]);
	if (root == NULL) {
		fprintf(stderr, "yingji-agent: %s\n", L("路径为空", "empty path"));
		return 2;
	}
	c.root = root;

	if (baseline_file != NULL) {
		r = baseline_load(AT_FDCWD, baseline_file, &old);
		if (r == 0) {
			have_old = true;
			opts.reuse = &old;
			if (strcmp(old.root, root) != 0)
				fprintf(stderr, L("yingji-agent: 注意: 基线记录的是 %s, 现在比较的是 %s\n",
						  "yingji-agent: note: the baseline was made of %s, comparing %s\n"),
					old.root, root);
		} else if (r != -ENOENT) {
			fprintf(stderr, "yingji-agent: %s %s: %s\n", L("无法读取基线", "cannot read baseline"),
				baseline_file,
				r == -EBADMSG ? L("文件已损坏或不是基线文件",
						      "corrupt, or not a baseline file")
					      : strerror(-r));
			goto out;
		}
	}
	r = tree_scan(root, &opts, &cur, &st, on_problem, &c);
	if (r < 0) {
		fprintf(stderr, "yingji-agent: %s %s: %s\n", L("无法扫描", "cannot scan"), root,
			r == -ELOOP ? L("是符号链接 (不会跟随)", "is a symlink (not followed)")
				    : strerror(-r));
		goto out;
	}
	if (have_old)
		compare(&c, &old, &cur);
	if (baseline_file != NULL && (!have_old || update)) {
		r = baseline_save(&cur, AT_FDCWD, baseline_file);
		if (r < 0) {
			fprintf(stderr, "yingji-agent: %s %s: %s\n", L("无法写入基线", "cannot write baseline"),
				baseline_file, strerror(-r));
			goto out;
		}
	}
	print_summary(&c, &st, baseline_file == NULL ? NULL : have_old ? "compared" : "created");
	status = c.changes > 0 ? 1 : 0;
out:
	if (old.root != NULL)
		baseline_release(&old);
	if (cur.root != NULL)
		baseline_release(&cur);
	free(root);
	return status;
}
