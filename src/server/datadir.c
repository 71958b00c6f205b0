/* datadir.c - create or open the server's data directory (see datadir.h). */
#include "server/datadir.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/fdio.h"
#include "core/hex.h"
#include "core/json.h"
#include "core/xalloc.h"
#include "tls/pki.h"
#include "core/banned.h"

#define PKI_DIR		"pki"
#define CA_DAYS		3650
#define SERVER_DAYS	3650

int
datadir_write_file(int dirfd, const char *name, const void *p, size_t n, unsigned mode)
{
	char tmp[256];
	int fd = -1, r;

	snprintf(tmp, sizeof(tmp), ".%s.tmp", name);
	(void)unlinkat(dirfd, tmp, 0);
	fd = openat(dirfd, tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, mode);
	if (fd < 0)
		return -errno;
	if (fchmod(fd, mode) < 0) {
		r = -errno;
		goto out;
	}
	r = fd_write_all(fd, p, n);
	if (r < 0)
		goto out;
	if (fsync(fd) < 0) {
		r = -errno;
		goto out;
	}
	if (renameat(dirfd, tmp, dirfd, name) < 0) {
		r = -errno;
		goto out;
	}
	r = 0;
out:
	if (fd >= 0)
		close(fd);
	if (r < 0)
		(void)unlinkat(dirfd, tmp, 0);
	return r;
}

