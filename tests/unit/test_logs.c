/* test_logs.c - log collection: line cutting, the 64 KiB cap, a last line
 * without newline, and catching up from the journal after positions that are
 * behind (as after a crash), with a real journal in a temporary state dir. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "agent/journal/journal.h"
#include "agent/logs/logs.h"
#include "agent/state.h"
#include "core/buf.h"
#include "core/json_get.h"
#include "core/xalloc.h"
#include "core/banned.h"

struct env {
	char			 dir[256];
	char			 log[PATH_MAX];
	int			 statefd;
	struct journal		*j;
	struct journal_writer	*w;
	struct logs		*l;
	/* What was emitted: the lines, and their truncated flags. */
	char			*lines[64];
	bool			 trunc[64];
	size_t			 n;
};

static void
on_emit(int64_t time_ns, const void *payload, size_t len, void *data)
{
	struct env *e = data;
	struct buf s;
	int64_t v = 0;

	journal_writer_submit(e->w, time_ns, payload, len);
	buf_init(&s, 1u << 20);
	assert_int_equal(json_get_str(payload, len, "line", &s), 0);
	assert_true(e->n < 64);
	e->lines[e->n] = xstrndup(s.data, s.len);
	e->trunc[e->n] = memmem(payload, len, "\"truncated\":true", 16) != NULL;
	assert_int_equal(json_get_i64(payload, len, "offset", &v), 0);
	assert_true(v > 0);
	e->n++;
	buf_release(&s);
}

static void
env_clear(struct env *e)
{
	for (size_t i = 0; i < e->n; i++)
		free(e->lines[i]);
	e->n = 0;
}

static void
env_open(struct env *e)
{
	char *paths[] = { e->log };
	struct logs_opts o = { .statefd = e->statefd, .paths = paths, .npaths = 1,
		.emit = on_emit, .data = e };

	assert_int_equal(journal_open(e->statefd, NULL, &e->j), 0);
	assert_int_equal(journal_writer_start(e->j, &e->w), 0);
	o.journal = e->j;
	o.writer = e->w;
	assert_int_equal(logs_open(&o, &e->l), 0);
}

static void
env_close(struct env *e)
{
	logs_close(e->l);
	e->l = NULL;
	journal_writer_stop(e->w);
	journal_close(e->j);
}

static void
append(const char *path, const char *s, size_t len)
{
	int fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600);

	assert_true(fd >= 0);
	assert_int_equal(write(fd, s, len), (ssize_t)len);
	close(fd);
}

static int
setup(void **state)
{
	struct env *e = xcalloc(1, sizeof(*e));

	snprintf(e->dir, sizeof(e->dir), "/tmp/yj-test-logs.XXXXXX");
	assert_non_null(mkdtemp(e->dir));
	snprintf(e->log, sizeof(e->log), "%s/app.log", e->dir);
	assert_int_equal(state_open(e->dir, true, &e->statefd), 0);
	*state = e;
	return 0;
}

static int
teardown(void **state)
{
	struct env *e = *state;
	char cmd[PATH_MAX + 16];

	env_clear(e);
	close(e->statefd);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", e->dir);
	assert_int_equal(system(cmd), 0);
	free(e);
	return 0;
}

static void
test_lines(void **state)
{
	struct env *e = *state;
	char *big = xmalloc(200000);

	env_open(e);	/* the file does not exist yet: read from 0 when it appears */
	append(e->log, "one\ntwo\n\nthree", 14);
	logs_tick(e->l);
	assert_int_equal(e->n, 3);
	assert_string_equal(e->lines[0], "one");
	assert_string_equal(e->lines[1], "two");
	assert_string_equal(e->lines[2], "");
	memset(big, 'x', 200000);
	append(e->log, "\n", 1);
	append(e->log, big, 200000);
	append(e->log, "\nafter\n", 7);
	logs_tick(e->l);
	assert_int_equal(e->n, 6);
	assert_string_equal(e->lines[3], "three");
	assert_int_equal(strlen(e->lines[4]), LOGS_MAX_LINE);
	assert_true(e->trunc[4]);
	assert_false(e->trunc[5]);
	assert_string_equal(e->lines[5], "after");
	env_close(e);
	free(big);
}

/* Positions saved before some lines were journaled (a crash between two
 * saves): the journal records after the saved seq move them on. */
static void
test_replay(void **state)
{
	struct env *e = *state;
	char *old = NULL;
	size_t oldlen = 0;
	int dfd;

	env_open(e);
	append(e->log, "a\nb\n", 4);
	logs_tick(e->l);
	assert_int_equal(e->n, 2);
	dfd = openat(e->statefd, "logs", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	assert_true(dfd >= 0);
	assert_int_equal(state_read_file(dfd, "positions", 1u << 20, &old, &oldlen), 0);
	append(e->log, "c\nd\n", 4);
	logs_tick(e->l);
	assert_int_equal(e->n, 4);
	env_close(e);
	/* Back to the older positions, as if the agent died before saving. */
	assert_int_equal(state_write_file(dfd, "positions", old, oldlen), 0);
	free(old);
	close(dfd);
	env_clear(e);
	append(e->log, "e\n", 2);
	env_open(e);
	logs_tick(e->l);
	assert_int_equal(e->n, 1);
	assert_string_equal(e->lines[0], "e");
	env_close(e);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_lines, setup, teardown),
		cmocka_unit_test_setup_teardown(test_replay, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
