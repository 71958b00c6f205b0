/*
 * responder.c - first-response actions on this host (responder.h).
 *
 * Every target is checked before any command text is built from it (also
 * when read back from the ledger, so nft never sees a name to resolve:
 * Debian 12's libnftables has no NO_DNS input flag), and nothing from a
 * request is ever handed to a shell: nft gets text built from
 * a canonical address; usermod and systemctl get argv arrays.
 */
#include "agent/responder/responder.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <pwd.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include "agent/responder/nft.h"
#include "agent/state.h"
#include "core/path.h"
#include "core/i18n.h"
#include "core/json.h"
#include "core/json_get.h"
#include "core/log.h"
#include "core/timeutil.h"
#include "core/xalloc.h"
#include "core/banned.h"

#define NS		1000000000ll
#define TARGET_MAX	512
#define LEDGER_MAX	(RESPONDER_MAX_ACTIONS * 1024)
#define QUARANTINE_DIR	"respond-quarantine"
#define ALLOW_MAX	16
/* Isolation: the host keeps its addresses (IPv6 neighbour discovery, DHCP)
 * and its allow list (accepted before the jump); everything else drops. */
#define ISOLATION_RULES	"flush chain inet yingji isolation\n" \
	"add rule inet yingji isolation icmpv6 type { nd-neighbor-solicit, nd-neighbor-advert, " \
	"nd-router-solicit, nd-router-advert } accept\n" \
	"add rule inet yingji isolation udp sport { 67, 68 } udp dport { 67, 68 } accept\n" \
	"add rule inet yingji isolation drop\n"

struct action {
	int64_t		 id;
	char		 action[16];
	char		 target[TARGET_MAX];
	int64_t		 expires_ns;		/* 0: until undone */
	char		 state[12];		/* applied, undone, expired */
};

struct responder {
	int		 statefd;
	char		 allow[ALLOW_MAX][64];
	const char	*allow_ptr[ALLOW_MAX];
	size_t		 nallow;
	size_t		 nserver;	/* of those, the centre's (the first given) */
	struct action	*items;
	size_t		 n, cap;
};

/* ---- addresses ---- */

int
responder_check_cidr(const char *s, const char *const *allow, size_t nallow, char *out,
	size_t size, const char **why)
{
	unsigned char a[16], b[16];
	char host[64], canon[64];
	const char *slash;
	unsigned long prefix;
	int family;
	size_t hl;

	*why = L("地址或网段格式错误", "malformed address or range");
	if (s == NULL || strlen(s) >= sizeof(host))
		return -EINVAL;
	slash = strchr(s, '/');
	hl = slash != NULL ? (size_t)(slash - s) : strlen(s);
	memcpy(host, s, hl);
	host[hl] = '\0';
	if (inet_pton(AF_INET, host, a) == 1)
		family = AF_INET;
	else if (inet_pton(AF_INET6, host, a) == 1)
		family = AF_INET6;
	else
		return -EINVAL;
	prefix = family == AF_INET ? 32 : 128;
	if (slash != NULL) {
		char *end;

		if (!isdigit((unsigned char)slash[1]) || strlen(slash + 1) > 3)
			return -EINVAL;
		prefix = strtoul(slash + 1, &end, 10);
		if (*end != '\0' || prefix > (family == AF_INET ? 32u : 128u))
			return -EINVAL;
	}
	if (prefix < (family == AF_INET ? 8u : 16u)) {
		*why = L("网段过大（IPv4 至少 /8，IPv6 至少 /16）", "range too wide (at least /8 for IPv4, /16 for IPv6)");
		return -EINVAL;
	}
	/* the network's own address (host bits cleared) */
	for (unsigned i = 0; i < (family == AF_INET ? 4u : 16u); i++) {
		unsigned bits = prefix > i * 8 ? (prefix - i * 8 >= 8 ? 8 : prefix - i * 8) : 0;

		a[i] &= (unsigned char)(bits == 0 ? 0 : 0xff << (8 - bits));
	}
	if (family == AF_INET && a[0] == 127) {
		*why = L("不能封禁回环地址", "loopback cannot be blocked");
		return -EPERM;
	}
	for (size_t k = 0; k < nallow; k++) {
		bool inside = true;

		if (inet_pton(family, allow[k], b) != 1)
			continue;
		for (unsigned i = 0; i < prefix / 8 && inside; i++)
			inside = a[i] == b[i];
		if (inside && prefix % 8 != 0)
			inside = ((a[prefix / 8] ^ b[prefix / 8]) &
				(unsigned char)(0xff << (8 - prefix % 8))) == 0;
		if (inside) {
			*why = L("该地址或网段包含中心服务器的地址（白名单）",
				"the range covers the centre's address (allow list)");
			return -EPERM;
		}
	}
	if (inet_ntop(family, a, canon, sizeof(canon)) == NULL)
		return -EINVAL;
	if (prefix == (family == AF_INET ? 32u : 128u))
		snprintf(out, size, "%s", canon);
	else
		snprintf(out, size, "%s/%lu", canon, prefix);
	*why = NULL;
	return 0;
}

