/*
 * test_respond.c - the agent's responder (src/agent/responder) against real
 * nftables. Every test that touches nftables runs in a forked child that has
 * unshared its network namespace first, so the host's ruleset is never seen
 * or changed; without root (or without nf_tables) those tests are skipped.
 * What a user would notice: a block is an element of block4 and undo removes
 * it; isolation puts a drop in place; a table that is not Yingji's is left
 * alone; a restart (table gone) re-applies the ledger, skipping lines that
 * cannot be read; a dry run shows the exact nft text and changes nothing;
 * the allow list refuses a block of the centre's address.
 * The checks on targets alone are in test_response_checks.c.
 */
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <sched.h>
#include <signal.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "agent/responder/nft.h"
#include "agent/responder/responder.h"
#include "agent/state.h"
#include "core/buf.h"
#include "core/timeutil.h"

static const char *const allow[] = { "10.231.1.1", "2001:db8::1" };

/* ---- targets (no nftables) ---- */

static void
cidr_table(void **state)
{
	static const struct {
		const char	*in;
		int		 ret;
		const char	*canon;
	} cases[] = {
		{ "203.0.113.7", 0, "203.0.113.7" },
		{ "203.0.113.7/32", 0, "203.0.113.7" },
		{ "203.0.113.77/24", 0, "203.0.113.0/24" },
		{ "11.0.0.0/8", 0, "11.0.0.0/8" },
		{ "2001:db9::1", 0, "2001:db9::1" },
		{ "2001:db9::1/48", 0, "2001:db9::/48" },
		{ "2002:db9::/16", 0, "2002::/16" },
		{ "", -EINVAL, NULL },
		{ "1.2.3", -EINVAL, NULL },
		{ "1.2.3.4/33", -EINVAL, NULL },
		{ "1.2.3.4/", -EINVAL, NULL },
		{ "1.2.3.4//24", -EINVAL, NULL },
		{ "1.2.3.4/24/24", -EINVAL, NULL },
		{ "1.2.3.4/+24", -EINVAL, NULL },
		{ "0.0.0.0/0", -EINVAL, NULL },
		{ "::/0", -EINVAL, NULL },
		{ "10.0.0.0/4", -EINVAL, NULL },
		{ "2001::/15", -EINVAL, NULL },
		{ "2001:db9::1/129", -EINVAL, NULL },
		{ "1.2.3.4 ", -EINVAL, NULL },
		{ " 1.2.3.4", -EINVAL, NULL },
		{ "1.2.3.4\n", -EINVAL, NULL },
		{ "1.2.3.4/24 }; flush ruleset", -EINVAL, NULL },
		{ "1.2.3.4x", -EINVAL, NULL },
		{ "127.0.0.1", -EPERM, NULL },
		{ "10.231.1.1", -EPERM, NULL },		/* the centre */
		{ "10.231.1.0/24", -EPERM, NULL },	/* covers the centre */
		{ "10.0.0.0/8", -EPERM, NULL },
		{ "2001:db8::/32", -EPERM, NULL },	/* covers an admin */
	};
	char out[64], lng[4096];
	const char *why;

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		int ret = responder_check_cidr(cases[i].in, allow, 2, out, sizeof(out), &why);

		if (ret != cases[i].ret)
			fail_msg("\"%s\": %d, wanted %d", cases[i].in, ret, cases[i].ret);
		if (ret == 0)
			assert_string_equal(out, cases[i].canon);
		else
			assert_non_null(why);
	}
	/* very long strings, with and without a valid start */
	memset(lng, '1', sizeof(lng) - 1);
	lng[sizeof(lng) - 1] = '\0';
	assert_int_equal(responder_check_cidr(lng, allow, 2, out, sizeof(out), &why), -EINVAL);
	memcpy(lng, "1.2.3.4/", 8);
	assert_int_equal(responder_check_cidr(lng, allow, 2, out, sizeof(out), &why), -EINVAL);
}

/* ---- in a network namespace of our own ---- */

#define CHECK(c) do { if (!(c)) { fprintf(stderr, "%s:%d: %s\n", __FILE__, __LINE__, #c); \
	_exit(1); } } while (0)

