/*
 * server_int.h - what the parts of `yingji serve` share. One network thread
 * (net.c) owns every connection and all of this state; agent_channel.c and
 * api.c run on it. Only the engine thread (engine.c) writes the database.
 */
#ifndef YINGJI_SERVER_INT_H
#define YINGJI_SERVER_INT_H

#include <stdbool.h>
#include <stdint.h>

#include "core/bmap.h"
#include "core/buf.h"
#include "proto/wire.h"
#include "server/datadir.h"
#include "server/engine.h"
#include "server/server.h"
#include "server/store/db.h"
#include "tls/tls.h"

#define HANDSHAKE_DEADLINE_NS	(10ll * 1000000000)	/* TLS + HELLO, or a whole HTTP request */
#define HTTP_IDLE_NS		(60ll * 1000000000)
#define AGENT_OUT_MAX		(64u << 20)
#define HTTP_OUT_MAX		(64u << 20)

enum conn_kind { CONN_AGENT = 1, CONN_HTTP };
enum park_kind { PARK_NONE = 0, PARK_JOB, PARK_EVENTS, PARK_COMMAND };

struct conn {
	uint64_t		 id;		/* never reused: jobs find their conn by it */
	enum conn_kind		 kind;
	int			 fd;
	struct tls_conn		*tls;		/* NULL: plain HTTP on loopback */
	bool			 handshaking;
	bool			 closing;	/* close once out is written */
	int64_t			 closing_since;	/* monotonic; set by the tick */
	struct buf		 in, out;
	size_t			 out_off;
	uint32_t		 events;	/* current epoll interest */
	int64_t			 created_ns, last_rx_ns;	/* monotonic */
	char			 addr[64];

	/* agent channel */
	bool			 has_cert;
	struct tls_peer		 peer;
	int64_t			 agent;		/* after HELLO; 0 before */
	bool			 busy;		/* enrolling: read nothing more */

	/* HTTP */
	int64_t			 req_start_ns;	/* first byte of the request being read; 0 */
	enum park_kind		 park;
	int64_t			 park_deadline_ns;
	struct db_event_filter park_filter;
	char			 park_type[65];
	uint64_t		 park_cmd;
	bool			 keep_alive;
};

struct agent_mem {
	struct db_agent	 rec;
	uint64_t		 conn;		/* its live connection, 0 when none */
	uint64_t		 queued[WIRE_LANES];	/* highest seq handed to the engine */
	uint64_t		 committed[WIRE_LANES];
	int64_t			 gone_since_ns;	/* monotonic; 0 while connected */
	bool			 online;	/* connected, or gone for less than lost_after */
	int64_t			 next_heartbeat_ns;
	/* first-response requests sent on the live connection (id * 2 + undo),
	 * forgotten when it reconnects (everything open is sent again) */
	uint64_t		*resp_sent;
	size_t			 nresp_sent, resp_sent_cap;
};

struct metrics {
	uint64_t	received, stored, duplicates, invalid, gaps;
	uint64_t	bad_frames, rejected_peers, enrolled, lost_total;
	uint64_t	http_requests, http_unauthorized;
};

struct server {
	const struct server_opts *o;
	struct datadir		 dd;
	struct engine		*engine;
	struct engine_config	 ecfg;
	struct db		*reader;
	struct plan		*plan;		/* NULL: no incidents */
	char			*audit_head_path;
	struct tls_ctx		*agent_tls, *http_tls;
	int			 epfd, sigfd, timerfd, agent_lfd, http_lfd;
	struct bmap		 conns;		/* id -> struct conn */
	struct bmap		 agents;	/* id -> struct agent_mem */
	unsigned		 nconns;
	uint64_t		 next_conn_id, next_cmd_id;
	struct job		*pending;	/* events being gathered for the engine */
	bool			 paused;	/* backpressure: agents are not read */
	bool			 stopping;
	struct metrics		 m;
	int64_t			 started_ns;
	char			 http_addr[128], agents_addr[128];
};

/* net.c */
struct conn	*conn_get(struct server *s, uint64_t id);
void		 conn_send(struct server *s, struct conn *c, const void *p, size_t n);
void		 conn_close(struct server *s, struct conn *c);
void		 conn_update_events(struct server *s, struct conn *c);
struct job	*server_pending(struct server *s);	/* the events job being filled */
/* A server-made event (lane -1) about an agent. detail: ASCII, may be NULL. */
void		 server_event(struct server *s, const char *type, int64_t agent, const char *detail);
struct agent_mem *agent_mem_get(struct server *s, int64_t id);

/* agent_channel.c */
void	agent_channel_input(struct server *s, struct conn *c);
void	agent_channel_closed(struct server *s, struct conn *c);
void	agent_channel_job_done(struct server *s, struct job *job);
void	agent_channel_tick(struct server *s, int64_t now_mono);
int	agent_channel_send_command(struct server *s, int64_t agent, uint64_t cmd_id,
		const char *json, size_t len);

/* api.c */
void	api_input(struct server *s, struct conn *c);
void	api_job_done(struct server *s, struct job *job);
void	api_events_committed(struct server *s);
void	api_command_result(struct server *s, uint64_t cmd_id, int64_t agent, const char *json,
		size_t len);
void	api_tick(struct server *s, int64_t now_mono);
void	api_shutdown(struct server *s);	/* forget waiting commands */
/* Send the first-response requests still open to their connected agents
 * (agent 0: every agent; an agent that just connected: forget what was sent
 * before and send everything open again). */
void	api_responses_dispatch(struct server *s, int64_t agent, bool reconnected);

#endif
