/* syncer.c - one thread that makes restored files and evidence durable. */
#include "agent/guard/syncer.h"

#include <fcntl.h>
#include <pthread.h>
#include <stdbool.h>
#include <unistd.h>

#include "core/banned.h"

#define SYNCER_QUEUE	1024

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t wake = PTHREAD_COND_INITIALIZER;
static pthread_t thread;
static bool running, stopping;
static int queue[SYNCER_QUEUE];	/* fds to fdatasync and close */
static size_t nqueue;
static int fs_fd = -1;		/* a filesystem to syncfs, or -1 */

static void *
syncer_main(void *arg)
{
	int batch[SYNCER_QUEUE];

	pthread_mutex_lock(&lock);
	for (;;) {
		size_t n;
		int fs;

		while (nqueue == 0 && fs_fd < 0 && !stopping)
			pthread_cond_wait(&wake, &lock);
		if (nqueue == 0 && fs_fd < 0 && stopping)
			break;
		n = nqueue;
		for (size_t i = 0; i < n; i++)
			batch[i] = queue[i];
		nqueue = 0;
		fs = fs_fd;
		fs_fd = -1;
		pthread_mutex_unlock(&lock);
		for (size_t i = 0; i < n; i++) {
			fdatasync(batch[i]);
			close(batch[i]);
		}
		if (fs >= 0) {
			syncfs(fs);
			close(fs);
		}
		pthread_mutex_lock(&lock);
	}
	pthread_mutex_unlock(&lock);
	return NULL;
}

int
syncer_start(void)
{
	int r;

	pthread_mutex_lock(&lock);
	stopping = false;
	r = running ? 0 : -pthread_create(&thread, NULL, syncer_main, NULL);
	if (r == 0)
		running = true;
	pthread_mutex_unlock(&lock);
	return r;
}

void
syncer_stop(void)
{
	pthread_mutex_lock(&lock);
	if (!running) {
		pthread_mutex_unlock(&lock);
		return;
	}
	stopping = true;
	pthread_cond_signal(&wake);
	pthread_mutex_unlock(&lock);
	pthread_join(thread, NULL);
	running = false;
}

void
syncer_sync_fd(int fd)
{
	pthread_mutex_lock(&lock);
	if (running && nqueue < SYNCER_QUEUE) {
		queue[nqueue++] = fd;
		pthread_cond_signal(&wake);
		pthread_mutex_unlock(&lock);
		return;
	}
	pthread_mutex_unlock(&lock);
	fdatasync(fd);
	close(fd);
}

void
syncer_sync_fs(int fd)
{
	pthread_mutex_lock(&lock);
	if (running) {
		if (fs_fd < 0)
			fs_fd = fcntl(fd, F_DUPFD_CLOEXEC, 3);
		pthread_cond_signal(&wake);
		pthread_mutex_unlock(&lock);
		return;
	}
	pthread_mutex_unlock(&lock);
	syncfs(fd);
}