static char state_dir[64];	/* the child's, removed when it is done */

static int
rm_one(const char *path, const struct stat *st, int type, struct FTW *ftw)
{
	(void)st;
	(void)type;
	(void)ftw;
	return remove(path);
}

/* Runs fn in a child with a fresh network namespace. Skips without root. */
static void
in_netns(void (*fn)(void))
{
	int status;
	pid_t pid;

	if (geteuid() != 0) {
		skip();
		return;
	}
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		struct buf o, e;

		if (unshare(CLONE_NEWNET) < 0)
			_exit(77);
		buf_init(&o, 1 << 16);
		buf_init(&e, 4096);
		if (nft_run("list tables\n", &o, &e) < 0)
			_exit(77);	/* no nf_tables in this kernel */
		buf_release(&o);
		buf_release(&e);
		fn();
		if (state_dir[0] != '\0')
			(void)nftw(state_dir, rm_one, 8, FTW_DEPTH | FTW_PHYS);
		_exit(0);
	}
	assert_int_equal(waitpid(pid, &status, 0), pid);
	if (WIFEXITED(status) && WEXITSTATUS(status) == 77) {
		skip();
		return;
	}
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 0);
}

static int
temp_state(char *path, size_t size)
{
	int fd;

	snprintf(path, size, "/tmp/yj-respond-XXXXXX");
	CHECK(mkdtemp(path) != NULL);
	snprintf(state_dir, sizeof(state_dir), "%s", path);
	CHECK(state_open(path, false, &fd) == 0);
	return fd;
}

/* Runs cmds through nft; 0 or -errno (nft's text on stderr). */
static int
nft_do(const char *cmds)
{
	struct buf e;
	int ret;

	buf_init(&e, 4096);
	ret = nft_run(cmds, NULL, &e);
	if (ret < 0)
		fprintf(stderr, "nft: %s\n", e.data);
	buf_release(&e);
	return ret;
}

/* nft's listing of what, into a static buffer ("" when nft refuses). */
static const char *
nft_list(const char *what)
{
	static struct buf o;
	struct buf e;

	buf_release(&o);
	buf_init(&o, 1 << 20);
	buf_init(&e, 4096);
	(void)nft_run(what, &o, &e);
	buf_release(&e);
	return o.data;
}

static const char *
handle(struct responder *r, const char *req)
{
	static struct buf out;

	buf_release(&out);
	buf_init(&out, 1 << 20);
	responder_handle(r, req, strlen(req), &out);
	return out.data;
}

static void
block_undo_child(void)
{
	struct responder *r = NULL;
	char dir[64];
	int fd = temp_state(dir, sizeof(dir));
	const char *res;

	/* someone else's table, there before us: never touched */
	CHECK(nft_do("add table inet theirs\nadd chain inet theirs c\n"
		"add rule inet theirs c counter accept\n") == 0);
	CHECK(responder_open(fd, allow, 2, 1, &r) == 0);
	CHECK(strstr(nft_list("list set inet yingji allow4\n"), "10.231.1.1") != NULL);

	res = handle(r, "{\"command\":\"respond\",\"op\":\"apply\",\"id\":7,\"action\":\"block\","
		"\"addr\":\"203.0.113.77/24\"}");
	CHECK(strstr(res, "\"ok\":true") != NULL && strstr(res, "\"state\":\"applied\"") != NULL);
	CHECK(strstr(nft_list("list set inet yingji block4\n"), "203.0.113.0/24") != NULL);
	/* again: harmless, still one element */
	res = handle(r, "{\"op\":\"apply\",\"id\":7,\"action\":\"block\",\"addr\":\"203.0.113.77/24\"}");
	CHECK(strstr(res, "\"ok\":true") != NULL);

	/* v6 goes to block6 */
	res = handle(r, "{\"op\":\"apply\",\"id\":8,\"action\":\"block\",\"addr\":\"2001:db9::5\"}");
	CHECK(strstr(res, "\"ok\":true") != NULL);
	CHECK(strstr(nft_list("list set inet yingji block6\n"), "2001:db9::5") != NULL);

	/* the centre's address: refused, nothing added */
	res = handle(r, "{\"op\":\"apply\",\"id\":9,\"action\":\"block\",\"addr\":\"10.231.1.0/24\"}");
	CHECK(strstr(res, "\"ok\":false") != NULL && strstr(res, "\"state\":\"failed\"") != NULL);
	CHECK(strstr(nft_list("list set inet yingji block4\n"), "10.231.1.0") == NULL);

	res = handle(r, "{\"op\":\"undo\",\"id\":7}");
	CHECK(strstr(res, "\"ok\":true") != NULL && strstr(res, "\"state\":\"undone\"") != NULL);
	CHECK(strstr(nft_list("list set inet yingji block4\n"), "203.0.113.0") == NULL);
	CHECK(strstr(nft_list("list set inet yingji block6\n"), "2001:db9::5") != NULL);

	/* undo of an id never applied is not a success */
	res = handle(r, "{\"op\":\"undo\",\"id\":12345}");
	CHECK(strstr(res, "\"ok\":false") != NULL);

	CHECK(strstr(nft_list("list table inet theirs\n"), "counter") != NULL);
	responder_close(r);
	close(fd);
}

