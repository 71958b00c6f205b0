/*
 * response_db.c - rows of the responses table (response_db.h), through
 * db.c's plain-SQL layer.
 */
#include "server/store/response_db.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "core/banned.h"

#define RESPONSE_COLUMNS "id, agent, action, target, request, state, undo, approval, " \
	"requested_by, approved_by, incident, created_ns, updated_ns, expires_ns, result"

int
db_response_add(struct db *s, const struct db_response *rp, int64_t *ret_id)
{
	int r;

	r = db_exec(s, "INSERT INTO responses (agent, action, target, request, state, undo, "
		"approval, requested_by, approved_by, incident, created_ns, updated_ns, expires_ns, "
		"result) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14)",
		"itttti" "ttti" "iiit", rp->agent, rp->action, rp->target, rp->request, rp->state,
		(int64_t)rp->undo, rp->approval, rp->requested_by, rp->approved_by, rp->incident,
		rp->created_ns, rp->updated_ns, rp->expires_ns, rp->result);
	if (r < 0)
		return r;
	if (ret_id != NULL)
		*ret_id = db_last_insert_id(s);
	return 0;
}

struct row_ctx {
	db_response_cb	 cb;
	void		*data;
	bool		 found;
};

static int
response_row(const struct db_row *row, void *data)
{
	struct row_ctx *rc = data;
	struct db_response rp = {
		.id = db_row_int(row, 0), .agent = db_row_int(row, 1),
		.action = db_row_text(row, 2), .target = db_row_text(row, 3),
		.request = db_row_text(row, 4), .state = db_row_text(row, 5),
		.undo = db_row_int(row, 6) != 0, .approval = db_row_text(row, 7),
		.requested_by = db_row_text(row, 8), .approved_by = db_row_text(row, 9),
		.incident = db_row_int(row, 10), .created_ns = db_row_int(row, 11),
		.updated_ns = db_row_int(row, 12), .expires_ns = db_row_int(row, 13),
		.result = db_row_text(row, 14),
	};

	rc->found = true;
	return rc->cb(&rp, rc->data);
}

int
db_response_get(struct db *s, int64_t id, db_response_cb cb, void *data)
{
	struct row_ctx rc = { cb, data, false };
	int r;

	r = db_query(s, "SELECT " RESPONSE_COLUMNS " FROM responses WHERE id = ?1", response_row,
		&rc, "i", id);
	if (r < 0)
		return r;
	return rc.found ? 0 : -ENOENT;
}

int
db_responses_list(struct db *s, int64_t agent, bool open_only, int64_t after_id, unsigned limit,
	db_response_cb cb, void *data)
{
	struct row_ctx rc = { cb, data, false };

	if (limit == 0 || limit > 10000)
		return -EINVAL;
	return db_query(s, "SELECT " RESPONSE_COLUMNS " FROM responses WHERE id > ?1 AND "
		"(?2 = 0 OR agent = ?2) AND (?3 = 0 OR (approval IS NULL AND (state = 'pending' OR "
		"(state = 'applied' AND undo = 1)))) ORDER BY id LIMIT ?4", response_row, &rc,
		"iiii", after_id, agent, (int64_t)open_only, (int64_t)limit);
}

int
db_response_set_state(struct db *s, int64_t id, const char *state, bool undo, int64_t now_ns,
	const char *result)
{
	int r = db_exec(s, "UPDATE responses SET state = ?2, undo = ?3, updated_ns = ?4, "
		"result = coalesce(?5, result) WHERE id = ?1", "itiit", id, state, (int64_t)undo,
		now_ns, result);

	return r < 0 ? r : db_changes(s) == 1 ? 0 : -ENOENT;
}

int
db_response_approve(struct db *s, int64_t id, const char *by, int64_t now_ns)
{
	int r = db_exec(s, "UPDATE responses SET approval = NULL, approved_by = ?2, "
		"updated_ns = ?3 WHERE id = ?1 AND approval IS NOT NULL", "iti", id, by, now_ns);

	return r < 0 ? r : db_changes(s) == 1 ? 0 : -EALREADY;
}

int
db_responses_expire(struct db *s, int64_t now_ns, int *ret_n)
{
	int r = db_exec(s, "UPDATE responses SET state = 'expired', updated_ns = ?1 WHERE "
		"state = 'applied' AND expires_ns > 0 AND expires_ns <= ?1", "i", now_ns);

	if (r == 0)
		*ret_n = db_changes(s);
	return r;
}

static int
count_row(const struct db_row *row, void *data)
{
	*(int64_t *)data = db_row_int(row, 0);
	return 1;
}

int
db_responses_count_target(struct db *s, int64_t agent, const char *action, const char *target,
	int64_t *ret)
{
	*ret = 0;
	return db_query(s, "SELECT count(*) FROM responses WHERE agent = ?1 AND action = ?2 AND "
		"target = ?3 AND state IN ('applied', 'expired', 'undone')", count_row, ret, "itt",
		agent, action, target);
}

int
db_responses_open_count(struct db *s, int64_t agent, const char *action, const char *target,
	int64_t *ret)
{
	*ret = 0;
	return db_query(s, "SELECT count(*) FROM responses WHERE agent = ?1 AND action = ?2 AND "
		"target = ?3 AND state IN ('pending', 'applied')", count_row, ret, "itt", agent,
		action, target);
}