static bool
is_v6(const char *cidr)
{
	return strchr(cidr, ':') != NULL;
}

/* ---- the ledger ---- */

static struct action *
find(struct responder *r, int64_t id)
{
	for (size_t i = 0; i < r->n; i++)
		if (r->items[i].id == id)
			return &r->items[i];
	return NULL;
}

static int
ledger_save(struct responder *r)
{
	struct buf b;
	int ret;

	buf_init(&b, LEDGER_MAX);
	for (size_t i = 0; i < r->n; i++) {
		struct action *a = &r->items[i];
		struct json j;

		if (strcmp(a->state, "applied") != 0)
			continue;	/* only what is active is kept */
		json_begin(&j, &b);
		json_key_i64(&j, "id", a->id);
		json_key_str(&j, "action", a->action);
		json_key_str(&j, "target", a->target);
		json_key_i64(&j, "expires_ns", a->expires_ns);
		json_key_str(&j, "state", a->state);
		if (json_end(&j) < 0 || buf_putc(&b, '\n') < 0) {
			buf_release(&b);
			return -E2BIG;
		}
	}
	ret = state_write_file(r->statefd, RESPONDER_LEDGER, b.data, b.len);
	buf_release(&b);
	return ret;
}

static struct action *
add_action(struct responder *r)
{
	for (size_t i = 0; i < r->n; i++)
		if (strcmp(r->items[i].state, "applied") != 0 && strcmp(r->items[i].state, "killed") != 0) {
			memset(&r->items[i], 0, sizeof(r->items[0]));
			return &r->items[i];
		}
	if (r->n == RESPONDER_MAX_ACTIONS)
		return NULL;
	if (r->n == r->cap) {
		r->cap = r->cap ? 2 * r->cap : 16;
		r->items = xrealloc(r->items, r->cap * sizeof(*r->items));
	}
	memset(&r->items[r->n], 0, sizeof(r->items[0]));
	return &r->items[r->n++];
}

static void
ledger_load(struct responder *r)
{
	char *text = NULL;
	size_t len = 0;
	struct buf v;
	int ret;

	ret = state_read_file(r->statefd, RESPONDER_LEDGER, LEDGER_MAX, &text, &len);
	if (ret < 0) {
		if (ret != -ENOENT)
			log_warn("respond", "%s: %s", RESPONDER_LEDGER, strerror(-ret));
		return;
	}
	buf_init(&v, TARGET_MAX);
	for (char *p = text, *nl; p < text + len; p = nl + 1) {
		struct action a = { 0 };
		int64_t x;

		nl = memchr(p, '\n', (size_t)(text + len - p));
		if (nl == NULL)
			nl = text + len;
		if (json_get_i64(p, (size_t)(nl - p), "id", &a.id) < 0 ||
			json_get_str(p, (size_t)(nl - p), "action", &v) < 0 || v.len >= sizeof(a.action)) {
			log_warn("respond", "%s: %s", RESPONDER_LEDGER, L("跳过无法读取的一行",
				"skipped a line that cannot be read"));
			continue;
		}
		memcpy(a.action, v.data, v.len + 1);
		if (json_get_str(p, (size_t)(nl - p), "target", &v) < 0 || v.len >= sizeof(a.target))
			continue;
		memcpy(a.target, v.data, v.len + 1);
		/* what goes back into nft is checked again, as a request would be */
		if (strcmp(a.action, "block") == 0) {
			char canon[64];
			const char *why;

			if (responder_check_cidr(a.target, r->allow_ptr, r->nallow, canon,
				sizeof(canon), &why) < 0) {
				log_warn("respond", "%s #%lld: %s (%s)", RESPONDER_LEDGER, (long long)a.id,
					why, L("跳过", "skipped"));
				continue;
			}
			snprintf(a.target, sizeof(a.target), "%s", canon);
		} else if (strcmp(a.action, "isolate") != 0 && strcmp(a.action, "offline") != 0 &&
			strcmp(a.action, "quarantine") != 0 && strcmp(a.action, "lock_account") != 0) {
			continue;
		}
		if (json_get_i64(p, (size_t)(nl - p), "expires_ns", &x) == 0)
			a.expires_ns = x;
		snprintf(a.state, sizeof(a.state), "applied");
		if (find(r, a.id) == NULL) {
			struct action *slot = add_action(r);

			if (slot != NULL)
				*slot = a;
		}
	}
	buf_release(&v);
	free(text);
}

