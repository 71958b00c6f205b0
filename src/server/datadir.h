/*
 * datadir.h - the server's data directory, created on the first start:
 *
 *   DIR (0700)/yingji.db        SQLite (WAL): agents, events, tokens
 *             /pki/ca.crt       the deployment's private CA (agents trust it)
 *             /pki/ca.key       its key (0600)
 *             /pki/server.crt   the agent channel's certificate (name yingji-server)
 *             /pki/server.key   (0600)
 *             /admin.token      the API's admin credential (0600), shown once
 *             /serve.json       where the running server listens, for the CLI
 */
#ifndef YINGJI_SERVER_DATADIR_H
#define YINGJI_SERVER_DATADIR_H

#include <stdbool.h>
#include <stdint.h>

#include "core/buf.h"
#include "tls/tls.h"

#define ADMIN_TOKEN_HEX	64

struct datadir {
	int		 fd;
	char		*path;
	char		*db_path, *ca_cert_path, *server_cert_path, *server_key_path;
	char		*cache_path;	/* compiled rules (Hyperscan databases), made when needed */
	struct buf	 ca_cert_pem, ca_key_pem;
	uint8_t		 server_fp[TLS_FINGERPRINT_LEN];
	char		 admin_token[ADMIN_TOKEN_HEX + 1];
	bool		 created_admin_token;	/* first start: show it once */
};

int	datadir_open(const char *path, struct datadir *ret);
void	datadir_release(struct datadir *d);
/* Write serve.json (atomically, 0644) with the bound addresses and pid. */
int	datadir_write_serve_json(struct datadir *d, const char *http_addr, const char *agents_addr,
		bool http_tls);
/* Write a file under the data directory atomically with the given mode. */
int	datadir_write_file(int dirfd, const char *name, const void *p, size_t n, unsigned mode);

#endif
