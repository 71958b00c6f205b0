/* test_conf.c - the configuration file parser: good files, each kind of mistake with its line. */
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

#include "core/buf.h"
#include "core/conf.h"
#include "core/banned.h"

static int
parse(const char *text, struct conf *c, unsigned *line, const char **msg)
{
	return conf_parse(text, strlen(text), c, line, msg);
}

/* A bad input: the error, the line it names and a non-empty message; the
 * output is left alone. */
static void
assert_parse_error(const char *text, size_t len, int want_r, unsigned want_line)
{
	struct conf c = { 0 };
	const char *msg = NULL;
	unsigned line = 0;

	assert_int_equal(conf_parse(text, len, &c, &line, &msg), want_r);
	assert_int_equal(line, want_line);
	assert_non_null(msg);
	assert_true(strlen(msg) > 0);
	assert_null(c.entries);
	assert_int_equal(c.n, 0);
}

static void
parses_keys_values_and_comments(void **state)
{
	const char *text =
		"# agent configuration\n"
		"\n"
		"server = collector.example:8443\n"
		"  guard=/etc  \n"
		"\tguard =\t/usr/bin # trailing comment\n"
		"guard = \"/srv/my dir/a \\\"q\\\" \\\\ # not a comment\"   # comment\n"
		"log.level-2_x = debug\r\n"
		"empty =\n"
		"url = http://h/#frag\n"
		"last = no newline";
	struct conf c = { 0 };
	const char *msg = NULL;
	unsigned line = 0;

	assert_int_equal(parse(text, &c, &line, &msg), 0);
	assert_int_equal(c.n, 8);
	assert_string_equal(c.entries[0].key, "server");
	assert_string_equal(c.entries[0].value, "collector.example:8443");
	assert_int_equal(c.entries[0].line, 3);
	assert_string_equal(c.entries[1].value, "/etc");
	assert_int_equal(c.entries[1].line, 4);
	assert_string_equal(c.entries[2].value, "/usr/bin");
	assert_string_equal(c.entries[3].key, "guard");
	assert_string_equal(c.entries[3].value, "/srv/my dir/a \"q\" \\ # not a comment");
	assert_string_equal(c.entries[4].key, "log.level-2_x");
	assert_string_equal(c.entries[4].value, "debug");
	assert_string_equal(c.entries[5].value, "");
	assert_string_equal(c.entries[6].value, "http://h/#frag");
	assert_string_equal(c.entries[7].value, "no newline");
	assert_int_equal(c.entries[7].line, 10);

	/* Repeated keys are all kept; conf_get sees the last one. */
	assert_string_equal(conf_get(&c, "guard"), "/srv/my dir/a \"q\" \\ # not a comment");
	assert_string_equal(conf_get(&c, "server"), "collector.example:8443");
	assert_null(conf_get(&c, "missing"));
	assert_null(conf_get(&c, "guar"));

	conf_release(&c);
	assert_null(c.entries);
	assert_int_equal(c.n, 0);
	conf_release(&c);
}

static void
empty_and_comment_only_files(void **state)
{
	struct conf c = { 0 };

	assert_int_equal(conf_parse(NULL, 0, &c, NULL, NULL), 0);
	assert_int_equal(c.n, 0);
	assert_int_equal(parse("\xef\xbb\xbf# bom\n\n   \n# x = y\n", &c, NULL, NULL), 0);
	assert_int_equal(c.n, 0);
	conf_release(&c);
	assert_int_equal(parse("\xef\xbb\xbf" "a = b\n", &c, NULL, NULL), 0);
	assert_int_equal(c.n, 1);
	assert_string_equal(c.entries[0].key, "a");
	conf_release(&c);
}

static void
missing_equals(void **state)
{
	const char *t = "a = 1\n# ok\njust words\n";

	assert_parse_error(t, strlen(t), -EINVAL, 3);
	t = "a = 1\nkey\n";
	assert_parse_error(t, strlen(t), -EINVAL, 2);
	t = "[section]\n";
	assert_parse_error(t, strlen(t), -EINVAL, 1);
}

static void
bad_key(void **state)
{
	const char *t = "a = 1\n\nServer = x\n";

	assert_parse_error(t, strlen(t), -EINVAL, 3);
	t = "= value\n";
	assert_parse_error(t, strlen(t), -EINVAL, 1);
	t = "a = 1\nmy key = v\n";
	assert_parse_error(t, strlen(t), -EINVAL, 2);
	t = "a = 1\nb = 2\nkey! = v\n";
	assert_parse_error(t, strlen(t), -EINVAL, 3);
}

static void
unterminated_quote(void **state)
{
	const char *t = "a = 1\nb = \"open\nc = \"closed\"\n";

	assert_parse_error(t, strlen(t), -EINVAL, 2);
	/* A trailing backslash escapes the would-be closing quote. */
	t = "a = \"x\\\"\n";
	assert_parse_error(t, strlen(t), -EINVAL, 1);
	t = "a = \"x\\";
	assert_parse_error(t, strlen(t), -EINVAL, 1);
}

