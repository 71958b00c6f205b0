/*
 * responses.c - first-response actions at the centre (responses.h).
 *
 * Choices worth knowing:
 * - The centre checks what it can (the target's form, 0.0.0.0/0, the
 *   centre's own address as the agent reaches it) and records the request
 *   before anything is sent; the agent's responder checks again against its
 *   own allow list. Nothing is "applied" until the agent says so.
 * - A block without --for lasts RESPONSE_DEFAULT_FOR_NS; each earlier block
 *   of the same address on the same agent doubles it (repeat offenders), up
 *   to RESPONSE_MAX_FOR_NS.
 * - A request without a named member is the admin token holder's (root on
 *   the centre): recorded as "admin". A named member needs a role that may
 *   approve (the plan's step for first-response actions).
 */
#include "server/responses.h"

#include <arpa/inet.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/i18n.h"
#include "core/json.h"
#include "core/json_check.h"
#include "core/json_get.h"
#include "core/timeutil.h"
#include "core/utf8.h"
#include "server/store/audit.h"
#include "server/store/response_db.h"
#include "core/banned.h"

#define NS		1000000000ll
#define TARGET_MAX	1024
#define RESULT_KEEP_MAX	(16u * 1024)	/* of an agent's answer, stored and audited */

static const char *const actions[] = {
	"block", "isolate", "offline", "quarantine", "kill", "lock_account",
};

static bool
action_known(const char *a)
{
	for (size_t i = 0; i < sizeof(actions) / sizeof(actions[0]); i++)
		if (strcmp(a, actions[i]) == 0)
			return true;
	return false;
}

/* ---- addresses ---- */

struct cidr {
	int		 family;
	unsigned char	 addr[16];
	unsigned	 prefix;
};

static int
cidr_parse(const char *s, struct cidr *ret)
{
	char host[64];
	const char *slash = strchr(s, '/');
	size_t hl = slash != NULL ? (size_t)(slash - s) : strlen(s);
	unsigned long prefix;
	char *end;

	if (hl == 0 || hl >= sizeof(host))
		return -EINVAL;
	memcpy(host, s, hl);
	host[hl] = '\0';
	memset(ret, 0, sizeof(*ret));
	if (inet_pton(AF_INET, host, ret->addr) == 1)
		ret->family = AF_INET;
	else if (inet_pton(AF_INET6, host, ret->addr) == 1)
		ret->family = AF_INET6;
	else
		return -EINVAL;
	ret->prefix = ret->family == AF_INET ? 32 : 128;
	if (slash != NULL) {
		if (slash[1] < '0' || slash[1] > '9')
			return -EINVAL;
		prefix = strtoul(slash + 1, &end, 10);
		if (*end != '\0' || prefix > ret->prefix || end - (slash + 1) > 3)
			return -EINVAL;
		ret->prefix = (unsigned)prefix;
	}
	return 0;
}

/* Whether a (a network) contains b's address. */
static bool
cidr_contains(const struct cidr *a, const struct cidr *b)
{
	unsigned full, rest;

	if (a->family != b->family)
		return false;
	full = a->prefix / 8;
	rest = a->prefix % 8;
	if (memcmp(a->addr, b->addr, full) != 0)
		return false;
	if (rest == 0)
		return true;
	return ((a->addr[full] ^ b->addr[full]) & (unsigned char)(0xff << (8 - rest))) == 0;
}

int
response_check_cidr(const char *cidr, const char *protect, const char **ret_why)
{
	struct cidr c, p;

	if (cidr == NULL || cidr_parse(cidr, &c) < 0) {
		*ret_why = L("地址或网段格式错误（如 203.0.113.7 或 203.0.113.0/24）",
			"malformed address or range (e.g. 203.0.113.7 or 203.0.113.0/24)");
		return -EINVAL;
	}
	if (c.prefix == 0 || (c.family == AF_INET && c.prefix < 8) ||
		(c.family == AF_INET6 && c.prefix < 16)) {
		*ret_why = L("网段过大（IPv4 至少 /8，IPv6 至少 /16；0.0.0.0/0 永不允许）",
			"range too wide (at least /8 for IPv4, /16 for IPv6; never 0.0.0.0/0)");
		return -EINVAL;
	}
	if (c.family == AF_INET && c.addr[0] == 127) {
		*ret_why = L("不能封禁回环地址", "loopback cannot be blocked");
		return -EINVAL;
	}
	if (protect != NULL && protect[0] != '\0' && cidr_parse(protect, &p) == 0 &&
		cidr_contains(&c, &p)) {
		*ret_why = L("该地址或网段包含中心服务器的地址（白名单），拒绝封禁",
			"the range covers the centre's own address (allow list): refused");
		return -EPERM;
	}
	*ret_why = NULL;
	return 0;
}

