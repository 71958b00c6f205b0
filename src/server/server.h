/*
 * server.h - `yingji serve`: the centre. Takes agents' events over mutual TLS,
 * stores each exactly once in SQLite, watches liveness, pushes commands, and
 * serves the HTTP API (docs/server.md).
 */
#ifndef YINGJI_SERVER_H
#define YINGJI_SERVER_H

#include <stddef.h>
#include <stdint.h>

#define SERVER_MAX_RULE_DIRS	64

struct server_opts {
	const char	*datadir;
	char		 agents_addr[128];	/* "0.0.0.0:8641" */
	char		 http_addr[128];	/* "127.0.0.1:8640" */
	int64_t		 lost_after_ns;		/* silent this long: lost (30 s) */
	int64_t		 heartbeat_ns;		/* agents' heartbeat interval (5 s) */
	int64_t		 token_ttl_ns;		/* default enrollment token lifetime (1 h) */
	int64_t		 suppress_ns;		/* one alert per rule and address within (10 min) */
	uint64_t	 max_queue_bytes;	/* events waiting for the database before
						   agents are read no more (64 MiB) */
	unsigned	 max_conns;		/* agent + HTTP connections (10000) */
	/* Sigma rule directories (--rules, config key rules; none: no
	 * detection). Allocated strings, freed by server_opts_release. */
	const char	*rule_dirs[SERVER_MAX_RULE_DIRS];
	size_t		 nrule_dirs;
	/* The emergency plan (--plan, config key plan; NULL: no incidents).
	 * Allocated, freed by server_opts_release. */
	char		*plan_path;
};

void	server_opts_init(struct server_opts *o);
void	server_opts_release(struct server_opts *o);	/* frees rule_dirs */
/* Adds a rule directory (copied); -E2BIG past SERVER_MAX_RULE_DIRS. */
int	server_opts_add_rules(struct server_opts *o, const char *dir);
/* Apply a config file's keys (data, agents, http, lost_after, heartbeat,
 * token_ttl, max_queue, max_conns, rules (repeatable), plan). Prints what is wrong. */
int	server_opts_load(struct server_opts *o, const char *path, char **ret_datadir);
/* Runs until SIGTERM/SIGINT. Returns 0 or -errno (already reported). */
int	server_run(const struct server_opts *o);

#endif