static void
block_undo(void **state)
{
	(void)state;
	in_netns(block_undo_child);
}

static void
isolate_child(void)
{
	struct responder *r = NULL;
	char dir[64];
	int fd = temp_state(dir, sizeof(dir));
	const char *res;

	CHECK(responder_open(fd, allow, 2, 1, &r) == 0);
	res = handle(r, "{\"op\":\"apply\",\"id\":3,\"action\":\"isolate\"}");
	CHECK(strstr(res, "\"ok\":true") != NULL && strstr(res, "\"state\":\"applied\"") != NULL);
	res = nft_list("list table inet yingji\n");
	CHECK(strstr(res, "drop") != NULL);
	/* the allow sets and loopback are accepted before anything drops */
	CHECK(strstr(res, "ip saddr @allow4 accept") != NULL);
	CHECK(strstr(res, "iif \"lo\" accept") != NULL);
	CHECK(strstr(res, "ip saddr @allow4 accept") < strstr(res, "jump isolation"));
	res = handle(r, "{\"op\":\"undo\",\"id\":3}");
	CHECK(strstr(res, "\"state\":\"undone\"") != NULL);
	res = nft_list("list chain inet yingji isolation\n");
	CHECK(strstr(res, "drop") == NULL);
	responder_close(r);
	close(fd);
}

static void
isolate(void **state)
{
	(void)state;
	in_netns(isolate_child);
}

static void
dry_run_child(void)
{
	struct responder *r = NULL;
	char dir[64], req[256];
	int fd = temp_state(dir, sizeof(dir));
	const char *res;

	CHECK(responder_open(fd, allow, 2, 1, &r) == 0);
	res = handle(r, "{\"op\":\"apply\",\"id\":4,\"action\":\"block\",\"addr\":\"198.51.100.9\","
		"\"dry_run\":true}");
	CHECK(strstr(res, "\"state\":\"dry_run\"") != NULL);
	CHECK(strstr(res, "\"detail\":\"add element inet yingji block4 { 198.51.100.9 }\\n\"") != NULL);
	CHECK(strstr(nft_list("list set inet yingji block4\n"), "198.51.100.9") == NULL);

	/* with an expiry: the timeout in whole seconds, rounded up */
	snprintf(req, sizeof(req), "{\"op\":\"apply\",\"id\":5,\"action\":\"block\","
		"\"addr\":\"198.51.100.0/24\",\"expires_ns\":%lld,\"dry_run\":true}",
		(long long)(now_realtime_ns() + 3600ll * 1000000000ll - 500000000ll));
	res = handle(r, req);
	CHECK(strstr(res, "add element inet yingji block4 { 198.51.100.0/24 timeout 3600s }") != NULL);

	res = handle(r, "{\"op\":\"apply\",\"id\":6,\"action\":\"isolate\",\"dry_run\":true}");
	CHECK(strstr(res, "\"detail\":\"flush chain inet yingji isolation\\nadd rule inet yingji "
		"isolation icmpv6 type { nd-neighbor-solicit, nd-neighbor-advert, nd-router-solicit, "
		"nd-router-advert } accept\\nadd rule inet yingji isolation udp sport { 67, 68 } udp "
		"dport { 67, 68 } accept\\nadd rule inet yingji isolation drop\\n\"") != NULL);
	CHECK(strstr(nft_list("list chain inet yingji isolation\n"), "drop") == NULL);
	/* a dry run leaves no ledger entry */
	res = handle(r, "{\"op\":\"undo\",\"id\":4}");
	CHECK(strstr(res, "\"ok\":false") != NULL);
	responder_close(r);
	close(fd);
}