int
response_canonical_cidr(const char *cidr, char *out, size_t size)
{
	struct cidr c;
	char host[64];
	unsigned full;

	if (cidr_parse(cidr, &c) < 0)
		return -EINVAL;
	full = c.family == AF_INET ? 32 : 128;
	for (unsigned i = 0; i < full / 8; i++) {
		unsigned bits = c.prefix > i * 8 ? (c.prefix - i * 8 >= 8 ? 8 : c.prefix - i * 8) : 0;

		c.addr[i] &= (unsigned char)(bits == 0 ? 0 : 0xff << (8 - bits));
	}
	if (inet_ntop(c.family, c.addr, host, sizeof(host)) == NULL)
		return -EINVAL;
	if (c.prefix == full)
		snprintf(out, size, "%s", host);
	else
		snprintf(out, size, "%s/%u", host, c.prefix);
	return 0;
}

/* "a.b.c.d" or an IPv6 address, checked, into out. */
static bool
take_addr(const char *p, size_t n, char *out, size_t size)
{
	char tmp[64];
	unsigned char bin[16];

	if (n == 0 || n >= sizeof(tmp) || n >= size)
		return false;
	memcpy(tmp, p, n);
	tmp[n] = '\0';
	if (inet_pton(AF_INET, tmp, bin) != 1 && inet_pton(AF_INET6, tmp, bin) != 1)
		return false;
	memcpy(out, tmp, n + 1);
	return true;
}

static bool
addr_after(const char *text, const char *key, char *out, size_t size)
{
	const char *p = text;
	size_t kl = strlen(key);

	while (text != NULL && (p = strstr(p, key)) != NULL) {
		if (p == text || p[-1] == '\n' || p[-1] == ' ' || p[-1] == ',') {
			const char *v = p + kl, *e = v;

			while (*e != '\0' && *e != '\n' && *e != ',' && *e != ' ')
				e++;
			if (take_addr(v, (size_t)(e - v), out, size))
				return true;
		}
		p += kl;
	}
	return false;
}

bool
alert_source_addr(const char *group, const char *matched, char *out, size_t size)
{
	static const char *const keys[] = { "src_ip=", "c-ip=", "IpAddress=", "SourceIp=" };

	for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++)
		if (addr_after(group, keys[i], out, size) || addr_after(matched, keys[i], out, size))
			return true;
	/* A suppressed rule's group is the bare address. */
	return group != NULL && take_addr(group, strlen(group), out, size);
}

/* ---- rows as JSON ---- */

static void
key_time(struct json *j, const char *key, int64_t ns)
{
	char t[48];

	if (ns <= 0) {
		json_key_null(j, key);
		return;
	}
	time_format_local(ns, t, sizeof(t));
	json_key_str(j, key, t);
}

static void
row_json(struct json *j, const struct db_response *rp)
{
	json_key_i64(j, "id", rp->id);
	json_key_str(j, "action", rp->action);
	json_key_i64(j, "agent", rp->agent);
	json_key_str(j, "state", rp->state);
	json_key_str(j, "target", rp->target);
	json_key_bool(j, "undo_requested", rp->undo);
	if (rp->approval != NULL)
		json_key_str(j, "awaiting_approval", rp->approval);
	json_key_str(j, "requested_by", rp->requested_by);
	if (rp->approved_by != NULL)
		json_key_str(j, "approved_by", rp->approved_by);
	if (rp->incident > 0)
		json_key_i64(j, "incident", rp->incident);
	key_time(j, "created_at", rp->created_ns);
	key_time(j, "updated_at", rp->updated_ns);
	key_time(j, "expires_at", rp->expires_ns);
	if (rp->result != NULL) {
		if (json_check_object(rp->result, strlen(rp->result), 8, NULL) == 0)
			json_key_json(j, "result", rp->result, strlen(rp->result));
		else
			json_key_str(j, "note", rp->result);
	}
}