/* ---- nftables ---- */

static int
firewall_setup(struct responder *r, struct buf *err)
{
	struct buf cmds;
	int ret;

	buf_init(&cmds, 64 * 1024);
	(void)buf_puts(&cmds,
		"add table inet yingji\n"
		"add set inet yingji allow4 { type ipv4_addr; flags interval; }\n"
		"add set inet yingji allow6 { type ipv6_addr; flags interval; }\n"
		"add set inet yingji block4 { type ipv4_addr; flags interval,timeout; }\n"
		"add set inet yingji block6 { type ipv6_addr; flags interval,timeout; }\n"
		"add chain inet yingji isolation\n"
		"add chain inet yingji input { type filter hook input priority -10; policy accept; }\n"
		"add chain inet yingji output { type filter hook output priority -10; policy accept; }\n"
		"flush chain inet yingji input\n"
		"flush chain inet yingji output\n"
		"flush chain inet yingji isolation\n"
		"flush set inet yingji allow4\n"
		"flush set inet yingji allow6\n"
		"add rule inet yingji input iif lo accept\n"
		"add rule inet yingji input ip saddr @allow4 accept\n"
		"add rule inet yingji input ip6 saddr @allow6 accept\n"
		"add rule inet yingji input ip saddr @block4 drop\n"
		"add rule inet yingji input ip6 saddr @block6 drop\n"
		"add rule inet yingji input jump isolation\n"
		"add rule inet yingji output oif lo accept\n"
		"add rule inet yingji output ip daddr @allow4 accept\n"
		"add rule inet yingji output ip6 daddr @allow6 accept\n"
		"add rule inet yingji output ip daddr @block4 drop\n"
		"add rule inet yingji output ip6 daddr @block6 drop\n"
		"add rule inet yingji output jump isolation\n");
	for (size_t i = 0; i < r->nallow; i++)
		(void)buf_appendf(&cmds, "add element inet yingji %s { %s }\n",
			is_v6(r->allow[i]) ? "allow6" : "allow4", r->allow[i]);
	ret = nft_run(cmds.data, NULL, err);
	buf_release(&cmds);
	return ret;
}

static void
block_cmd(struct buf *cmds, bool add, const char *cidr, int64_t expires_ns, int64_t now)
{
	const char *set = is_v6(cidr) ? "block6" : "block4";

	if (add && expires_ns > 0) {
		int64_t left = (expires_ns - now + NS - 1) / NS;

		(void)buf_appendf(cmds, "add element inet yingji %s { %s timeout %llds }\n", set, cidr,
			(long long)(left > 0 ? left : 1));
	} else {
		(void)buf_appendf(cmds, "%s element inet yingji %s { %s }\n", add ? "add" : "delete",
			set, cidr);
	}
}

static bool
isolated_by_other(struct responder *r, int64_t id)
{
	for (size_t i = 0; i < r->n; i++)
		if (r->items[i].id != id && strcmp(r->items[i].action, "isolate") == 0 &&
			strcmp(r->items[i].state, "applied") == 0)
			return true;
	return false;
}

/* ---- processes, accounts, services ---- */

/* Runs argv (absolute path, no shell, empty environment); 0 when it exits 0. */
static int
run_argv(char *const argv[], struct buf *err)
{
	char *const envp[] = { "PATH=/usr/sbin:/usr/bin:/sbin:/bin", "LC_ALL=C", NULL };
	int status;
	pid_t pid;

	if (access(argv[0], X_OK) < 0) {
		(void)buf_appendf(err, "%s: %s", argv[0], strerror(errno));
		return -ENOENT;
	}
	pid = fork();
	if (pid < 0)
		return -errno;
	if (pid == 0) {
		int fd = open("/dev/null", O_RDWR | O_CLOEXEC);

		if (fd >= 0) {
			dup2(fd, 0);
			dup2(fd, 1);
		}
		execve(argv[0], argv, envp);
		_exit(127);
	}
	while (waitpid(pid, &status, 0) < 0)
		if (errno != EINTR)
			return -errno;
	if (WIFEXITED(status) && WEXITSTATUS(status) == 0)
		return 0;
	(void)buf_appendf(err, "%s %s %d", argv[0], L("退出码", "exited with"),
		WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status));
	return -EIO;
}

static void
proc_text(pid_t pid, const char *name, char *out, size_t size)
{
	char path[64];
	ssize_t n;
	int fd;

	out[0] = '\0';
	snprintf(path, sizeof(path), "/proc/%d/%s", (int)pid, name);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return;
	n = read(fd, out, size - 1);
	close(fd);
	if (n <= 0)
		return;
	out[n] = '\0';
	for (ssize_t i = 0; i < n; i++)
		if (out[i] == '\0')
			out[i] = ' ';
}