static void
dry_run(void **state)
{
	(void)state;
	in_netns(dry_run_child);
}

static void
reopen_child(void)
{
	static const char junk[] =
		"{\"id\":1,\"action\":\"block\",\"target\":\"192.0.2.1\",\"expires_ns\":0,\"state\":\"applied\"}\n"
		"not json at all\n"
		"{\"id\":2,\"action\":\"block\"\n"
		"{\"id\":3,\"action\":\"block\",\"target\":\"192.0.2.3\",\"expires_ns\":1,\"state\":\"applied\"}\n"
		"\n"
		"{\"id\":\"x\",\"action\":\"block\",\"target\":\"192.0.2.4\"}\n";
	struct responder *r = NULL;
	char dir[64], *text = NULL;
	size_t len;
	int fd = temp_state(dir, sizeof(dir));
	const char *res;

	/* a ledger left by an earlier run, with lines that cannot be read */
	CHECK(state_write_file(fd, RESPONDER_LEDGER, junk, sizeof(junk) - 1) == 0);
	CHECK(responder_open(fd, allow, 2, 1, &r) == 0);
	res = nft_list("list set inet yingji block4\n");
	CHECK(strstr(res, "192.0.2.1") != NULL);
	CHECK(strstr(res, "192.0.2.3") == NULL);	/* expired long ago */
	CHECK(strstr(res, "192.0.2.4") == NULL);	/* unreadable */

	/* one more block and an isolation, then a "reboot": the table is gone */
	res = handle(r, "{\"op\":\"apply\",\"id\":10,\"action\":\"block\",\"addr\":\"192.0.2.10\"}");
	CHECK(strstr(res, "\"ok\":true") != NULL);
	res = handle(r, "{\"op\":\"apply\",\"id\":11,\"action\":\"isolate\"}");
	CHECK(strstr(res, "\"ok\":true") != NULL);
	responder_close(r);
	r = NULL;
	CHECK(nft_do("delete table inet yingji\n") == 0);

	CHECK(state_read_file(fd, RESPONDER_LEDGER, 1 << 20, &text, &len) == 0);
	CHECK(strstr(text, "not json") == NULL);	/* rewritten with what is active */
	CHECK(strstr(text, "\"id\":10") != NULL && strstr(text, "\"id\":11") != NULL);
	free(text);
	{
		struct stat st;

		CHECK(fstatat(fd, RESPONDER_LEDGER, &st, 0) == 0);
		CHECK((st.st_mode & 077) == 0);
	}

	CHECK(responder_open(fd, allow, 2, 1, &r) == 0);
	res = nft_list("list set inet yingji block4\n");
	CHECK(strstr(res, "192.0.2.1") != NULL && strstr(res, "192.0.2.10") != NULL);
	CHECK(strstr(nft_list("list chain inet yingji isolation\n"), "drop") != NULL);
	/* re-applied, so a repeat of the request is a no-op and undo works */
	res = handle(r, "{\"op\":\"undo\",\"id\":10}");
	CHECK(strstr(res, "\"state\":\"undone\"") != NULL);
	CHECK(strstr(nft_list("list set inet yingji block4\n"), "192.0.2.10") == NULL);
	responder_close(r);
	close(fd);
}

/* Found in review: a directory was quarantined whole, a kill of the agent's
 * own ancestor stopped the agent, one bad ledger line kept every other
 * action from coming back. */