static int
one_row(const struct db_response *rp, void *data)
{
	struct json j;
	struct buf *out = data;

	json_begin(&j, out);
	row_json(&j, rp);
	if (json_end(&j) < 0 || buf_putc(out, '\n') < 0)
		return -E2BIG;
	return 0;
}

int
responses_list_json(struct db *s, int64_t agent, int64_t after_id, unsigned limit, struct buf *out)
{
	return db_responses_list(s, agent, false, after_id, limit, one_row, out);
}

static int
open_row(const struct db_response *rp, void *data)
{
	struct buf *out = data;
	struct buf req;
	int r = 0;

	/* an undo asked: the request becomes an undo */
	buf_init(&req, 8192);
	static const char apply[] = "{\"command\":\"respond\",\"op\":\"apply\"";

	if (rp->undo && strncmp(rp->request, apply, sizeof(apply) - 1) == 0) {
		(void)buf_puts(&req, "{\"command\":\"respond\",\"op\":\"undo\"");
		(void)buf_puts(&req, rp->request + sizeof(apply) - 1);
	} else {
		(void)buf_puts(&req, rp->request);
	}
	if (buf_appendf(out, "{\"id\":%" PRId64 ",\"agent\":%" PRId64 ",\"request\":%s}\n",
		rp->id, rp->agent, req.data) < 0)
		r = -E2BIG;
	buf_release(&req);
	return r;
}

int
responses_open_json(struct db *s, int64_t agent, struct buf *out)
{
	return db_responses_list(s, agent, true, 0, 10000, open_row, out);
}

/* ---- requests ---- */

static void
answer_error(struct buf *resp, int *ret_status, int status, const char *code, const char *msg)
{
	struct json j;

	buf_reset(resp);
	json_begin(&j, resp);
	json_key_str(&j, "error", code);
	json_key_str(&j, "message", msg);
	(void)json_end(&j);
	*ret_status = status;
}

static int
answer_row(const struct db_response *rp, void *data)
{
	struct buf *resp = data;
	struct json j;

	buf_reset(resp);
	json_begin(&j, resp);
	row_json(&j, rp);
	return json_end(&j);
}

static bool
text_ok(const struct buf *b, size_t max)
{
	return b->len <= max && utf8_valid(b->data, b->len) && memchr(b->data, '\0', b->len) == NULL;
}

/* The target of an action, checked; into target. */
static int
check_target(const char *action, const char *req, size_t len, const char *protect,
	struct buf *target, const char **why)
{
	int64_t pid = 0;

	buf_reset(target);
	if (strcmp(action, "block") == 0) {
		char canon[64];
		int r;

		if (json_get_str(req, len, "addr", target) < 0 || target->len == 0) {
			*why = L("封禁需要 --addr 地址或网段", "block needs --addr ADDRESS or RANGE");
			return -EINVAL;
		}
		r = response_check_cidr(target->data, protect, why);
		if (r == 0 && response_canonical_cidr(target->data, canon, sizeof(canon)) == 0) {
			buf_reset(target);
			(void)buf_puts(target, canon);
		}
		return r;
	}
	if (strcmp(action, "isolate") == 0)
		return 0;
	if (strcmp(action, "kill") == 0) {
		if (json_get_i64(req, len, "pid", &pid) < 0 || pid <= 1 || pid > 4194304) {
			*why = L("结束进程需要有效的 --pid（不能是 1）", "kill needs a valid --pid (not 1)");
			return -EINVAL;
		}
		(void)buf_appendf(target, "%" PRId64, pid);
		return 0;
	}
	if (json_get_str(req, len, strcmp(action, "offline") == 0 ? "unit" :
		strcmp(action, "quarantine") == 0 ? "path" : "user", target) < 0 ||
		target->len == 0 || !text_ok(target, 512) || memchr(target->data, '\n', target->len)) {
		*why = L("缺少或无效的目标（offline: --unit；quarantine: --path；lock-account: --user）",
			"missing or invalid target (offline: --unit; quarantine: --path; lock-account: --user)");
		return -EINVAL;
	}
	if (strcmp(action, "quarantine") == 0 && target->data[0] != '/') {
		*why = L("--path 须为绝对路径", "--path must be absolute");
		return -EINVAL;
	}
	return 0;
}