static pid_t
parent_of(pid_t pid)
{
	char stat[512], *p;

	proc_text(pid, "stat", stat, sizeof(stat));
	p = strrchr(stat, ')');
	if (p == NULL)
		return 0;
	return (pid_t)strtol(p + 3, NULL, 10);	/* ") S PPID" */
}

/* pid and every descendant, parents first. */
static size_t
process_tree(pid_t root, pid_t *out, size_t max)
{
	size_t n = 0;
	DIR *d;

	out[n++] = root;
	for (size_t k = 0; k < n && n < max; k++) {
		struct dirent *e;

		d = opendir("/proc");
		if (d == NULL)
			break;
		while ((e = readdir(d)) != NULL && n < max) {
			pid_t p = (pid_t)strtol(e->d_name, NULL, 10);

			if (p > 1 && parent_of(p) == out[k])
				out[n++] = p;
		}
		closedir(d);
	}
	return n;
}

static int
do_kill(pid_t pid, struct json *rec, struct buf *err)
{
	char exe[1024], cmdline[1024], status[64];
	pid_t tree[4096];
	size_t n;
	ssize_t el;
	char path[64];

	if (pid <= 1 || pid == getpid()) {
		(void)buf_puts(err, L("拒绝结束 1 号进程或代理自身", "refused: pid 1 or the agent itself"));
		return -EPERM;
	}
	/* an ancestor of the agent: its tree holds the agent, which would stop itself */
	for (pid_t p = getppid(); p > 1; p = parent_of(p)) {
		if (p == pid) {
			(void)buf_puts(err, L("拒绝结束代理的上级进程（会连同代理一起结束）",
				"refused: an ancestor of the agent (the agent would go with it)"));
			return -EPERM;
		}
	}
	snprintf(path, sizeof(path), "/proc/%d/exe", (int)pid);
	el = readlink(path, exe, sizeof(exe) - 1);
	if (el < 0) {
		(void)buf_appendf(err, L("没有这个进程（或是内核线程）：%d", "no such process (or a kernel thread): %d"),
			(int)pid);
		return -ESRCH;
	}
	exe[el] = '\0';
	proc_text(pid, "cmdline", cmdline, sizeof(cmdline));
	proc_text(pid, "loginuid", status, sizeof(status));
	json_key_object(rec, "record");
	json_key_i64(rec, "pid", pid);
	json_key_str(rec, "exe", exe);
	json_key_str(rec, "cmdline", cmdline);
	n = process_tree(pid, tree, sizeof(tree) / sizeof(tree[0]));
	for (size_t i = 0; i < n; i++) {
		if (tree[i] == getpid()) {
			(void)buf_puts(err, L("拒绝：进程树中含代理自身", "refused: the tree holds the agent"));
			return -EPERM;
		}
	}
	json_key_array(rec, "killed");
	for (size_t i = 0; i < n && i < 256; i++) {
		char one[24];

		snprintf(one, sizeof(one), "%d", (int)tree[i]);
		json_array_str(rec, one);
	}
	json_close(rec);
	json_close(rec);
	/* stop them all first so that none restarts another, then kill */
	for (size_t i = 0; i < n; i++)
		(void)kill(tree[i], SIGSTOP);
	for (size_t i = 0; i < n; i++)
		(void)kill(tree[i], SIGKILL);
	return 0;
}

static bool
user_name_ok(const char *u)
{
	size_t n = strlen(u);

	if (n == 0 || n > 32 || !(islower((unsigned char)u[0]) || u[0] == '_'))
		return false;
	for (size_t i = 0; i < n; i++)
		if (!(islower((unsigned char)u[i]) || isdigit((unsigned char)u[i]) || u[i] == '_' ||
			u[i] == '-' || (u[i] == '$' && i == n - 1)))
			return false;
	return true;
}

static int
do_lock(const char *user, bool lock, struct buf *err)
{
	struct passwd *pw;
	/* -L locks the password; -e 1 expires the account, which also stops key
	 * logins. Undo: -U and no expiry (an earlier expiry date is not kept). */
	char *lock_argv[] = { "/usr/sbin/usermod", "-L", "-e", "1", (char *)user, NULL };
	char *unlock_argv[] = { "/usr/sbin/usermod", "-U", "-e", "", (char *)user, NULL };
	char *const *argv = lock ? lock_argv : unlock_argv;
	int ret;

	if (!user_name_ok(user) || (pw = getpwnam(user)) == NULL) {
		(void)buf_appendf(err, L("没有这个本地账号：%s", "no such local account: %s"), user);
		return -ENOENT;
	}
	if (pw->pw_uid == 0) {
		(void)buf_puts(err, L("拒绝锁定 root", "refused: root"));
		return -EPERM;
	}
	ret = run_argv(argv, err);
	if (ret == 0 && lock) {
		uid_t uid = pw->pw_uid;
		DIR *d = opendir("/proc");
		struct dirent *e;

		/* end the account's sessions: every process it runs */
		while (d != NULL && (e = readdir(d)) != NULL) {
			pid_t p = (pid_t)strtol(e->d_name, NULL, 10);
			struct stat st;
			char path[64];

			snprintf(path, sizeof(path), "/proc/%d", (int)p);
			if (p > 1 && stat(path, &st) == 0 && st.st_uid == uid)
				(void)kill(p, SIGKILL);
		}
		if (d != NULL)
			closedir(d);
	}
	return ret;
}