static void
review_regressions_child(void)
{
	static const char bad_ledger[] =
		"{\"id\":1,\"action\":\"block\",\"target\":\"192.0.2.21\",\"expires_ns\":0,\"state\":\"applied\"}\n"
		"{\"id\":2,\"action\":\"block\",\"target\":\"999.1.1.1\",\"expires_ns\":0,\"state\":\"applied\"}\n"
		"{\"id\":3,\"action\":\"isolate\",\"target\":\"\",\"expires_ns\":0,\"state\":\"applied\"}\n";
	struct responder *r = NULL;
	char dir[64], victim[128], req[512];
	int fd = temp_state(dir, sizeof(dir));
	const char *res;
	struct stat st;

	CHECK(state_write_file(fd, RESPONDER_LEDGER, bad_ledger, sizeof(bad_ledger) - 1) == 0);
	CHECK(responder_open(fd, allow, 2, 1, &r) == 0);
	res = nft_list("list set inet yingji block4\n");
	CHECK(strstr(res, "192.0.2.21") != NULL);			/* the good block is back */
	CHECK(strstr(nft_list("list chain inet yingji isolation\n"), "drop") != NULL);

	/* a directory is never moved */
	snprintf(victim, sizeof(victim), "%s/adir", dir);
	CHECK(mkdir(victim, 0700) == 0);
	snprintf(req, sizeof(req), "{\"op\":\"apply\",\"id\":20,\"action\":\"quarantine\","
		"\"path\":\"%s\"}", victim);
	res = handle(r, req);
	CHECK(strstr(res, "\"ok\":false") != NULL);
	CHECK(stat(victim, &st) == 0 && S_ISDIR(st.st_mode));
	snprintf(req, sizeof(req), "{\"op\":\"apply\",\"id\":21,\"action\":\"quarantine\","
		"\"path\":\"%s/..\"}", victim);
	res = handle(r, req);
	CHECK(strstr(res, "\"ok\":false") != NULL);

	/* the agent's own parent (here: the test process) is refused, and we live */
	snprintf(req, sizeof(req), "{\"op\":\"apply\",\"id\":22,\"action\":\"kill\","
		"\"pid\":%d}", (int)getppid());
	res = handle(r, req);
	CHECK(strstr(res, "\"ok\":false") != NULL);
	CHECK(kill(getppid(), 0) == 0);
	res = handle(r, "{\"op\":\"apply\",\"id\":23,\"action\":\"kill\",\"pid\":99999999999}");
	CHECK(strstr(res, "\"ok\":false") != NULL);
	responder_close(r);
	close(fd);
}

static void
review_regressions(void **state)
{
	(void)state;
	in_netns(review_regressions_child);
}

static void
reopen_reapplies(void **state)
{
	(void)state;
	in_netns(reopen_child);
}

static void
expiry_child(void)
{
	struct responder *r = NULL;
	char dir[64], req[256], *text = NULL;
	size_t len;
	int fd = temp_state(dir, sizeof(dir));
	int64_t exp = now_realtime_ns() + 60ll * 1000000000ll;
	const char *res;

	CHECK(responder_open(fd, allow, 2, 1, &r) == 0);
	snprintf(req, sizeof(req), "{\"op\":\"apply\",\"id\":20,\"action\":\"block\","
		"\"addr\":\"192.0.2.20\",\"expires_ns\":%lld}", (long long)exp);
	res = handle(r, req);
	CHECK(strstr(res, "\"state\":\"applied\"") != NULL);
	CHECK(strstr(nft_list("list set inet yingji block4\n"), "timeout") != NULL);
	CHECK(responder_tick(r, exp - 1) == 0);
	CHECK(responder_tick(r, exp) == 1);
	CHECK(responder_tick(r, exp + 1) == 0);
	CHECK(state_read_file(fd, RESPONDER_LEDGER, 1 << 20, &text, &len) == 0);
	CHECK(strstr(text, "\"id\":20") == NULL);	/* no longer active */
	free(text);
	/* already expired when asked: nothing is put in place */
	res = handle(r, "{\"op\":\"apply\",\"id\":21,\"action\":\"block\",\"addr\":\"192.0.2.21\","
		"\"expires_ns\":5}");
	CHECK(strstr(res, "\"state\":\"expired\"") != NULL);
	CHECK(strstr(nft_list("list set inet yingji block4\n"), "192.0.2.21") == NULL);
	responder_close(r);
	close(fd);
}