/* The command the agent's responder runs (src/agent/respond). */
static void
agent_request(struct buf *out, int64_t id, const char *action, const char *target,
	int64_t expires_ns)
{
	struct json j;

	buf_reset(out);
	json_begin(&j, out);
	json_key_str(&j, "command", "respond");
	json_key_str(&j, "op", "apply");
	json_key_i64(&j, "id", id);
	json_key_str(&j, "action", action);
	if (strcmp(action, "block") == 0)
		json_key_str(&j, "addr", target);
	else if (strcmp(action, "kill") == 0)
		json_key_i64(&j, "pid", strtoll(target, NULL, 10));
	else if (strcmp(action, "offline") == 0)
		json_key_str(&j, "unit", target);
	else if (strcmp(action, "quarantine") == 0)
		json_key_str(&j, "path", target);
	else if (strcmp(action, "lock_account") == 0)
		json_key_str(&j, "user", target);
	if (expires_ns > 0)
		json_key_i64(&j, "expires_ns", expires_ns);
	(void)json_end(&j);
}

static int
record(struct db *s, int64_t now, int64_t agent, int64_t incident, const char *action,
	const char *target, int64_t expires_ns, const char *by, const char *approval,
	const char *note, int64_t *ret_id)
{
	struct db_response rp = {
		.agent = agent, .incident = incident, .action = action, .target = target,
		.request = "{}", .state = "pending", .approval = approval, .requested_by = by,
		.created_ns = now, .updated_ns = now, .expires_ns = expires_ns,
		.result = approval != NULL ? L("等待批准", "waiting for approval") : note,
	};
	struct buf req, detail;
	struct json j;
	char object[64];
	int64_t id = 0;
	int r;

	r = db_response_add(s, &rp, &id);
	if (r < 0)
		return r;
	buf_init(&req, 8192);
	agent_request(&req, id, action, target, expires_ns);
	r = db_exec(s, "UPDATE responses SET request = ?2 WHERE id = ?1", "it", id, req.data);
	buf_release(&req);
	if (r < 0)
		return r;
	buf_init(&detail, 4096);
	json_begin(&j, &detail);
	json_key_str(&j, "action", action);
	json_key_i64(&j, "agent", agent);
	json_key_str(&j, "target", target);
	json_key_i64(&j, "expires_ns", expires_ns);
	if (approval != NULL)
		json_key_str(&j, "awaiting_approval", approval);
	r = json_end(&j);
	snprintf(object, sizeof(object), "response/%" PRId64, id);
	if (r == 0)
		r = audit_append(s, now, by, "response.request", object, detail.data, NULL);
	buf_release(&detail);
	if (r == 0)
		*ret_id = id;
	return r;
}

static int64_t
escalated_for(struct db *s, int64_t agent, const char *action, const char *target, int64_t base)
{
	int64_t n = 0, d = base;

	if (db_responses_count_target(s, agent, action, target, &n) < 0)
		return base;
	for (int64_t i = 0; i < n && d < RESPONSE_MAX_FOR_NS; i++)
		d *= 2;
	return d < RESPONSE_MAX_FOR_NS ? d : RESPONSE_MAX_FOR_NS;
}

struct row_state {
	char	 state[16];
	char	 approval[256];
	char	 action[32];
	bool	 undo, has_approval;
	int64_t	 agent;
};

static int
keep_state(const struct db_response *rp, void *data)
{
	struct row_state *rs = data;

	snprintf(rs->state, sizeof(rs->state), "%s", rp->state);
	snprintf(rs->action, sizeof(rs->action), "%s", rp->action);
	rs->has_approval = rp->approval != NULL;
	snprintf(rs->approval, sizeof(rs->approval), "%s", rp->approval ? rp->approval : "");
	rs->undo = rp->undo;
	rs->agent = rp->agent;
	return 0;
}

/* Whether member (plan) may approve a response waiting for roles (ids,
 * comma-separated). */
static bool
may_approve(const struct plan *plan, int member, const char *roles)
{
	if (plan == NULL || member < 0)
		return false;
	for (size_t i = 0; i < plan->members[member].nroles; i++) {
		const char *id = plan->roles[plan->members[member].roles[i]].id;
		const char *p = roles;
		size_t l = strlen(id);

		while ((p = strstr(p, id)) != NULL) {
			if ((p == roles || p[-1] == ',') && (p[l] == '\0' || p[l] == ','))
				return true;
			p += l;
		}
	}
	return false;
}

