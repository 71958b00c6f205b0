/*
 * plan.h - the emergency plan (应急预案) as a file: plan.yaml, parsed and
 * checked into struct plan. Everything the centre does with incidents reads
 * its rules from here: who may do which step, both deadline clocks, the
 * escalation chain, notification channels, grading thresholds, playbooks.
 *
 * The file format is documented in docs/plan.md; plans/county.yaml and
 * plans/city.yaml are complete examples modelled on the two seed plans.
 *
 * plan_load() never stops at the first problem: it collects every error,
 * each with the line it is on, so `yingji plan check` can explain them all.
 * A plan with any error is not returned.
 *
 * Bounds: file at most PLAN_MAX_FILE bytes; at most PLAN_MAX_ITEMS roles,
 * members, channels, playbooks, tasks per playbook, actions per playbook;
 * every string at most PLAN_MAX_STR bytes of valid UTF-8.
 */
#ifndef YINGJI_PLAN_PLAN_H
#define YINGJI_PLAN_PLAN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define PLAN_MAX_FILE	(1u << 20)
#define PLAN_MAX_ITEMS	256
#define PLAN_MAX_STR	1024
#define PLAN_MAX_ERRORS	100

/* The steps of an incident a role may be allowed to take (plan roles' "may"
 * list). Names as in the file. */
enum plan_step {
	STEP_REPORT = 0,	/* "report": file the initial, follow-up, supplementary reports */
	STEP_ASSESS,		/* "assess": file the risk assessment */
	STEP_ACTIVATE,		/* "activate": start the plan (启动预案) */
	STEP_COMMAND,		/* "command": 应急指挥 */
	STEP_INFORM,		/* "inform": 信息处理 (publish information) */
	STEP_RECOVER,		/* "recover": 善后处理 */
	STEP_INVESTIGATE,	/* "investigate": file the investigation and assessment report */
	STEP_CLOSE,		/* "close" */
	STEP_GRADE,		/* "grade": change a grade or category */
	STEP_TASK,		/* "task": add, assign, finish tasks */
	STEP_NOTIFY_AUTHORITY,	/* "report_authority": file the report to the authority, the 30-day summary */
	STEP_APPROVE,		/* "approve": approve a first-response action */
	STEP_COUNT
};
const char *plan_step_name(enum plan_step s);
int	plan_step_parse(const char *name, enum plan_step *ret);	/* -EINVAL */

/* Incident grades (GB/T 20986-2023 / 国家网络安全事件应急预案), most severe
 * first; GRADE_NONE = not graded (below every threshold). */
enum plan_grade {
	GRADE_I = 1,		/* 特别重大, 红, Ⅰ级响应 */
	GRADE_II,		/* 重大, 橙, Ⅱ级 */
	GRADE_III,		/* 较大, 黄, Ⅲ级 */
	GRADE_IV,		/* 一般, 蓝, Ⅳ级 */
	GRADE_NONE = 0,
};
/* "特别重大" / "I" / "1" ... into a grade; -EINVAL. */
int	plan_grade_parse(const char *s, enum plan_grade *ret);
const char *plan_grade_name(enum plan_grade g);		/* "特别重大"..."一般" */
const char *plan_grade_key(enum plan_grade g);		/* "I".."IV" (stable, for JSON) */
const char *plan_grade_colour(enum plan_grade g);	/* "红","橙","黄","蓝" */
const char *plan_grade_colour_key(enum plan_grade g);	/* "red","orange","yellow","blue" */
const char *plan_grade_response(enum plan_grade g);	/* "Ⅰ级".."Ⅳ级" */

/* The kind of operator, for the statutory clock (网络安全事件报告管理办法). */
enum plan_operator {
	OPERATOR_CII = 1,	/* "cii": 关键信息基础设施运营者, default 1 h */
	OPERATOR_PARTY_GOV,	/* "party_government": 党政机关..., default 2 h */
	OPERATOR_OTHER,		/* "other": 其他网络运营者, default 4 h */
};

struct plan_contact {
	char	*email, *phone, *wecom, *dingtalk, *feishu;	/* each may be NULL */
};

struct plan_role {
	char		*id;		/* [a-z0-9_]+, unique */
	char		*name;		/* e.g. 领导小组组长 */
	char		*group;		/* "leadership" | "office" | "working" | NULL */
	bool		 may[STEP_COUNT];
	int		 escalates_to;	/* index into roles, -1: top of the chain */
	unsigned	 line;
};

struct plan_member {
	char		*id;		/* unique */
	char		*name;		/* a title, e.g. 局长 (examples carry no real names) */
	int		*roles;		/* indexes into plan.roles */
	size_t		 nroles;
	struct plan_contact contact;
	unsigned	 line;
};

enum plan_channel_kind {
	CHANNEL_WEBHOOK = 1,	/* generic: JSON POST */
	CHANNEL_WECOM,		/* 企业微信 group robot */
	CHANNEL_DINGTALK,	/* 钉钉 group robot (signing secret optional) */
	CHANNEL_FEISHU,		/* 飞书 group robot (signing secret optional) */
	CHANNEL_EMAIL,		/* SMTP (smtp:// or smtps://) */
};
const char *plan_channel_kind_name(enum plan_channel_kind k);

struct plan_channel {
	char		*id;
	enum plan_channel_kind kind;
	char		*url;		/* webhook URL, or smtp[s]://host[:port] */
	char		*secret;	/* dingtalk/feishu signing secret; NULL: none */
	char		*from;		/* email: sender address */
	char		*username, *password;	/* email: SMTP AUTH; NULL: none */
	int64_t		 timeout_ns;	/* per attempt (default 10 s) */
	unsigned	 retries;	/* attempts after the first (default 5) */
	unsigned	 line;
};