static void
other_quote_mistakes(void **state)
{
	const char *t = "a = \"x\" y\n";

	assert_parse_error(t, strlen(t), -EINVAL, 1);
	t = "a = 1\nb = \"\\n\"\n";
	assert_parse_error(t, strlen(t), -EINVAL, 2);
}

static void
nul_byte(void **state)
{
	static const char t[] = "a = 1\nb = 2\nc = x\0y\nd = 4\n";

	assert_parse_error(t, sizeof(t) - 1, -EINVAL, 3);
}

static void
line_too_long(void **state)
{
	struct buf b;
	struct conf c = { 0 };

	/* Exactly CONF_LINE_MAX bytes is fine, one more is not. */
	buf_init(&b, 0);
	assert_int_equal(buf_puts(&b, "a = 1\nk = "), 0);
	for (size_t i = 4; i < CONF_LINE_MAX; i++)
		assert_int_equal(buf_putc(&b, 'v'), 0);
	assert_int_equal(buf_putc(&b, '\n'), 0);
	assert_int_equal(conf_parse(b.data, b.len, &c, NULL, NULL), 0);
	assert_int_equal(strlen(conf_get(&c, "k")), CONF_LINE_MAX - 4);
	conf_release(&c);

	buf_reset(&b);
	assert_int_equal(buf_puts(&b, "a = 1\n# c\nk = "), 0);
	for (size_t i = 4; i < CONF_LINE_MAX + 1; i++)
		assert_int_equal(buf_putc(&b, 'v'), 0);
	assert_parse_error(b.data, b.len, -E2BIG, 3);
	buf_release(&b);
}

static void
too_many_entries(void **state)
{
	struct buf b;
	struct conf c = { 0 };

	buf_init(&b, 0);
	for (unsigned i = 0; i < CONF_ENTRIES_MAX; i++)
		assert_int_equal(buf_appendf(&b, "k%u = v\n", i), 0);
	assert_int_equal(buf_puts(&b, "# comments do not count\n\n"), 0);
	assert_int_equal(conf_parse(b.data, b.len, &c, NULL, NULL), 0);
	assert_int_equal(c.n, CONF_ENTRIES_MAX);
	conf_release(&c);

	assert_int_equal(buf_puts(&b, "one = too many\n"), 0);
	assert_parse_error(b.data, b.len, -E2BIG, CONF_ENTRIES_MAX + 3);
	buf_release(&b);
}

static char *
write_temp(const char *text, size_t len)
{
	char *path = strdup("/tmp/test_conf.XXXXXX");
	int fd;

	assert_non_null(path);
	fd = mkstemp(path);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, text, len), (ssize_t)len);
	close(fd);
	return path;
}

static void
load_file(void **state)
{
	const char *text = "guard = /etc\nguard = /bin\n";
	struct conf c = { 0 };
	const char *msg = NULL;
	unsigned line = 0;
	char *path;

	path = write_temp(text, strlen(text));
	assert_int_equal(conf_load_file(path, &c, &line, &msg), 0);
	assert_int_equal(c.n, 2);
	assert_string_equal(conf_get(&c, "guard"), "/bin");
	conf_release(&c);
	unlink(path);
	free(path);

	text = "a = 1\nb\n";
	path = write_temp(text, strlen(text));
	assert_int_equal(conf_load_file(path, &c, &line, &msg), -EINVAL);
	assert_int_equal(line, 2);
	assert_string_equal(msg, "missing '='");
	unlink(path);
	free(path);

	assert_int_equal(conf_load_file("/nonexistent/yingji.conf", &c, NULL, NULL), -ENOENT);
	assert_int_equal(conf_load_file("/tmp", &c, NULL, NULL), -EISDIR);
	assert_int_equal(conf_load_file("/dev/null", &c, NULL, NULL), -EINVAL);
	assert_null(c.entries);
}

static void
load_file_size_cap(void **state)
{
	struct conf c = { 0 };
	char *text = malloc(CONF_FILE_MAX + 1);
	char *path;

	/* Exactly the cap is read; a byte more is refused. */
	memset(text, '\n', CONF_FILE_MAX + 1);
	memcpy(text, "a = b", 5);
	path = write_temp(text, CONF_FILE_MAX);
	assert_int_equal(conf_load_file(path, &c, NULL, NULL), 0);
	assert_string_equal(conf_get(&c, "a"), "b");
	conf_release(&c);
	unlink(path);
	free(path);

	path = write_temp(text, CONF_FILE_MAX + 1);
	assert_int_equal(conf_load_file(path, &c, NULL, NULL), -EFBIG);
	assert_null(c.entries);
	unlink(path);
	free(path);
	free(text);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(parses_keys_values_and_comments),
		cmocka_unit_test(empty_and_comment_only_files),
		cmocka_unit_test(missing_equals),
		cmocka_unit_test(bad_key),
		cmocka_unit_test(unterminated_quote),
		cmocka_unit_test(other_quote_mistakes),
		cmocka_unit_test(nul_byte),
		cmocka_unit_test(line_too_long),
		cmocka_unit_test(too_many_entries),
		cmocka_unit_test(load_file),
		cmocka_unit_test(load_file_size_cap),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
