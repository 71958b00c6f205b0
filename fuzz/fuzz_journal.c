/*
 * fuzz_journal.c - libFuzzer target: journal segments holding arbitrary bytes
 * must never crash the reader or journal_open(), and opening (which cuts torn
 * tails and sets damaged segments aside) must never lose a record the reader
 * could see before. The input is one segment, or two when its first byte is
 * odd, in a state directory created once per process.
 */
#include <dirent.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "agent/journal/journal.h"
#include "core/log.h"
#include "core/banned.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int state_fd = -1;
static char state_path[64];

static int
count_cb(uint64_t seq, int64_t time_ns, const void *payload, size_t len, void *data)
{
	uint64_t *n = data;

	if (len > JOURNAL_MAX_RECORD)
		__builtin_trap();
	if (len > 0)
		(void)((const volatile unsigned char *)payload)[len - 1];
	(*n)++;
	return 0;
}

static int journal_dir_reset(void);

static void
state_cleanup(void)
{
	close(journal_dir_reset());
	unlinkat(state_fd, "journal", AT_REMOVEDIR);
	rmdir(state_path);
}

static void
state_init(void)
{
	log_set_level(LOG_ERR);
	/* tmpfs when there is one: the journal fsyncs. */
	snprintf(state_path, sizeof(state_path), "/dev/shm/yingji-fuzz-journal.XXXXXX");
	if (mkdtemp(state_path) == NULL) {
		snprintf(state_path, sizeof(state_path), "/tmp/yingji-fuzz-journal.XXXXXX");
		if (mkdtemp(state_path) == NULL)
			abort();
	}
	state_fd = open(state_path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (state_fd < 0 || mkdirat(state_fd, "journal", 0700) < 0)
		abort();
	atexit(state_cleanup);
}

static int
journal_dir_reset(void)
{
	struct dirent *de;
	int jfd;
	DIR *d;

	jfd = openat(state_fd, "journal", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (jfd < 0)
		abort();
	d = fdopendir(dup(jfd));
	if (d == NULL)
		abort();
	while ((de = readdir(d)) != NULL)
		if (de->d_name[0] != '.')
			unlinkat(jfd, de->d_name, 0);
	closedir(d);
	return jfd;
}

static void
write_segment(int jfd, uint64_t first_seq, const uint8_t *p, size_t n)
{
	char name[32];
	int fd;

	snprintf(name, sizeof(name), "%016" PRIx64 ".seg", first_seq);
	fd = openat(jfd, name, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0 || write(fd, p, n) != (ssize_t)n)
		abort();
	close(fd);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct journal *j = NULL;
	uint64_t before = 0, after = 0, next = 0;
	int jfd;

	if (state_fd < 0)
		state_init();
	jfd = journal_dir_reset();
	if (size >= 2 && (data[0] & 1)) {
		size_t split = 2 + (size - 2) * data[1] / 256;

		write_segment(jfd, 1, data + 2, split - 2);
		write_segment(jfd, 2 + (data[0] >> 1), data + split, size - split);
	} else {
		write_segment(jfd, 1, data, size);
	}
	close(jfd);

	if (journal_read(state_fd, 0, count_cb, &before, &next) != 0)
		__builtin_trap();
	if (journal_open(state_fd, NULL, &j) == 0) {
		journal_close(j);
		if (journal_read(state_fd, 0, count_cb, &after, NULL) != 0 || after != before)
			__builtin_trap();
	}
	return 0;
}