static int
read_small(int dirfd, const char *name, struct buf *out)
{
	char *data = NULL;
	size_t len;
	int fd, r;

	fd = openat(dirfd, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	r = fd_read_all(fd, PKI_MAX_PEM, &data, &len);
	close(fd);
	if (r < 0)
		return r;
	buf_reset(out);
	r = buf_append(out, data, len);
	free(data);
	return r;
}

static bool
exists_at(int dirfd, const char *name)
{
	struct stat st;

	return fstatat(dirfd, name, &st, AT_SYMLINK_NOFOLLOW) == 0;
}

/* First start: the CA and the server's certificate. */
static int
pki_create(int pkifd)
{
	struct buf ca_cert, ca_key, cert, key;
	char cn[200], host[128] = "";
	int r;

	buf_init(&ca_cert, PKI_MAX_PEM);
	buf_init(&ca_key, PKI_MAX_PEM);
	buf_init(&cert, PKI_MAX_PEM);
	buf_init(&key, PKI_MAX_PEM);
	(void)gethostname(host, sizeof(host) - 1);
	snprintf(cn, sizeof(cn), "Yingji CA %s", host);
	r = pki_ca_create(cn, CA_DAYS, &ca_cert, &ca_key);
	if (r < 0)
		goto out;
	r = pki_server_cert_create(ca_cert.data, ca_key.data, SERVER_DAYS, &cert, &key);
	if (r < 0)
		goto out;
	/* Keys first: a certificate without its key would be taken for done. */
	r = datadir_write_file(pkifd, "ca.key", ca_key.data, ca_key.len, 0600);
	if (r == 0)
		r = datadir_write_file(pkifd, "server.key", key.data, key.len, 0600);
	if (r == 0)
		r = datadir_write_file(pkifd, "server.crt", cert.data, cert.len, 0644);
	if (r == 0)
		r = datadir_write_file(pkifd, "ca.crt", ca_cert.data, ca_cert.len, 0644);
out:
	buf_release(&ca_cert);
	buf_release(&ca_key);
	buf_release(&cert);
	buf_release(&key);
	return r;
}

static int
admin_token_load(struct datadir *d)
{
	struct buf b;
	int r;

	buf_init(&b, PKI_MAX_PEM);
	if (!exists_at(d->fd, "admin.token")) {
		uint8_t raw[ADMIN_TOKEN_HEX / 2];

		if (getrandom(raw, sizeof(raw), 0) != (ssize_t)sizeof(raw)) {
			r = -EIO;
			goto out;
		}
		hex_encode(raw, sizeof(raw), d->admin_token);
		explicit_bzero(raw, sizeof(raw));
		d->admin_token[ADMIN_TOKEN_HEX] = '\n';
		r = datadir_write_file(d->fd, "admin.token", d->admin_token, ADMIN_TOKEN_HEX + 1,
			0600);
		d->admin_token[ADMIN_TOKEN_HEX] = '\0';
		d->created_admin_token = true;
		goto out;
	}
	r = read_small(d->fd, "admin.token", &b);
	if (r < 0)
		goto out;
	while (b.len > 0 && (b.data[b.len - 1] == '\n' || b.data[b.len - 1] == '\r'))
		b.data[--b.len] = '\0';
	if (b.len != ADMIN_TOKEN_HEX) {
		r = -EINVAL;
		goto out;
	}
	memcpy(d->admin_token, b.data, ADMIN_TOKEN_HEX + 1);
out:
	buf_release(&b);
	return r;
}

int
datadir_open(const char *path, struct datadir *ret)
{
	struct datadir d = { .fd = -1 };
	struct buf cert;
	int pkifd = -1, r;

	buf_init(&d.ca_cert_pem, PKI_MAX_PEM);
	buf_init(&d.ca_key_pem, PKI_MAX_PEM);
	buf_init(&cert, PKI_MAX_PEM);
	if (mkdir(path, 0700) < 0 && errno != EEXIST) {
		r = -errno;
		goto out;
	}
	d.fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (d.fd < 0) {
		r = -errno;
		goto out;
	}
	/* The CA key and the admin credential live here: root only. */
	if (fchmod(d.fd, 0700) < 0) {
		r = -errno;
		goto out;
	}
	if (mkdirat(d.fd, PKI_DIR, 0700) < 0 && errno != EEXIST) {
		r = -errno;
		goto out;
	}
	pkifd = openat(d.fd, PKI_DIR, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (pkifd < 0) {
		r = -errno;
		goto out;
	}
	if (!exists_at(pkifd, "ca.crt")) {
		r = pki_create(pkifd);
		if (r < 0)
			goto out;
	}
	r = read_small(pkifd, "ca.crt", &d.ca_cert_pem);
	if (r == 0)
		r = read_small(pkifd, "ca.key", &d.ca_key_pem);
	if (r == 0)
		r = read_small(pkifd, "server.crt", &cert);
	if (r < 0)
		goto out;
	r = pki_cert_fingerprint(cert.data, cert.len, d.server_fp);
	if (r < 0)
		goto out;
	r = admin_token_load(&d);
	if (r < 0)
		goto out;
	d.path = xstrdup(path);
	d.db_path = xasprintf("%s/yingji.db", path);
	d.cache_path = xasprintf("%s/cache", path);
	d.ca_cert_path = xasprintf("%s/%s/ca.crt", path, PKI_DIR);
	d.server_cert_path = xasprintf("%s/%s/server.crt", path, PKI_DIR);
	d.server_key_path = xasprintf("%s/%s/server.key", path, PKI_DIR);

	*ret = d;
	d.fd = -1;
out:
	if (pkifd >= 0)
		close(pkifd);
	buf_release(&cert);
	if (d.fd >= 0) {
		buf_release(&d.ca_cert_pem);
		buf_release(&d.ca_key_pem);
		close(d.fd);
	}
	return r;
}

void
datadir_release(struct datadir *d)
{
	if (d->fd >= 0)
		close(d->fd);
	d->fd = -1;
	explicit_bzero(d->ca_key_pem.data, d->ca_key_pem.len);
	explicit_bzero(d->admin_token, sizeof(d->admin_token));
	buf_release(&d->ca_cert_pem);
	buf_release(&d->ca_key_pem);
	free(d->path);
	free(d->db_path);
	free(d->ca_cert_path);
	free(d->server_cert_path);
	free(d->server_key_path);
	free(d->cache_path);
	d->cache_path = NULL;
	d->path = d->db_path = d->ca_cert_path = d->server_cert_path = d->server_key_path = NULL;
}

int
datadir_write_serve_json(struct datadir *d, const char *http_addr, const char *agents_addr,
	bool http_tls)
{
	struct buf out;
	struct json j;
	int r;

	buf_init(&out, 4096);
	json_begin(&j, &out);
	json_key_str(&j, "http", http_addr);
	json_key_str(&j, "agents", agents_addr);
	json_key_i64(&j, "pid", (int64_t)getpid());
	json_key_bool(&j, "http_tls", http_tls);
	r = json_end(&j);
	if (r == 0)
		r = buf_putc(&out, '\n');
	if (r == 0)
		r = datadir_write_file(d->fd, "serve.json", out.data, out.len, 0644);
	buf_release(&out);
	return r;
}
