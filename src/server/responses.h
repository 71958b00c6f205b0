/*
 * responses.h - first-response actions at the centre (issue 6): requests
 * checked and recorded in the ledger (table responses), pushed to the
 * agent's responder over the channel, their results recorded; undo,
 * approval, expiry; automatic requests from the plan's playbooks.
 *
 * Engine thread: responses_request() runs one request (JSON) in its own
 * transaction; responses_auto() runs inside the incident's transaction;
 * responses_tick() expires. The network thread sends what is open
 * (responses_open_json) to connected agents: the engine raises a flag after
 * every commit that made something to send.
 *
 * Requests (JSON):
 *   {"op":"create","action":"block","agent":N,"addr":"CIDR","for":"1h",
 *    "actor":"member"|absent,"server_addr":"the centre's address as the
 *    agent sees it, or empty"}
 *   (isolate: no target; offline: "unit"; quarantine: "path"; kill: "pid";
 *    lock_account: "user")
 *   {"op":"undo","id":N,"actor":...}   {"op":"approve","id":N,"actor":...}
 *   {"op":"result","id":N,"answer":{...the agent's result...}}
 */
#ifndef YINGJI_SERVER_RESPONSES_H
#define YINGJI_SERVER_RESPONSES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/buf.h"
#include "plan/plan.h"
#include "server/store/db.h"

#define RESPONSE_CMD_FLAG	(1ull << 62)	/* channel command ids of responses */
#define RESPONSE_MAX_FOR_NS	(30ll * 86400 * 1000000000)
#define RESPONSE_DEFAULT_FOR_NS	(3600ll * 1000000000)

/* plan may be NULL. *ret_status: the HTTP status; resp: the row (JSON) or
 * {"error","message"}. *ret_dispatch: something new to send to an agent. */
void	responses_request(struct db *s, const struct plan *plan, const char *req, size_t len,
		int64_t now, struct buf *resp, int *ret_status, bool *ret_dispatch);
/* Playbook actions for an incident just opened or grown by an alert from
 * src_addr (may be NULL): automatic ones are recorded pending (sent once
 * committed), the others wait for the approvers. Inside the caller's
 * transaction. Sets *ret_dispatch when something was recorded. */
struct responses_waiting {
	int64_t		 id;		/* the last request recorded waiting; 0: none */
	char		 action[16];
	int		 roles[8];	/* plan role indexes that may approve it */
	size_t		 nroles;
};
int	responses_auto(struct db *s, const struct plan *plan, int64_t incident, int64_t agent,
		int category, int subcategory, int grade, const char *src_addr, int64_t now,
		bool *ret_dispatch, struct responses_waiting *ret_waiting);
/* Applied actions past their expiry become expired. Own transaction. */
void	responses_tick(struct db *s, int64_t now);

/* Read side: one row as JSON (the list view), and the requests still to
 * reach agent (0: every agent), as {"id":N,"agent":N,"request":{...}} lines. */
int	responses_list_json(struct db *s, int64_t agent, int64_t after_id, unsigned limit,
		struct buf *out);
int	responses_open_json(struct db *s, int64_t agent, struct buf *out);

/* The source address of an alert (its group or matched fields: src_ip,
 * c-ip, IpAddress), checked; false when there is none. */
bool	alert_source_addr(const char *group, const char *matched, char *out, size_t size);
/* Parse and check a block target: "a.b.c.d[/n]" or IPv6[/n]; refuses
 * 0.0.0.0/0, ::/0, prefixes shorter than /8 (v4) or /16 (v6), and any range
 * covering protect (may be NULL/empty). 0 or -EINVAL with why. */
int	response_check_cidr(const char *cidr, const char *protect, const char **ret_why);
/* The canonical form of a checked target: host bits cleared, a full-length
 * prefix dropped ("203.0.113.77/24" -> "203.0.113.0/24", "1.2.3.4/32" ->
 * "1.2.3.4"), so one address is one target for duplicates and escalation. */
int	response_canonical_cidr(const char *cidr, char *out, size_t size);

#endif