void
responses_request(struct db *s, const struct plan *plan, const char *req, size_t len, int64_t now,
	struct buf *resp, int *ret_status, bool *ret_dispatch)
{
	struct buf op, action, actor, forv, protect, target;
	struct row_state rs = { 0 };
	const char *why = NULL;
	char object[64];
	int64_t id = 0, agent = 0, incident = 0, dur = 0, expires = 0;
	const char *v;
	size_t vl;
	int member = -1, r;
	bool began = false, online;

	*ret_status = 0;
	*ret_dispatch = false;
	buf_init(&op, 32);
	buf_init(&action, 32);
	buf_init(&actor, 256);
	buf_init(&forv, 32);
	buf_init(&protect, 64);
	buf_init(&target, TARGET_MAX);
	if (json_check_object(req, len, 8, NULL) < 0 || json_get_str(req, len, "op", &op) < 0) {
		answer_error(resp, ret_status, 400, "bad_request", "op: create | undo | approve");
		goto out;
	}
	(void)json_get_str(req, len, "actor", &actor);
	if (actor.len > 0) {
		member = plan != NULL ? plan_member_find(plan, actor.data) : -1;
		if (member < 0) {
			answer_error(resp, ret_status, 403, "unknown_member", L("预案中没有这个成员",
				"no such member in the plan"));
			goto out;
		}
	}
	r = db_begin(s);
	if (r < 0)
		goto store;
	began = true;
	if (strcmp(op.data, "create") == 0) {
		if (member >= 0 && !plan_member_may(plan, member, STEP_APPROVE)) {
			answer_error(resp, ret_status, 403, "forbidden", L("该成员的角色无权下达处置动作",
				"this member's roles may not order first-response actions"));
			goto out;
		}
		if (json_get_str(req, len, "action", &action) < 0 || !action_known(action.data)) {
			answer_error(resp, ret_status, 400, "bad_request",
				"action: block | isolate | offline | quarantine | kill | lock_account");
			goto out;
		}
		if (json_get_i64(req, len, "agent", &agent) < 0 || agent <= 0) {
			answer_error(resp, ret_status, 400, "bad_request", L("需要 --agent", "needs --agent"));
			goto out;
		}
		(void)json_get_i64(req, len, "incident", &incident);
		(void)json_get_str(req, len, "server_addr", &protect);
		r = check_target(action.data, req, len, protect.data, &target, &why);
		if (r < 0) {
			answer_error(resp, ret_status, r == -EPERM ? 403 : 400,
				r == -EPERM ? "allow_list" : "bad_target", why);
			goto out;
		}
		if (json_get_str(req, len, "for", &forv) == 0 && forv.len > 0 &&
			strcmp(action.data, "block") != 0 && strcmp(action.data, "isolate") != 0) {
			answer_error(resp, ret_status, 400, "bad_duration",
				L("--for 只用于封禁和隔离（其他动作需手动撤销）",
				"--for is for block and isolate only (undo the others by hand)"));
			goto out;
		}
		if (json_get_str(req, len, "for", &forv) == 0 && forv.len > 0) {
			if (duration_parse(forv.data, &dur) < 0 || dur < NS || dur > RESPONSE_MAX_FOR_NS) {
				answer_error(resp, ret_status, 400, "bad_duration",
					L("时长超出范围（1s 到 30d）", "duration out of range (1s to 30d)"));
				goto out;
			}
		} else if (strcmp(action.data, "block") == 0) {
			dur = escalated_for(s, agent, action.data, target.data, RESPONSE_DEFAULT_FOR_NS);
		}
		expires = dur > 0 ? now + dur : 0;
		online = json_get_raw(req, len, "agent_online", &v, &vl) == 0 && vl == 4 &&
			memcmp(v, "true", 4) == 0;
		r = record(s, now, agent, incident, action.data, target.data, expires,
			actor.len > 0 ? actor.data : "admin", NULL, online ? NULL :
			L("代理当前离线：请求已记录，代理一上线即下发", "the agent is offline: the "
			"request is recorded and goes out as soon as the agent connects"), &id);
		*ret_dispatch = r == 0;
	} else if (strcmp(op.data, "undo") == 0 || strcmp(op.data, "approve") == 0 ||
		strcmp(op.data, "result") == 0) {
		if (json_get_i64(req, len, "id", &id) < 0) {
			answer_error(resp, ret_status, 400, "bad_request", "id");
			goto out;
		}
		r = db_response_get(s, id, keep_state, &rs);
		if (r == -ENOENT) {
			answer_error(resp, ret_status, 404, "not_found", L("没有这个处置记录",
				"no such response"));
			goto out;
		}
		if (r < 0)
			goto store;
		snprintf(object, sizeof(object), "response/%" PRId64, id);
		if (op.data[0] == 'u') {
			if (member >= 0 && !plan_member_may(plan, member, STEP_APPROVE)) {
				answer_error(resp, ret_status, 403, "forbidden",
					L("该成员的角色无权撤销处置动作", "this member's roles may not undo actions"));
				goto out;
			}
			if (strcmp(rs.action, "kill") == 0 && !rs.has_approval) {
				answer_error(resp, ret_status, 409, "cannot_undo",
					L("结束进程无法撤销", "a kill cannot be undone"));
				goto out;
			}
			if (strcmp(rs.state, "pending") == 0 && rs.has_approval)
				r = db_response_set_state(s, id, "undone", false, now,
					L("批准前即撤销", "undone before it was approved"));
			else if (strcmp(rs.state, "pending") == 0)
				/* the apply may already be on its way: the undo follows it */
				r = db_response_set_state(s, id, "pending", true, now, NULL);
			else if (strcmp(rs.state, "applied") == 0 && strcmp(rs.action, "kill") != 0)
				r = db_response_set_state(s, id, "applied", true, now, NULL);
			else {
				answer_error(resp, ret_status, 409, "cannot_undo", strcmp(rs.action, "kill") == 0 ?
					L("结束进程无法撤销", "a kill cannot be undone") :
					L("只有待执行或已生效的动作可以撤销", "only pending or applied actions can be undone"));
				goto out;
			}
			if (r == 0)
				r = audit_append(s, now, actor.len ? actor.data : "admin", "response.undo",
					object, "{}", NULL);
			*ret_dispatch = r == 0 && !rs.has_approval;
		} else if (op.data[0] == 'a') {
			if (!rs.has_approval) {
				answer_error(resp, ret_status, 409, "not_waiting", L("该动作不在等待批准",
					"this action is not waiting for approval"));
				goto out;
			}
			if (!may_approve(plan, member, rs.approval)) {
				answer_error(resp, ret_status, 403, "forbidden", L("须由预案指定的批准人批准（--as 成员）",
					"needs one of the approvers the plan names (--as MEMBER)"));
				goto out;
			}
			r = db_response_approve(s, id, actor.data, now);
			if (r == 0)
				r = audit_append(s, now, actor.data, "response.approve", object, "{}", NULL);
			*ret_dispatch = r == 0;
		} else {
			const char *ans, *okv;
			size_t anslen, okl;
			struct buf st, copy;
			const char *state;
			bool ok, keep_undo;

			int64_t from = 0;

			if (json_get_raw(req, len, "answer", &ans, &anslen) < 0 ||
				json_check_object(ans, anslen, 8, NULL) < 0) {
				answer_error(resp, ret_status, 400, "bad_request", "answer");
				goto out;
			}
			/* only the agent the request was for may answer it */
			if (json_get_i64(req, len, "agent", &from) < 0 || from != rs.agent) {
				answer_error(resp, ret_status, 403, "wrong_agent",
					L("该处置请求不是发给这个代理的", "this request was not for that agent"));
				goto out;
			}
			buf_init(&st, 32);
			buf_init(&copy, RESULT_KEEP_MAX + 256);
			(void)json_get_str(ans, anslen, "state", &st);
			if (anslen <= RESULT_KEEP_MAX) {
				(void)buf_append(&copy, ans, anslen);
			} else {
				/* too big to keep whole (a kill of a huge tree): the gist */
				struct json cj;

				json_begin(&cj, &copy);
				json_key_str(&cj, "state", st.data);
				json_key_bool(&cj, "truncated", true);
				json_key_i64(&cj, "bytes", (int64_t)anslen);
				(void)json_end(&cj);
			}
			ok = json_get_raw(ans, anslen, "ok", &okv, &okl) == 0 && okl == 4 &&
				memcmp(okv, "true", 4) == 0;
			/* A failed undo leaves the action in place (and says why);
			 * an apply confirmed while an undo waits keeps the undo. */
			state = !ok ? (rs.undo && strcmp(rs.state, "applied") == 0 ? "applied" :
				"failed") :
				strcmp(st.data, "undone") == 0 ? "undone" :
				strcmp(st.data, "expired") == 0 ? "expired" : "applied";
			keep_undo = rs.undo && strcmp(state, "applied") == 0 &&
				strcmp(st.data, "undone") != 0 && ok && strcmp(rs.state, "pending") == 0;
			r = db_response_set_state(s, id, state, keep_undo, now, copy.data);
			*ret_dispatch = r == 0 && keep_undo;
			if (r == 0)
				r = audit_append(s, now, "agent", "response.result", object, copy.data,
					NULL);
			buf_release(&st);
			buf_release(&copy);
		}
	} else {
		answer_error(resp, ret_status, 400, "bad_request", "op: create | undo | approve");
		goto out;
	}
	if (r < 0)
		goto store;
	r = db_commit(s);
	began = false;
	if (r < 0)
		goto store;
	r = db_response_get(s, id, answer_row, resp);
	if (r < 0)
		goto store;
	*ret_status = 200;
	goto out;
store:
	answer_error(resp, ret_status, 503, "store", strerror(-r));
	*ret_dispatch = false;
out:
	if (began) {
		db_rollback(s);
		*ret_dispatch = false;
	}
	buf_release(&op);
	buf_release(&action);
	buf_release(&actor);
	buf_release(&forv);
	buf_release(&protect);
	buf_release(&target);
}

