/*
 * response_db.h - the centre's ledger of first-response actions (table
 * responses, schema v4): what was asked, by whom, for which agent, and what
 * the agent answered. Rules in src/server/responses.c.
 */
#ifndef YINGJI_SERVER_RESPONSE_DB_H
#define YINGJI_SERVER_RESPONSE_DB_H

#include <stdbool.h>
#include <stdint.h>

#include "server/store/db.h"

struct db_response {
	int64_t		 id, agent, incident, created_ns, updated_ns, expires_ns;
	const char	*action, *target, *request, *state, *approval, *requested_by,
			*approved_by, *result;	/* approval, approved_by, result may be NULL */
	bool		 undo;
};

int	db_response_add(struct db *s, const struct db_response *r, int64_t *ret_id);
/* The row into cb (strings valid during the callback); -ENOENT. */
typedef int (*db_response_cb)(const struct db_response *r, void *data);
int	db_response_get(struct db *s, int64_t id, db_response_cb cb, void *data);
/* agent > 0: that agent's; open_only: pending, or applied with an undo asked
 * (what still has to reach the agent); after_id: cursor. */
int	db_responses_list(struct db *s, int64_t agent, bool open_only, int64_t after_id,
		unsigned limit, db_response_cb cb, void *data);
int	db_response_set_state(struct db *s, int64_t id, const char *state, bool undo,
		int64_t now_ns, const char *result);
int	db_response_approve(struct db *s, int64_t id, const char *by, int64_t now_ns);
/* Applied rows whose expiry has passed become expired; *ret_n gets how many. */
int	db_responses_expire(struct db *s, int64_t now_ns, int *ret_n);
/* How many pending or applied requests of action on target for agent. */
int	db_responses_open_count(struct db *s, int64_t agent, const char *action,
		const char *target, int64_t *ret);
/* How many blocks of target on agent were made before (for escalating durations). */
int	db_responses_count_target(struct db *s, int64_t agent, const char *action,
		const char *target, int64_t *ret);

#endif