static bool
unit_ok(const char *u)
{
	size_t n = strlen(u);

	if (n < 9 || n > 200 || strcmp(u + n - 8, ".service") != 0)
		return false;
	for (size_t i = 0; i < n; i++)
		if (!(isalnum((unsigned char)u[i]) || strchr("@._-", u[i]) != NULL))
			return false;
	return true;
}

/* quarantine: moved (never copied, never deleted) into the state directory.
 * The parent is opened with no symlink anywhere on the way (openat2
 * RESOLVE_NO_SYMLINKS through core/path.h), and the rename is relative to
 * it: a directory swapped for a symlink cannot redirect either move. Undo
 * puts the file back only into a directory nobody but root can write. */
static int
do_quarantine(struct responder *r, int64_t id, const char *path, bool undo, struct buf *err)
{
	char name[512];
	const char *base = strrchr(path, '/'), *leaf = NULL;
	struct stat st;
	int rootfd = -1, dirfd = -1, ret;

	if (path[0] != '/' || base == NULL || base[1] == '\0' || strstr(path, "/../") != NULL ||
		strstr(path, "/./") != NULL || strcmp(base, "/..") == 0 || strcmp(base, "/.") == 0 ||
		strstr(path, "//") != NULL) {
		(void)buf_puts(err, L("路径须为文件的绝对路径", "the path must be a file's absolute path"));
		return -EINVAL;
	}
	snprintf(name, sizeof(name), QUARANTINE_DIR "/%" PRId64 "-%s", id, base + 1);
	rootfd = open("/", O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (rootfd < 0)
		return -errno;
	dirfd = openat_parent_beneath(rootfd, path + 1, &leaf);
	if (dirfd < 0) {
		ret = dirfd;
		dirfd = -1;
		(void)buf_appendf(err, "%s: %s", path, ret == -ELOOP ?
			L("路径中有符号链接，拒绝", "a symlink on the way: refused") : strerror(-ret));
		goto out;
	}
	if (undo) {
		if (fstat(dirfd, &st) < 0 || st.st_uid != 0 || (st.st_mode & 0022) != 0) {
			ret = -EPERM;
			(void)buf_appendf(err, "%s: %s", path, L("目录可被 root 以外的用户写入，拒绝放回",
				"the directory is writable by others than root: not put back"));
			goto out;
		}
		ret = renameat2(r->statefd, name, dirfd, leaf, RENAME_NOREPLACE) < 0 ? -errno : 0;
		if (ret < 0)
			(void)buf_appendf(err, "%s: %s", path, strerror(-ret));
		goto out;
	}
	/* a regular file only: never a directory tree, never a symlink's target */
	if (fstatat(dirfd, leaf, &st, AT_SYMLINK_NOFOLLOW) < 0) {
		ret = -errno;
		(void)buf_appendf(err, "%s: %s", path, strerror(-ret));
		goto out;
	}
	if (!S_ISREG(st.st_mode)) {
		ret = -EINVAL;
		(void)buf_appendf(err, "%s: %s", path, L("不是普通文件（只隔离文件，不移动目录）",
			"not a regular file (files only; directories are never moved)"));
		goto out;
	}
	if (mkdirat(r->statefd, QUARANTINE_DIR, 0700) < 0 && errno != EEXIST) {
		ret = -errno;
		goto out;
	}
	ret = renameat2(dirfd, leaf, r->statefd, name, RENAME_NOREPLACE) < 0 ? -errno : 0;
	if (ret < 0)
		(void)buf_appendf(err, "%s: %s%s", path, strerror(-ret), ret == -EXDEV ?
			L("（与代理状态目录不在同一文件系统，未移动）", " (another filesystem than the agent's state: not moved)") : "");
out:
	if (dirfd >= 0)
		close(dirfd);
	close(rootfd);
	return ret;
}

/* ---- requests ---- */

struct request {
	struct buf	 op, action, target;
	int64_t		 id, expires_ns, pid;
	bool		 dry_run;
};

static int
apply(struct responder *r, struct request *rq, bool undo, int64_t now, struct json *rec,
	struct buf *detail, struct buf *err)
{
	const char *act = rq->action.data;
	int ret = 0;

	if (strcmp(act, "block") == 0) {
		char cidr[64];
		const char *why;

		ret = responder_check_cidr(rq->target.data, r->allow_ptr, r->nallow, cidr,
			sizeof(cidr), &why);
		if (ret < 0) {
			(void)buf_puts(err, why);
			return ret;
		}
		buf_reset(&rq->target);
		(void)buf_puts(&rq->target, cidr);
		if (undo) {
			for (size_t i = 0; i < r->n; i++)
				if (r->items[i].id != rq->id && strcmp(r->items[i].action, "block") == 0 &&
					strcmp(r->items[i].state, "applied") == 0 &&
					strcmp(r->items[i].target, cidr) == 0) {
					(void)buf_appendf(detail, L("（%s 仍由处置 #%lld 封禁）",
						"(%s stays blocked by #%lld)"), cidr,
						(long long)r->items[i].id);
					return 0;
				}
		}
		block_cmd(detail, !undo, cidr, rq->expires_ns, now);
		if (rq->dry_run)
			return 0;
		ret = nft_run(detail->data, NULL, err);
		/* an element already gone (expired) is as good as undone */
		if (ret < 0 && undo && strstr(err->data, "No such file") != NULL) {
			buf_reset(err);
			ret = 0;
		}
		return ret;
	}
	if (strcmp(act, "isolate") == 0) {
		if (undo && isolated_by_other(r, rq->id))
			return 0;
		if (!undo && r->nserver == 0) {
			(void)buf_puts(err, L("不知道中心服务器的地址（登记信息未能解析），拒绝隔离以免失联",
				"the centre's address is not known (the enrollment did not resolve): "
				"isolation refused, it would cut the agent off"));
			return -EHOSTUNREACH;
		}
		(void)buf_puts(detail, undo ? "flush chain inet yingji isolation\n" : ISOLATION_RULES);
		return rq->dry_run ? 0 : nft_run(detail->data, NULL, err);
	}
	if (strcmp(act, "kill") == 0) {
		if (undo) {
			(void)buf_puts(err, L("结束进程无法撤销", "a kill cannot be undone"));
			return -ENOTSUP;
		}
		if (rq->pid <= 1 || rq->pid > 4194304) {
			(void)buf_puts(err, L("进程号无效", "invalid pid"));
			return -EINVAL;
		}
		(void)buf_appendf(detail, "kill -STOP/-KILL %lld %s", (long long)rq->pid,
			L("及其子进程", "and its children"));
		return rq->dry_run ? 0 : do_kill((pid_t)rq->pid, rec, err);
	}
	if (strcmp(act, "lock_account") == 0) {
		(void)buf_appendf(detail, "/usr/sbin/usermod %s %s%s", undo ? "-U -e ''" : "-L -e 1",
			rq->target.data, undo ? "" : L("；结束其全部进程", "; kill all its processes"));
		if (!user_name_ok(rq->target.data)) {
			(void)buf_puts(err, L("账号名无效", "invalid account name"));
			return -EINVAL;
		}
		return rq->dry_run ? 0 : do_lock(rq->target.data, !undo, err);
	}
	if (strcmp(act, "offline") == 0) {
		char *argv[] = { "/usr/bin/systemctl", undo ? "start" : "stop", rq->target.data, NULL };

		if (!unit_ok(rq->target.data)) {
			(void)buf_puts(err, L("服务单元名无效（须为 名称.service）", "invalid unit (NAME.service)"));
			return -EINVAL;
		}
		(void)buf_appendf(detail, "/usr/bin/systemctl %s %s", argv[1], rq->target.data);
		return rq->dry_run ? 0 : run_argv(argv, err);
	}
	if (strcmp(act, "quarantine") == 0) {
		(void)buf_appendf(detail, "%s %s → %s/%" PRId64 "-…", undo ? "restore" : "move",
			rq->target.data, QUARANTINE_DIR, rq->id);
		return rq->dry_run ? 0 : do_quarantine(r, rq->id, rq->target.data, undo, err);
	}
	(void)buf_puts(err, L("未知的处置动作", "unknown action"));
	return -EINVAL;
}

void
responder_handle(struct responder *r, const char *json, size_t len, struct buf *out)
{
	struct request rq = { 0 };
	struct buf detail, err;
	struct json j;
	struct action *a;
	const char *v;
	size_t vl;
	int64_t now = now_realtime_ns();
	bool undo;
	int ret;

	buf_init(&rq.op, 32);
	buf_init(&rq.action, 32);
	buf_init(&rq.target, TARGET_MAX);
	buf_init(&detail, 64 * 1024);
	buf_init(&err, 4096);
	buf_reset(out);
	json_begin(&j, out);
	if (json_get_str(json, len, "op", &rq.op) < 0 || json_get_i64(json, len, "id", &rq.id) < 0 ||
		(strcmp(rq.op.data, "apply") != 0 && strcmp(rq.op.data, "undo") != 0)) {
		json_key_bool(&j, "ok", false);
		json_key_str(&j, "state", "failed");
		json_key_str(&j, "error", "needs op (apply|undo) and id");
		goto out;
	}
	undo = rq.op.data[0] == 'u';
	a = find(r, rq.id);
	(void)json_get_str(json, len, "action", &rq.action);
	if (undo && a != NULL && rq.action.len == 0)
		(void)buf_puts(&rq.action, a->action);
	(void)json_get_i64(json, len, "expires_ns", &rq.expires_ns);
	(void)json_get_i64(json, len, "pid", &rq.pid);
	(void)(json_get_str(json, len, "addr", &rq.target) == 0 ||
		json_get_str(json, len, "path", &rq.target) == 0 ||
		json_get_str(json, len, "user", &rq.target) == 0 ||
		json_get_str(json, len, "unit", &rq.target) == 0);
	if (rq.target.len == 0 && a != NULL)
		(void)buf_puts(&rq.target, a->target);
	rq.dry_run = json_get_raw(json, len, "dry_run", &v, &vl) == 0 && vl == 4 &&
		memcmp(v, "true", 4) == 0;
	json_key_i64(&j, "id", rq.id);
	json_key_str(&j, "action", rq.action.data);
	if (rq.target.len >= TARGET_MAX - 1 || memchr(rq.target.data, '\n', rq.target.len) != NULL) {
		json_key_bool(&j, "ok", false);
		json_key_str(&j, "state", "failed");
		json_key_str(&j, "error", L("目标无效", "invalid target"));
		goto out;
	}
	/* applying an id again is a no-op (a kill above all: the pid may be
	 * another process by now); undoing one never applied says so */
	if (!undo && !rq.dry_run && a != NULL && strcmp(a->state, "killed") == 0) {
		json_key_bool(&j, "ok", true);
		json_key_str(&j, "state", "applied");
		json_key_str(&j, "detail", L("已执行过（重复请求，未再次结束任何进程）",
			"done before (repeated request: nothing killed again)"));
		goto out;
	}
	if (!undo && !rq.dry_run && a != NULL && strcmp(a->state, "applied") == 0) {
		json_key_bool(&j, "ok", true);
		json_key_str(&j, "state", "applied");
		json_key_str(&j, "detail", L("已生效（重复请求）", "already in place (repeated request)"));
		goto out;
	}
	if (!undo && rq.expires_ns > 0 && rq.expires_ns <= now) {
		json_key_bool(&j, "ok", true);
		json_key_str(&j, "state", "expired");
		goto out;
	}
	ret = apply(r, &rq, undo, now, &j, &detail, &err);
	json_key_bool(&j, "ok", ret == 0);
	json_key_str(&j, "state", ret < 0 ? (undo ? "applied" : "failed") : rq.dry_run ?
		"dry_run" : undo ? "undone" : "applied");
	json_key_str(&j, "detail", detail.data);
	if (ret < 0) {
		json_key_str(&j, "error", err.len > 0 ? err.data : strerror(-ret));
		log_warn("respond", "%s #%lld %s %s: %s", undo ? L("撤销失败", "undo failed") :
			L("处置失败", "action failed"), (long long)rq.id, rq.action.data, rq.target.data,
			err.len > 0 ? err.data : strerror(-ret));
		goto out;
	}
	if (rq.dry_run)
		goto out;
	log_info("respond", "%s #%lld %s %s", undo ? L("已撤销", "undone") : L("已执行", "applied"),
		(long long)rq.id, rq.action.data, rq.target.data);
	if (undo) {
		if (a != NULL)
			snprintf(a->state, sizeof(a->state), "undone");
	} else if (strcmp(rq.action.data, "kill") == 0) {
		a = a != NULL ? a : add_action(r);
		if (a != NULL) {
			a->id = rq.id;
			snprintf(a->action, sizeof(a->action), "kill");
			snprintf(a->target, sizeof(a->target), "%lld", (long long)rq.pid);
			snprintf(a->state, sizeof(a->state), "killed");
		}
	} else {
		a = a != NULL ? a : add_action(r);
		if (a != NULL) {
			a->id = rq.id;
			snprintf(a->action, sizeof(a->action), "%s", rq.action.data);
			snprintf(a->target, sizeof(a->target), "%s", rq.target.data);
			a->expires_ns = rq.expires_ns;
			snprintf(a->state, sizeof(a->state), "applied");
		}
	}
	ret = ledger_save(r);
	if (ret < 0)
		log_warn("respond", "%s: %s", RESPONDER_LEDGER, strerror(-ret));
out:
	(void)json_end(&j);
	buf_release(&rq.op);
	buf_release(&rq.action);
	buf_release(&rq.target);
	buf_release(&detail);
	buf_release(&err);
}

int
responder_tick(struct responder *r, int64_t now_ns)
{
	int n = 0;

	for (size_t i = 0; r != NULL && i < r->n; i++) {
		struct action *a = &r->items[i];

		if (strcmp(a->state, "applied") != 0 || a->expires_ns <= 0 || a->expires_ns > now_ns)
			continue;
		snprintf(a->state, sizeof(a->state), "expired");
		if (strcmp(a->action, "isolate") == 0 && !isolated_by_other(r, a->id)) {
			struct buf err;

			buf_init(&err, 4096);
			if (nft_run("flush chain inet yingji isolation\n", NULL, &err) < 0)
				log_warn("respond", "isolation: %s", err.data);
			buf_release(&err);
		}
		log_info("respond", "%s #%lld %s %s", L("已到期", "expired"), (long long)a->id,
			a->action, a->target);
		n++;
	}
	if (n > 0)
		(void)ledger_save(r);
	return n;
}

/* Re-applies the ledger: blocks with what is left of their time, isolation,
 * accounts stay locked (usermod's lock is persistent), services were stopped. */
static void
reapply(struct responder *r)
{
	int64_t now = now_realtime_ns();
	struct buf cmds, err;
	bool isolate = false;

	buf_init(&cmds, 1 << 20);
	buf_init(&err, 4096);
	for (size_t i = 0; i < r->n; i++) {
		struct action *a = &r->items[i];

		if (a->expires_ns > 0 && a->expires_ns <= now) {
			snprintf(a->state, sizeof(a->state), "expired");
			continue;
		}
		if (strcmp(a->action, "block") == 0) {
			block_cmd(&cmds, true, a->target, a->expires_ns, now);
		} else if (strcmp(a->action, "isolate") == 0) {
			isolate = true;
		} else if (strcmp(a->action, "offline") == 0 && unit_ok(a->target)) {
			/* an enabled unit comes back with a reboot: stopped again */
			char *argv[] = { "/usr/bin/systemctl", "stop", a->target, NULL };

			if (run_argv(argv, &err) < 0)
				log_warn("respond", "%s: %s", a->target, err.data);
			buf_reset(&err);
		}
	}
	if (isolate)
		(void)buf_puts(&cmds, ISOLATION_RULES);
	if (cmds.len > 0 && nft_run(cmds.data, NULL, &err) < 0) {
		/* one bad line must not keep the others out: one by one */
		log_warn("respond", "%s: %s", L("批量重新施加失败，逐条重试", "re-applying in one batch "
			"failed, one by one"), err.data);
		for (char *line = cmds.data, *nl; *line != '\0'; line = nl + 1) {
			nl = strchr(line, '\n');
			if (nl == NULL)
				break;
			*nl = '\0';
			buf_reset(&err);
			if (nft_run(line, NULL, &err) < 0)
				log_warn("respond", "%s: %s", line, err.data);
		}
	} else if (cmds.len > 0)
		log_info("respond", "%s", L("已重新施加台账中仍有效的处置", "re-applied the active actions of the ledger"));
	(void)ledger_save(r);
	buf_release(&cmds);
	buf_release(&err);
}

int
responder_open(int statefd, const char *const *allow, size_t nallow, size_t nserver,
	struct responder **ret)
{
	struct responder *r = xcalloc(1, sizeof(*r));
	struct buf err;
	int rc;

	r->statefd = statefd;
	r->nserver = nserver;
	for (size_t i = 0; i < nallow && r->nallow < ALLOW_MAX; i++) {
		unsigned char b[16];

		if (inet_pton(AF_INET, allow[i], b) != 1 && inet_pton(AF_INET6, allow[i], b) != 1)
			continue;
		snprintf(r->allow[r->nallow], sizeof(r->allow[0]), "%s", allow[i]);
		r->allow_ptr[r->nallow] = r->allow[r->nallow];
		r->nallow++;
	}
	buf_init(&err, 4096);
	rc = firewall_setup(r, &err);
	if (rc < 0) {
		log_warn("respond", "nftables: %s", err.data);
		buf_release(&err);
		free(r);
		return rc;
	}
	buf_release(&err);
	ledger_load(r);
	reapply(r);
	*ret = r;
	return 0;
}

void
responder_close(struct responder *r)
{
	if (r == NULL)
		return;
	free(r->items);
	free(r);
}
