/* test_scan.c - the tree walk: symlinks never followed, hashes right on any
 * number of threads, unchanged files not read again, bad roots refused. */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "agent/event.h"
#include "agent/guard/scan.h"
#include "tls/sha256.h"
#include "core/banned.h"

static char root[64], tree[128];

static void
write_file(const char *rel, const char *content)
{
	char path[512];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", tree, rel);
	f = fopen(path, "w");
	assert_non_null(f);
	fputs(content, f);
	fclose(f);
}

static int
setup(void **state)
{
	char path[512];

	snprintf(root, sizeof(root), "/tmp/yingji-test-scan-XXXXXX");
	if (mkdtemp(root) == NULL)
		return -1;
	snprintf(tree, sizeof(tree), "%s/site", root);
	mkdir(tree, 0755);
	snprintf(path, sizeof(path), "%s/sub", tree);
	mkdir(path, 0750);
	snprintf(path, sizeof(path), "%s/outside", root);
	mkdir(path, 0755);
	write_file("index.html", "<h1>hello</h1>\n");
	write_file("sub/a.css", "body{}");
	write_file("empty", "");
	write_file("name with\nnewline", "x");
	write_file("bad\xff", "y");
	snprintf(path, sizeof(path), "%s/outside/secret", root);
	{
		FILE *f = fopen(path, "w");

		fputs("secret", f);
		fclose(f);
	}
	snprintf(path, sizeof(path), "%s/escape", tree);
	if (symlink("../outside", path) < 0)
		return -1;
	return 0;
}

static int
teardown(void **state)
{
	char cmd[256];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", root);
	return system(cmd) == 0 ? 0 : -1;
}

static void
records_every_entry_without_following_symlinks(void **state)
{
	struct baseline b = { 0 };
	struct scan_stats st;
	const struct fentry *e;
	uint8_t want[32];

	assert_int_equal(tree_scan(tree, NULL, &b, &st, NULL, NULL), 0);
	assert_int_equal(st.files, 5);
	assert_int_equal(st.links, 1);
	assert_non_null(baseline_find(&b, ""));
	e = baseline_find(&b, "escape");
	assert_non_null(e);
	assert_int_equal(e->type, FT_LNK);
	assert_string_equal(e->link, "../outside");
	assert_null(baseline_find(&b, "escape/secret"));	/* not followed */
	e = baseline_find(&b, "index.html");
	sha256_buf("<h1>hello</h1>\n", 15, want);
	assert_memory_equal(e->hash, want, 32);
	assert_true(e->flags & FE_HASHED);
	assert_non_null(baseline_find(&b, "name with\nnewline"));
	assert_non_null(baseline_find(&b, "bad\xff"));
	assert_int_equal(baseline_find(&b, "sub")->mode, 0750);
	baseline_release(&b);
}

static void
same_result_on_one_thread_and_many(void **state)
{
	struct scan_opts one = { .threads = 1 }, many = { .threads = 8 };
	struct baseline a = { 0 }, b = { 0 };

	assert_int_equal(tree_scan(tree, &one, &a, NULL, NULL, NULL), 0);
	assert_int_equal(tree_scan(tree, &many, &b, NULL, NULL, NULL), 0);
	assert_int_equal(a.n, b.n);
	for (size_t i = 0; i < a.n; i++) {
		assert_string_equal(a.e[i].path, b.e[i].path);
		assert_int_equal(fentry_diff(&a.e[i], &b.e[i]), 0);
	}
	baseline_release(&a);
	baseline_release(&b);
}

static void
unchanged_files_are_not_read_again(void **state)
{
	struct baseline a = { 0 }, b = { 0 };
	struct scan_opts opts = { 0 };
	struct scan_stats st;

	assert_int_equal(tree_scan(tree, NULL, &a, NULL, NULL, NULL), 0);
	opts.reuse = &a;
	assert_int_equal(tree_scan(tree, &opts, &b, &st, NULL, NULL), 0);
	assert_int_equal(st.reused, 5);
	assert_int_equal(st.hashed_bytes, 0);
	baseline_release(&b);
	/* a changed file is read again, and only it */
	write_file("index.html", "<h1>changed!</h1>\n");
	assert_int_equal(tree_scan(tree, &opts, &b, &st, NULL, NULL), 0);
	assert_int_equal(st.reused, 4);
	assert_int_equal(st.hashed_bytes, 18);
	assert_int_not_equal(fentry_diff(baseline_find(&a, "index.html"),
				     baseline_find(&b, "index.html")) & CH_CONTENT, 0);
	baseline_release(&a);
	baseline_release(&b);
}

static void
refuses_a_symlink_or_missing_root(void **state)
{
	struct baseline b = { 0 };
	char link[200], missing[200];

	snprintf(link, sizeof(link), "%s/rootlink", root);
	assert_int_equal(symlink(tree, link), 0);
	assert_int_equal(tree_scan(link, NULL, &b, NULL, NULL, NULL), -ELOOP);
	snprintf(missing, sizeof(missing), "%s/missing", root);
	assert_int_equal(tree_scan(missing, NULL, &b, NULL, NULL, NULL), -ENOENT);
	unlink(link);
}

static void
scan_one_stops_at_a_symlinked_parent(void **state)
{
	struct fentry e = { 0 };
	int rootfd = open(tree, O_RDONLY | O_DIRECTORY);

	assert_int_equal(scan_one(rootfd, "sub/a.css", true, NULL, &e), 0);
	assert_int_equal(e.type, FT_REG);
	assert_true(e.flags & FE_HASHED);
	fentry_release(&e);
	assert_int_equal(scan_one(rootfd, "escape/secret", true, NULL, &e), -ELOOP);
	assert_int_equal(scan_one(rootfd, "nothing", false, NULL, &e), -ENOENT);
	close(rootfd);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(records_every_entry_without_following_symlinks),
		cmocka_unit_test(same_result_on_one_thread_and_many),
		cmocka_unit_test(unchanged_files_are_not_read_again),
		cmocka_unit_test(refuses_a_symlink_or_missing_root),
		cmocka_unit_test(scan_one_stops_at_a_symlinked_parent),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
