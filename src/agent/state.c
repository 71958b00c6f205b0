/* state.c - the state directory: creation, the one-agent lock, small files. */
#include "agent/state.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/fdio.h"
#include "core/xalloc.h"
#include "core/banned.h"

static int
mkdir_parents(const char *path)
{
	char *copy = xstrdup(path);
	int r = 0;

	for (char *p = copy + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir(copy, 0755) < 0 && errno != EEXIST) {
			r = -errno;
			break;
		}
		*p = '/';
	}
	free(copy);
	return r;
}

int
state_open(const char *path, bool create, int *ret_fd)
{
	struct stat st;
	int fd, r;

	if (create) {
		r = mkdir_parents(path);
		if (r < 0)
			return r;
		if (mkdir(path, 0700) < 0 && errno != EEXIST)
			return -errno;
	}
	fd = open(path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	if (fstat(fd, &st) < 0) {
		r = -errno;
		close(fd);
		return r;
	}
	/* Root-only: the store holds every guarded file's content. */
	if (create && (st.st_mode & 077) != 0 && st.st_uid == geteuid())
		fchmod(fd, 0700);
	*ret_fd = fd;
	return 0;
}

static pid_t
read_holder(int lockfd)
{
	char buf[32];
	ssize_t n = pread(lockfd, buf, sizeof(buf) - 1, 0);

	if (n <= 0)
		return 0;
	buf[n] = '\0';
	return (pid_t)strtol(buf, NULL, 10);
}

int
state_lock(int statefd, int *ret_lockfd, pid_t *ret_holder)
{
	char pid[32];
	int fd, r, n;

	fd = openat(statefd, "lock", O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (fd < 0)
		return -errno;
	if (flock(fd, LOCK_EX | LOCK_NB) < 0) {
		r = errno == EWOULDBLOCK ? -EBUSY : -errno;
		if (ret_holder != NULL)
			*ret_holder = read_holder(fd);
		close(fd);
		return r;
	}
	n = snprintf(pid, sizeof(pid), "%d\n", (int)getpid());
	if (ftruncate(fd, 0) < 0 || pwrite(fd, pid, (size_t)n, 0) != n) {
		/* A read-only or full state directory still gets its lock held. */
	}
	*ret_lockfd = fd;
	return 0;
}

bool
state_agent_running(int statefd, pid_t *ret_pid)
{
	bool running = false;
	int fd;

	fd = openat(statefd, "lock", O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return false;
	if (flock(fd, LOCK_SH | LOCK_NB) < 0 && errno == EWOULDBLOCK) {
		running = true;
		if (ret_pid != NULL)
			*ret_pid = read_holder(fd);
	}
	close(fd);
	return running;
}

int
state_write_file(int statefd, const char *name, const void *data, size_t len)
{
	char tmp[256];
	int fd, r;

	snprintf(tmp, sizeof(tmp), ".%s.tmp", name);
	fd = openat(statefd, tmp, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (fd < 0)
		return -errno;
	r = fd_write_all(fd, data, len);
	close(fd);
	if (r == 0 && renameat(statefd, tmp, statefd, name) < 0)
		r = -errno;
	if (r < 0)
		unlinkat(statefd, tmp, 0);
	return r;
}

int
state_read_file(int statefd, const char *name, size_t max, char **ret, size_t *ret_len)
{
	int fd, r;

	fd = openat(statefd, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	r = fd_read_all(fd, max, ret, ret_len);
	close(fd);
	return r;
}

int
state_subdir_open(int statefd, const char *name)
{
	int fd;

	if (mkdirat(statefd, name, 0700) < 0 && errno != EEXIST)
		return -errno;
	fd = openat(statefd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	return fd < 0 ? -errno : fd;
}
