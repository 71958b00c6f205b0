/* enrollment.c - save and load the agent's enrollment (see enrollment.h). */
#include "agent/transport/enrollment.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "agent/state.h"
#include "core/buf.h"
#include "core/fdio.h"
#include "core/json.h"
#include "core/json_get.h"
#include "core/banned.h"

static int
write_at(int dirfd, const char *name, const char *data, unsigned mode)
{
	char tmp[64];
	int fd, r;

	snprintf(tmp, sizeof(tmp), ".%s.tmp", name);
	(void)unlinkat(dirfd, tmp, 0);
	fd = openat(dirfd, tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, mode);
	if (fd < 0)
		return -errno;
	r = fd_write_all(fd, data, strlen(data));
	if (r == 0 && fsync(fd) < 0)
		r = -errno;
	close(fd);
	if (r == 0 && renameat(dirfd, tmp, dirfd, name) < 0)
		r = -errno;
	if (r < 0)
		(void)unlinkat(dirfd, tmp, 0);
	return r;
}

int
enrollment_save(int statefd, const char *server, int64_t agent, const char *name,
	const char *key_pem, const char *cert_pem, const char *ca_pem)
{
	struct buf out;
	struct json j;
	int tlsfd = -1, r;

	if (mkdirat(statefd, "tls", 0700) < 0 && errno != EEXIST)
		return -errno;
	tlsfd = openat(statefd, "tls", O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (tlsfd < 0)
		return -errno;
	r = write_at(tlsfd, "agent.key", key_pem, 0600);
	if (r == 0)
		r = write_at(tlsfd, "agent.crt", cert_pem, 0644);
	if (r == 0)
		r = write_at(tlsfd, "ca.crt", ca_pem, 0644);
	close(tlsfd);
	if (r < 0)
		return r;
	buf_init(&out, 4096);
	json_begin(&j, &out);
	json_key_str(&j, "server", server);
	json_key_i64(&j, "agent", agent);
	json_key_str(&j, "name", name);
	r = json_end(&j);
	if (r == 0)
		r = buf_putc(&out, '\n');
	/* Last: its presence says the enrollment is whole. */
	if (r == 0)
		r = state_write_file(statefd, ENROLLMENT_FILE, out.data, out.len);
	buf_release(&out);
	return r;
}

int
enrollment_load(int statefd, const char *state_path, struct enrollment *ret)
{
	struct enrollment e = { 0 };
	struct buf v;
	char *data = NULL;
	size_t len;
	int r;

	r = state_read_file(statefd, ENROLLMENT_FILE, 64 * 1024, &data, &len);
	if (r < 0)
		return r;
	buf_init(&v, sizeof(e.server));
	r = json_get_str(data, len, "server", &v);
	if (r == 0 && v.len > 0 && v.len < sizeof(e.server))
		memcpy(e.server, v.data, v.len + 1);
	else
		r = -EINVAL;
	if (r == 0)
		r = json_get_i64(data, len, "agent", &e.agent);
	if (r == 0 && json_get_str(data, len, "name", &v) == 0 && v.len < sizeof(e.name))
		memcpy(e.name, v.data, v.len + 1);
	buf_release(&v);
	free(data);
	if (r < 0 || e.agent <= 0)
		return -EINVAL;
	snprintf(e.key_path, sizeof(e.key_path), "%s/tls/agent.key", state_path);
	snprintf(e.cert_path, sizeof(e.cert_path), "%s/tls/agent.crt", state_path);
	snprintf(e.ca_path, sizeof(e.ca_path), "%s/tls/ca.crt", state_path);
	*ret = e;
	return 0;
}