/* A grading threshold: the value at or above which an incident is at least
 * that grade. Unset grades are 0 (never reached). */
struct plan_threshold {
	int64_t		 at[5];		/* indexed by enum plan_grade (1..4) */
	bool		 set;
};

enum plan_measure {
	MEASURE_PORTAL_DOWN = 0,	/* "portal_down": seconds a portal was unavailable */
	MEASURE_TAMPER_VISIBLE,		/* "tamper_visible": seconds tampered content was online */
	MEASURE_RECORDS_LEAKED,		/* "records_leaked": personal/data records */
	MEASURE_DIRECT_LOSS,		/* "direct_loss": yuan */
	MEASURE_HOSTS_AFFECTED,		/* "hosts_affected": hosts in the incident */
	MEASURE_COUNT
};
const char *plan_measure_name(enum plan_measure m);

struct plan_action_rule {
	char		*action;	/* "block", "isolate", "offline", "quarantine", "kill", "lock_account" */
	bool		 automatic;	/* runs without approval ... */
	enum plan_grade	 auto_up_to;	/* ... for grades this severe or milder (GRADE_I = any) */
	int		*approvers;	/* roles whose approval it needs otherwise */
	size_t		 napprovers;
	unsigned	 line;
};

struct plan_task {
	char		*title;
	int		 role;		/* index into roles */
	int64_t		 due_ns;	/* after detection */
	unsigned	 line;
};

struct plan_playbook {
	int		 category;	/* index into gbt20986 categories (incident/category.h) */
	int		 subcategory;	/* -1: the whole category */
	struct plan_task *tasks;
	size_t		 ntasks;
	struct plan_action_rule *actions;
	size_t		 nactions;
	unsigned	 line;
};

struct plan {
	char		*name;		/* the organisation, e.g. 某县司法局 */
	char		*unit;		/* the reporting unit (for the authority report) */
	char		*system;	/* the systems covered (门户网站 ...) */
	char		*authority;	/* who receives the report to the authority */
	enum plan_operator operator_type;

	struct plan_role   *roles;	size_t nroles;
	/* The member on duty (值班员, key "duty"): who a request without a named
	 * member acts as (the server's operator with the admin token). -1: none,
	 * every request must name its member. */
	int		 duty_member;
	struct plan_member *members;	size_t nmembers;
	struct plan_channel *channels;	size_t nchannels;
	struct plan_playbook *playbooks; size_t nplaybooks;

	/* clocks, all from detection */
	int64_t		 initial_report_ns;	/* internal: default 30 min */
	int64_t		 risk_assessment_ns;	/* internal: default 1 h */
	int64_t		 authority_report_ns;	/* statutory: default by operator_type */
	enum plan_grade	 authority_from_grade;	/* statutory clock runs for grades this severe or more (default 较大) */
	int64_t		 summary_ns;		/* statutory: default 30 d */

	/* escalation: when a deadline passes, notify escalation_start's members;
	 * each escalation_step later, the next role up (roles' escalates_to). */
	int		 escalation_start;	/* role index */
	int64_t		 escalation_step_ns;	/* default 15 min */
	int		*escalation_channels;	/* channel indexes used for deadline notices */
	size_t		 nescalation_channels;

	/* grouping: same host and category within this window = one incident */
	int64_t		 grouping_window_ns;	/* default 30 min */

	struct plan_threshold thresholds[MEASURE_COUNT];

	/* accountability */
	int64_t		 portal_down_limit_ns;	/* default 6 h */

	/* audit */
	int		 audit_anchor_channel;	/* -1: none */
	int		 audit_anchor_minute;	/* minute of the day (Asia/Shanghai); default 06:00 */
	unsigned	 retention_days;	/* >= 180, default 180 */

	char		*source_path;
	uint8_t		 sha256[32];		/* of the file's bytes (recorded in the audit trail) */
};

struct plan_error {
	unsigned	 line;		/* 0: the file as a whole */
	char		 msg[256];	/* Chinese by default (core/i18n.h) */
};

struct plan_errors {
	struct plan_error items[PLAN_MAX_ERRORS];
	size_t		 n;
	bool		 truncated;	/* more errors than PLAN_MAX_ERRORS */
};

/* Parse text[0..len) (path is for messages and source_path only). On success
 * *ret gets the plan and 0 is returned; otherwise -EINVAL with every problem
 * in *errs (which may also be filled with nothing but one I/O error). */
int	plan_parse(const char *text, size_t len, const char *path, struct plan **ret,
		struct plan_errors *errs);
/* Read the file at path (at most PLAN_MAX_FILE) and plan_parse() it. -errno
 * on I/O problems (with the reason in errs). */
int	plan_load(const char *path, struct plan **ret, struct plan_errors *errs);
void	plan_free(struct plan *p);	/* accepts NULL */

/* Lookups. -1 / NULL when absent. */
int	plan_role_find(const struct plan *p, const char *id);
int	plan_member_find(const struct plan *p, const char *id);
int	plan_channel_find(const struct plan *p, const char *id);
/* Whether member (index) holds a role that may take step. */
bool	plan_member_may(const struct plan *p, int member, enum plan_step step);
/* The playbook for a category/subcategory: the subcategory's own if there is
 * one, else the category's; NULL when none. */
const struct plan_playbook *plan_playbook_for(const struct plan *p, int category, int subcategory);
/* The grade the thresholds give for the measured values (values[m] < 0:
 * not known). GRADE_NONE when no threshold is reached. */
enum plan_grade plan_grade_for(const struct plan *p, const int64_t values[MEASURE_COUNT]);

#endif
