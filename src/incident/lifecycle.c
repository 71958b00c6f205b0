/*
 * lifecycle.c - the stages of an incident and the moves between them
 * (incident.h), in the order both seed plans give.
 */
#include "incident/incident.h"

#include <errno.h>
#include <string.h>

#include "core/i18n.h"
#include "core/banned.h"

static const char *const state_keys[INC_STATE_COUNT] = {
	"first_response", "reported", "assessed", "activated", "commanding", "informing",
	"recovering", "investigating", "closed",
};

const char *
incident_state_key(enum incident_state s)
{
	return (unsigned)s < INC_STATE_COUNT ? state_keys[s] : "?";
}

const char *
incident_state_name(enum incident_state s)
{
	switch (s) {
	case INC_FIRST_RESPONSE:	return L("先期处置", "first response");
	case INC_REPORTED:		return L("已报告", "reported");
	case INC_ASSESSED:		return L("已风险评估", "risk assessed");
	case INC_ACTIVATED:		return L("已启动预案", "plan activated");
	case INC_COMMANDING:		return L("应急指挥", "command");
	case INC_INFORMING:		return L("信息处理", "information handling");
	case INC_RECOVERING:		return L("善后处理", "recovery");
	case INC_INVESTIGATING:		return L("调查评估", "investigation");
	case INC_CLOSED:		return L("已关闭", "closed");
	default:			return "?";
	}
}

int
incident_state_parse(const char *key, enum incident_state *ret)
{
	for (int i = 0; key != NULL && i < INC_STATE_COUNT; i++) {
		if (strcmp(key, state_keys[i]) == 0) {
			*ret = (enum incident_state)i;
			return 0;
		}
	}
	return -EINVAL;
}

static const char *const move_keys[MOVE_COUNT] = {
	"report", "assess", "activate", "command", "inform", "recover", "investigate", "close",
};

const char *
incident_move_key(enum incident_move m)
{
	return (unsigned)m < MOVE_COUNT ? move_keys[m] : "?";
}

int
incident_move_parse(const char *key, enum incident_move *ret)
{
	for (int i = 0; key != NULL && i < MOVE_COUNT; i++) {
		if (strcmp(key, move_keys[i]) == 0) {
			*ret = (enum incident_move)i;
			return 0;
		}
	}
	return -EINVAL;
}

enum plan_step
incident_move_step(enum incident_move m)
{
	static const enum plan_step steps[MOVE_COUNT] = {
		[MOVE_REPORT_INITIAL] = STEP_REPORT,
		[MOVE_ASSESS] = STEP_ASSESS,
		[MOVE_ACTIVATE] = STEP_ACTIVATE,
		[MOVE_COMMAND] = STEP_COMMAND,
		[MOVE_INFORM] = STEP_INFORM,
		[MOVE_RECOVER] = STEP_RECOVER,
		[MOVE_INVESTIGATE] = STEP_INVESTIGATE,
		[MOVE_CLOSE] = STEP_CLOSE,
	};

	return (unsigned)m < MOVE_COUNT ? steps[m] : STEP_COUNT;
}

int
incident_move_check(enum incident_state from, enum incident_move m, enum incident_state *ret_to,
	const char **ret_why)
{
	enum incident_state to = from;
	bool ok = false;

	if (from == INC_CLOSED) {
		*ret_why = L("事件已关闭", "the incident is closed");
		return -EPERM;
	}
	switch (m) {
	case MOVE_REPORT_INITIAL:
		ok = from == INC_FIRST_RESPONSE;
		to = INC_REPORTED;
		*ret_why = L("初次报告已经提交（续报、补报请用 --kind followup|supplementary）",
			"the initial report was already filed (use --kind followup|supplementary)");
		break;
	case MOVE_ASSESS:
		ok = from == INC_REPORTED;
		to = INC_ASSESSED;
		*ret_why = from == INC_FIRST_RESPONSE ?
			L("须先提交初次报告，再做风险评估", "file the initial report before the risk assessment") :
			L("风险评估已经完成", "the risk assessment was already filed");
		break;
	case MOVE_ACTIVATE:
		ok = from == INC_ASSESSED;
		to = INC_ACTIVATED;
		*ret_why = from < INC_ASSESSED ?
			L("须先完成风险评估，再启动预案", "the risk assessment comes before activating the plan") :
			L("预案已经启动", "the plan is already active");
		break;
	case MOVE_COMMAND:
		ok = from == INC_ACTIVATED;
		to = INC_COMMANDING;
		*ret_why = L("应急指挥须在启动预案之后", "command follows the plan's activation");
		break;
	case MOVE_INFORM:
		ok = from == INC_COMMANDING;
		to = INC_INFORMING;
		*ret_why = L("信息处理须在应急指挥之后", "information handling follows command");
		break;
	case MOVE_RECOVER:
		ok = from == INC_ASSESSED || from == INC_ACTIVATED || from == INC_COMMANDING ||
			from == INC_INFORMING;
		to = INC_RECOVERING;
		*ret_why = from < INC_ASSESSED ?
			L("须先完成报告和风险评估，再进入善后处理",
				"report and assess before recovery") :
			L("已在善后处理或之后", "already in recovery or later");
		break;
	case MOVE_INVESTIGATE:
		ok = from == INC_RECOVERING;
		to = INC_INVESTIGATING;
		*ret_why = from < INC_RECOVERING ?
			L("调查评估须在善后处理之后", "the investigation follows recovery") :
			L("调查评估报告已经提交", "the investigation report was already filed");
		break;
	case MOVE_CLOSE:
		ok = true;
		to = INC_CLOSED;
		break;
	default:
		*ret_why = L("未知操作", "unknown step");
		return -EINVAL;
	}
	if (!ok)
		return -EPERM;
	*ret_to = to;
	*ret_why = NULL;
	return 0;
}

const char *
incident_deadline_key(enum incident_deadline d)
{
	switch (d) {
	case DEADLINE_INITIAL_REPORT:	return "initial_report";
	case DEADLINE_RISK_ASSESSMENT:	return "risk_assessment";
	case DEADLINE_AUTHORITY_REPORT:	return "authority_report";
	case DEADLINE_SUMMARY:		return "summary";
	default:			return "?";
	}
}

const char *
incident_deadline_name(enum incident_deadline d)
{
	switch (d) {
	case DEADLINE_INITIAL_REPORT:	return L("初次报告", "initial report");
	case DEADLINE_RISK_ASSESSMENT:	return L("风险评估", "risk assessment");
	case DEADLINE_AUTHORITY_REPORT:	return L("向主管部门报告", "report to the authority");
	case DEADLINE_SUMMARY:		return L("30日总结报告", "30-day summary");
	default:			return "?";
	}
}
