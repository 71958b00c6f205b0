/*
 * cli.h - what the `yingji` commands share: the global options (--data,
 * --server), the API client they make from them, and printing an API error.
 */
#ifndef YINGJI_CLI_H
#define YINGJI_CLI_H

#include <stdbool.h>

#include "cli/api_client.h"
#include "core/buf.h"

struct cli_global {
	const char	*datadir;	/* --data DIR: on the server's machine */
	const char	*server;	/* --server URL: anywhere else ($YINGJI_TOKEN) */
};
extern struct cli_global cli_global;

/* The client for the global options; prints why not and returns -errno. */
int	cli_client(struct api_client *ret);
/* One request; prints transport errors and API errors ({"error","message"}).
 * Returns 0 for a 2xx status (body in ret_body), else -errno / -EPROTO. */
int	cli_call(struct api_client *c, const char *method, const char *target, const char *body,
		int timeout_ms, struct buf *ret_body);
/* Print s padded with spaces to width terminal columns (CJK counts 2). */
void	cli_pad(const char *s, int width);
/* Print a JSON string or integer value (the API's) or "-" when absent,
 * padded to width columns. */
void	cli_print_field(const char *obj, size_t len, const char *key, int width);

/* Append "&key=value" (percent-encoded) to a query being built; val NULL: nothing. */
void	cli_query_param(struct buf *t, const char *key, const char *val);

#define CLI_PAGE		1000
#define CLI_FOLLOW_WAIT_S	25
typedef void (*cli_print_fn)(const char *obj, size_t len);
/* Page through a cursor API (GET path?after=N&limit=...params, answer
 * {"<key>":[...],"next":N}) printing each object (as it is with json, else
 * with print); with follow, long-poll for new ones until interrupted. Returns
 * 0 or the error of the request that failed (already reported). */
int	cli_pages(struct api_client *c, const char *path, const char *params, const char *key,
		long long after, bool follow, bool json, cli_print_fn print);

/* Page through an API that answers one JSON object per line (GET
 * path?after=N&limit=CLI_PAGE followed by params, which starts with '&' or
 * is empty), printing each object as it is (json) or with print. 0, or the
 * failed request's error (already reported). */
int	cli_lines(struct api_client *c, const char *path, const char *params, bool json,
		cli_print_fn print);

int	cmd_serve(int argc, char **argv);
int	cmd_token(int argc, char **argv);
int	cmd_agents(int argc, char **argv);
int	cmd_agent(int argc, char **argv);
int	cmd_events(int argc, char **argv);
int	cmd_alerts(int argc, char **argv);
int	cmd_status(int argc, char **argv);
int	cmd_detect(int argc, char **argv);
int	cmd_rules(int argc, char **argv);
int	cmd_plan(int argc, char **argv);
int	cmd_incident(int argc, char **argv);
int	cmd_respond(int argc, char **argv);
int	cmd_audit(int argc, char **argv);

#endif