static void
expiry(void **state)
{
	(void)state;
	in_netns(expiry_child);
}

static void
bad_requests_child(void)
{
	static const char *const bad[] = {
		"", "{", "[]", "{\"op\":\"apply\"}", "{\"op\":\"nuke\",\"id\":1}",
		"{\"op\":\"apply\",\"id\":1,\"action\":\"format_disk\"}",
		"{\"op\":\"apply\",\"id\":1,\"action\":\"block\"}",
		"{\"op\":\"apply\",\"id\":1,\"action\":\"block\",\"addr\":\"0.0.0.0/0\"}",
		"{\"op\":\"apply\",\"id\":1,\"action\":\"block\",\"addr\":\"1.2.3.4 } ; flush ruleset ; {\"}",
		"{\"op\":\"apply\",\"id\":1,\"action\":\"offline\",\"unit\":\"nginx; reboot\"}",
		"{\"op\":\"apply\",\"id\":1,\"action\":\"offline\",\"unit\":\"../x.service\"}",
		"{\"op\":\"apply\",\"id\":1,\"action\":\"lock_account\",\"user\":\"root\"}",
		"{\"op\":\"apply\",\"id\":1,\"action\":\"lock_account\",\"user\":\"nosuchuser-yj\"}",
		"{\"op\":\"apply\",\"id\":1,\"action\":\"kill\",\"pid\":1}",
		"{\"op\":\"apply\",\"id\":1,\"action\":\"kill\",\"pid\":-1}",
		"{\"op\":\"apply\",\"id\":1,\"action\":\"kill\",\"pid\":2}",	/* kthreadd */
		"{\"op\":\"apply\",\"id\":1,\"action\":\"quarantine\",\"path\":\"relative\"}",
	};
	struct responder *r = NULL;
	char dir[64];
	int fd = temp_state(dir, sizeof(dir));

	CHECK(responder_open(fd, allow, 2, 1, &r) == 0);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		const char *res = handle(r, bad[i]);

		if (strstr(res, "\"ok\":false") == NULL) {
			fprintf(stderr, "accepted %s: %s\n", bad[i], res);
			_exit(1);
		}
	}
	CHECK(strstr(nft_list("list set inet yingji block4\n"), "elements") == NULL);
	responder_close(r);
	close(fd);
}

static void
bad_requests(void **state)
{
	(void)state;
	in_netns(bad_requests_child);
}

static void
kill_records_child(void)
{
	struct responder *r = NULL;
	char dir[64], req[256];
	int fd = temp_state(dir, sizeof(dir));
	const char *res;
	int status;
	pid_t victim;

	CHECK(responder_open(fd, allow, 2, 1, &r) == 0);
	victim = fork();
	CHECK(victim >= 0);
	if (victim == 0) {
		execl("/bin/sleep", "sleep", "60", (char *)NULL);
		_exit(127);
	}
	usleep(100000);
	snprintf(req, sizeof(req), "{\"op\":\"apply\",\"id\":30,\"action\":\"kill\",\"pid\":%d}",
		(int)victim);
	res = handle(r, req);
	CHECK(strstr(res, "\"ok\":true") != NULL);
	CHECK(strstr(res, "\"record\":") != NULL && strstr(res, "sleep") != NULL);
	CHECK(waitpid(victim, &status, 0) == victim);
	CHECK(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);
	res = handle(r, "{\"op\":\"undo\",\"id\":30,\"action\":\"kill\"}");
	CHECK(strstr(res, "\"ok\":false") != NULL);
	responder_close(r);
	close(fd);
}

static void
kill_records(void **state)
{
	(void)state;
	in_netns(kill_records_child);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(cidr_table),
		cmocka_unit_test(block_undo),
		cmocka_unit_test(isolate),
		cmocka_unit_test(dry_run),
		cmocka_unit_test(reopen_reapplies),
		cmocka_unit_test(review_regressions),
		cmocka_unit_test(expiry),
		cmocka_unit_test(bad_requests),
		cmocka_unit_test(kill_records),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
