/* test_baseline.c - the baseline: lookups, differences, and the file format
 * (round trip with any byte in names; every kind of damage is refused). */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "agent/event.h"
#include "agent/guard/baseline.h"
#include "core/xalloc.h"
#include "core/banned.h"

static void
add(struct baseline *b, const char *path, uint8_t type, uint64_t size, const char *link)
{
	struct fentry e = { 0 };

	e.path = xstrdup(path);
	e.link = link != NULL ? xstrdup(link) : NULL;
	e.type = type;
	e.size = size;
	e.mode = 0644;
	e.ino = strlen(path) + 7;
	e.mtime_ns = 1700000000123456789ll;
	e.flags = FE_HASHED | FE_STORED;
	memset(e.hash, path[0], sizeof(e.hash));
	baseline_add(b, &e);
}

static void
make_sample(struct baseline *b)
{
	baseline_init(b, "/var/www/html");
	add(b, "", FT_DIR, 0, NULL);
	add(b, "index.html", FT_REG, 100, NULL);
	add(b, "a b/with\nnewline", FT_REG, 5, NULL);
	add(b, "bad\xff\xfeutf8", FT_REG, 0, NULL);
	add(b, "网页/首页.html", FT_REG, 42, NULL);
	add(b, "link", FT_LNK, 0, "../etc/target");
	add(b, "a b", FT_DIR, 0, NULL);
	baseline_finish(b);
}

static void
finds_every_entry_by_path(void **state)
{
	struct baseline b;

	make_sample(&b);
	assert_int_equal(b.n, 7);
	assert_non_null(baseline_find(&b, ""));
	assert_non_null(baseline_find(&b, "a b/with\nnewline"));
	assert_non_null(baseline_find(&b, "bad\xff\xfeutf8"));
	assert_null(baseline_find(&b, "missing"));
	for (size_t i = 1; i < b.n; i++)
		assert_true(strcmp(b.e[i - 1].path, b.e[i].path) < 0);
	baseline_remove(&b, "index.html");
	assert_null(baseline_find(&b, "index.html"));
	assert_non_null(baseline_find(&b, "link"));
	baseline_release(&b);
}

static void
round_trips_through_its_file_format(void **state)
{
	struct baseline b, c;
	struct buf out;

	make_sample(&b);
	buf_init(&out, 0);
	assert_int_equal(baseline_encode(&b, &out), 0);
	assert_int_equal(baseline_decode(out.data, out.len, &c), 0);
	assert_string_equal(c.root, "/var/www/html");
	assert_int_equal(c.n, b.n);
	for (size_t i = 0; i < b.n; i++) {
		assert_string_equal(c.e[i].path, b.e[i].path);
		assert_int_equal(fentry_diff(&b.e[i], &c.e[i]), 0);
		assert_memory_equal(c.e[i].hash, b.e[i].hash, 32);
		assert_int_equal(c.e[i].mtime_ns, b.e[i].mtime_ns);
	}
	assert_string_equal(baseline_find(&c, "link")->link, "../etc/target");
	assert_null(baseline_find(&c, "index.html")->link);
	buf_release(&out);
	baseline_release(&b);
	baseline_release(&c);
}

static void
refuses_damaged_files(void **state)
{
	struct baseline b, c;
	struct buf out;

	make_sample(&b);
	buf_init(&out, 0);
	assert_int_equal(baseline_encode(&b, &out), 0);
	/* every single flipped byte, and every truncation, is caught */
	for (size_t i = 0; i < out.len; i++) {
		out.data[i] ^= 0x5a;
		assert_int_equal(baseline_decode(out.data, out.len, &c), -EBADMSG);
		out.data[i] ^= 0x5a;
	}
	for (size_t n = 0; n < out.len; n++)
		assert_true(baseline_decode(out.data, n, &c) < 0);
	assert_int_equal(baseline_decode("not a baseline", 14, &c), -EBADMSG);
	buf_release(&out);
	baseline_release(&b);
}

static void
saves_atomically_and_loads(void **state)
{
	char dir[] = "/tmp/yingji-test-baseline-XXXXXX";
	struct baseline b, c;
	int dfd;

	assert_non_null(mkdtemp(dir));
	dfd = open(dir, O_RDONLY | O_DIRECTORY);
	assert_true(dfd >= 0);
	make_sample(&b);
	assert_int_equal(baseline_save(&b, dfd, "baseline"), 0);
	assert_int_equal(baseline_load(dfd, "baseline", &c), 0);
	assert_int_equal(c.n, b.n);
	assert_int_equal(baseline_load(dfd, "missing", &c) , -ENOENT);
	/* a symlink in place of the file is not followed */
	assert_int_equal(symlinkat("baseline", dfd, "link"), 0);
	assert_int_equal(baseline_load(dfd, "link", &c), -ELOOP);
	unlinkat(dfd, "link", 0);
	unlinkat(dfd, "baseline", 0);
	close(dfd);
	rmdir(dir);
	baseline_release(&b);
	baseline_release(&c);
}

static void
diff_names_each_kind_of_change(void **state)
{
	struct fentry a = { .path = "f", .type = FT_REG, .size = 3, .mode = 0644, .ino = 1,
		.flags = FE_HASHED };
	struct fentry b = a;

	assert_int_equal(fentry_diff(&a, &b), 0);
	assert_int_equal(fentry_diff(NULL, &b), CH_ADDED);
	assert_int_equal(fentry_diff(&a, NULL), CH_REMOVED);
	b.hash[0] = 1;
	assert_int_equal(fentry_diff(&a, &b), CH_CONTENT);
	b = a;
	b.mode = 0777;
	b.uid = 65534;
	assert_int_equal(fentry_diff(&a, &b), CH_MODE | CH_OWNER);
	b = a;
	b.ino = 2;
	assert_int_equal(fentry_diff(&a, &b), CH_INODE);
	b = a;
	b.type = FT_LNK;
	assert_int_equal(fentry_diff(&a, &b), CH_TYPE);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(finds_every_entry_by_path),
		cmocka_unit_test(round_trips_through_its_file_format),
		cmocka_unit_test(refuses_damaged_files),
		cmocka_unit_test(saves_atomically_and_loads),
		cmocka_unit_test(diff_names_each_kind_of_change),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
