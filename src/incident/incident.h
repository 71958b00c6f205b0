/*
 * incident.h - an incident's life as the plans describe it: the stages
 * 先期处置 → 报告 → 风险评估 → 启动预案 → 应急指挥 → 信息处理 → 善后处理 →
 * 调查评估 → 关闭, which step moves it where, and which plan step (role
 * permission, plan.h) each move needs. Pure logic: the centre
 * (src/server/incidents.c) stores and enforces it.
 */
#ifndef YINGJI_INCIDENT_INCIDENT_H
#define YINGJI_INCIDENT_INCIDENT_H

#include <stdbool.h>

#include "plan/plan.h"

enum incident_state {
	INC_FIRST_RESPONSE = 0,	/* 先期处置: detected, first response under way */
	INC_REPORTED,		/* 已报告: the initial report is filed */
	INC_ASSESSED,		/* 已风险评估 */
	INC_ACTIVATED,		/* 已启动预案 (leadership group) */
	INC_COMMANDING,		/* 应急指挥 */
	INC_INFORMING,		/* 信息处理 */
	INC_RECOVERING,		/* 善后处理 */
	INC_INVESTIGATING,	/* 调查评估: the investigation report is filed */
	INC_CLOSED,
	INC_STATE_COUNT
};
const char *incident_state_key(enum incident_state s);	/* "first_response" ... */
const char *incident_state_name(enum incident_state s);	/* 先期处置 ... (i18n) */
int	incident_state_parse(const char *key, enum incident_state *ret);

/* What a person asks for. */
enum incident_move {
	MOVE_REPORT_INITIAL = 0,	/* first_response → reported */
	MOVE_ASSESS,		/* reported → assessed */
	MOVE_ACTIVATE,		/* assessed → activated */
	MOVE_COMMAND,		/* activated → commanding */
	MOVE_INFORM,		/* commanding → informing */
	MOVE_RECOVER,		/* assessed | activated | commanding | informing → recovering */
	MOVE_INVESTIGATE,	/* recovering → investigating */
	MOVE_CLOSE,		/* any open state → closed (flagged without an investigation report) */
	MOVE_COUNT
};
const char *incident_move_key(enum incident_move m);	/* "report", "assess", "activate", "command", "inform", "recover", "investigate", "close" */
int	incident_move_parse(const char *key, enum incident_move *ret);
/* The plan step a role needs for the move. */
enum plan_step incident_move_step(enum incident_move m);

/* Where move takes an incident in state from: 0 and *ret_to, or -EPERM
 * when the plan's order does not allow it (why in *ret_why, i18n). */
int	incident_move_check(enum incident_state from, enum incident_move m,
		enum incident_state *ret_to, const char **ret_why);

/* Deadlines, a bit each (incidents.late), never cleared once set. */
enum incident_deadline {
	DEADLINE_INITIAL_REPORT = 1 << 0,
	DEADLINE_RISK_ASSESSMENT = 1 << 1,
	DEADLINE_AUTHORITY_REPORT = 1 << 2,
	DEADLINE_SUMMARY = 1 << 3,
};
const char *incident_deadline_key(enum incident_deadline d);	/* "initial_report" ... */
const char *incident_deadline_name(enum incident_deadline d);	/* 初次报告 ... (i18n) */

#endif