int
responses_auto(struct db *s, const struct plan *plan, int64_t incident, int64_t agent,
	int category, int subcategory, int grade, const char *src_addr, int64_t now,
	bool *ret_dispatch, struct responses_waiting *ret_waiting)
{
	const struct plan_playbook *pb;
	int r = 0;

	if (plan == NULL || agent <= 0)
		return 0;
	pb = plan_playbook_for(plan, category, subcategory);
	for (size_t i = 0; pb != NULL && i < pb->nactions && r == 0; i++) {
		const struct plan_action_rule *a = &pb->actions[i];
		bool automatic = a->automatic && grade != 0 && grade >= (int)a->auto_up_to;
		const char *why = NULL, *target = "";
		char approval[512] = "", canon[64];
		int64_t id = 0, expires = 0, n = 0;

		if (strcmp(a->action, "block") == 0) {
			if (src_addr == NULL || response_check_cidr(src_addr, NULL, &why) < 0 ||
				response_canonical_cidr(src_addr, canon, sizeof(canon)) < 0)
				continue;
			target = canon;
			expires = now + escalated_for(s, agent, "block", target, RESPONSE_DEFAULT_FOR_NS);
		} else if (strcmp(a->action, "isolate") != 0) {
			continue;	/* the others need a target a signal does not give */
		}
		/* one open request per action, target and agent: an attack's
		 * every alert must not queue another */
		if (db_responses_open_count(s, agent, a->action, target, &n) < 0 || n > 0)
			continue;
		if (!automatic) {
			size_t off = 0;

			for (size_t k = 0; k < a->napprovers; k++)
				off += (size_t)snprintf(approval + off, sizeof(approval) - off, "%s%s",
					k ? "," : "", plan->roles[a->approvers[k]].id);
			if (approval[0] == '\0')
				continue;
		}
		r = record(s, now, agent, incident, a->action, target, expires, "plan",
			automatic ? NULL : approval, NULL, &id);
		if (r == 0 && automatic)
			*ret_dispatch = true;
		if (r == 0 && !automatic && ret_waiting != NULL) {
			ret_waiting->id = id;
			snprintf(ret_waiting->action, sizeof(ret_waiting->action), "%s", a->action);
			ret_waiting->nroles = 0;
			for (size_t k = 0; k < a->napprovers && k < 8; k++)
				ret_waiting->roles[ret_waiting->nroles++] = a->approvers[k];
		}
	}
	return r;
}

void
responses_tick(struct db *s, int64_t now)
{
	int n = 0;

	if (db_begin(s) < 0)
		return;
	if (db_responses_expire(s, now, &n) < 0 || db_commit(s) < 0)
		db_rollback(s);
}
