/* control.c - the control socket's wire format, client and listener. */
#include "agent/control.h"

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "agent/state.h"
#include "core/buf.h"
#include "core/xalloc.h"
#include "core/banned.h"

/* The socket is addressed through the open state directory, so a long state
 * path never overflows sun_path and the name cannot be redirected. */
static void
socket_addr(int statefd, struct sockaddr_un *sa)
{
	memset(sa, 0, sizeof(*sa));
	sa->sun_family = AF_UNIX;
	snprintf(sa->sun_path, sizeof(sa->sun_path), "/proc/self/fd/%d/%s", statefd,
		STATE_CONTROL_SOCKET);
}

int
control_parse(char *buf, size_t len, struct control_request *ret)
{
	size_t start = 0;

	memset(ret, 0, sizeof(*ret));
	if (len == 0 || len > CONTROL_MAX_REQUEST || buf[len - 1] != '\0')
		return -EBADMSG;
	for (size_t i = 0; i < len; i++) {
		if (buf[i] != '\0')
			continue;
		if (ret->nfields == CONTROL_MAX_FIELDS)
			return -EBADMSG;
		ret->field[ret->nfields++] = buf + start;
		start = i + 1;
	}
	return 0;
}

int
control_listen(int statefd)
{
	struct sockaddr_un sa;
	int fd, r;

	socket_addr(statefd, &sa);
	unlinkat(statefd, STATE_CONTROL_SOCKET, 0);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0)
		return -errno;
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 || listen(fd, 16) < 0) {
		r = -errno;
		close(fd);
		return r;
	}
	fchmodat(statefd, STATE_CONTROL_SOCKET, 0600, 0);
	return fd;
}

int
control_call(int statefd, const char *const *fields, size_t n, int timeout_ms, char **ret_msg)
{
	struct sockaddr_un sa;
	struct buf req, reply;
	struct pollfd pfd;
	size_t off = 0;
	int fd = -1, r;

	buf_init(&req, CONTROL_MAX_REQUEST);
	buf_init(&reply, 65536);
	for (size_t i = 0; i < n; i++) {
		r = buf_append(&req, fields[i], strlen(fields[i]) + 1);
		if (r < 0)
			goto out;
	}
	socket_addr(statefd, &sa);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		r = -errno;
		goto out;
	}
	while (off < req.len) {
		ssize_t w = write(fd, req.data + off, req.len - off);

		if (w < 0) {
			r = -errno;
			goto out;
		}
		off += (size_t)w;
	}
	shutdown(fd, SHUT_WR);
	pfd.fd = fd;
	pfd.events = POLLIN;
	for (;;) {
		char chunk[4096];
		ssize_t got;

		r = poll(&pfd, 1, timeout_ms);
		if (r == 0) {
			r = -ETIMEDOUT;
			goto out;
		}
		got = read(fd, chunk, sizeof(chunk));
		if (got < 0 && errno == EINTR)
			continue;
		if (got < 0) {
			r = -errno;
			goto out;
		}
		if (got == 0)
			break;
		if (buf_append(&reply, chunk, (size_t)got) < 0)
			break;
	}
	if (reply.len == 0) {
		r = -ECONNRESET;
		goto out;
	}
	*ret_msg = xstrdup(reply.data + 1);
	r = reply.data[0] == '0' ? 0 : -EREMOTEIO;
out:
	if (fd >= 0)
		close(fd);
	buf_release(&req);
	buf_release(&reply);
	return r;
}
