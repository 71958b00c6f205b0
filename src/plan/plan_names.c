/*
 * plan_names.c - the fixed vocabulary of the emergency plan (steps, grades,
 * operator kinds, channel kinds, measures) and the read-only questions the
 * centre asks a loaded plan: who holds a role, which playbook applies, what
 * grade the thresholds give. Parsing and checking live in plan.c.
 */
#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <strings.h>

#include "plan/plan.h"
#include "core/banned.h"

#define NELEM(a) (sizeof(a) / sizeof((a)[0]))

static const char *const step_names[STEP_COUNT] = {
	[STEP_REPORT] = "report",
	[STEP_ASSESS] = "assess",
	[STEP_ACTIVATE] = "activate",
	[STEP_COMMAND] = "command",
	[STEP_INFORM] = "inform",
	[STEP_RECOVER] = "recover",
	[STEP_INVESTIGATE] = "investigate",
	[STEP_CLOSE] = "close",
	[STEP_GRADE] = "grade",
	[STEP_TASK] = "task",
	[STEP_NOTIFY_AUTHORITY] = "report_authority",
	[STEP_APPROVE] = "approve",
};

const char *
plan_step_name(enum plan_step s)
{
	if ((unsigned)s >= STEP_COUNT)
		return "?";
	return step_names[s];
}

int
plan_step_parse(const char *name, enum plan_step *ret)
{
	if (name == NULL)
		return -EINVAL;
	for (unsigned i = 0; i < STEP_COUNT; i++)
		if (strcmp(name, step_names[i]) == 0) {
			*ret = (enum plan_step)i;
			return 0;
		}
	return -EINVAL;
}

/* Indexed by enum plan_grade; [0] is GRADE_NONE. */
static const struct {
	const char *name, *key, *colour, *colour_key, *response, *roman, *digit;
} grades[5] = {
	[GRADE_NONE] = { "未定级", "none", "-", "none", "-", NULL, NULL },
	[GRADE_I] = { "特别重大", "I", "红", "red", "Ⅰ级", "Ⅰ", "1" },
	[GRADE_II] = { "重大", "II", "橙", "orange", "Ⅱ级", "Ⅱ", "2" },
	[GRADE_III] = { "较大", "III", "黄", "yellow", "Ⅲ级", "Ⅲ", "3" },
	[GRADE_IV] = { "一般", "IV", "蓝", "blue", "Ⅳ级", "Ⅳ", "4" },
};

static bool
grade_valid(enum plan_grade g)
{
	return g >= GRADE_I && g <= GRADE_IV;
}

/* s equals prefix followed by nothing or by one of the allowed suffixes. */
static bool
is_with_suffix(const char *s, const char *prefix, const char *const *suffixes, size_t nsuffixes)
{
	size_t n = strlen(prefix);

	if (strncmp(s, prefix, n) != 0)
		return false;
	if (s[n] == '\0')
		return true;
	for (size_t i = 0; i < nsuffixes; i++)
		if (strcmp(s + n, suffixes[i]) == 0)
			return true;
	return false;
}

int
plan_grade_parse(const char *s, enum plan_grade *ret)
{
	static const char *const name_suffixes[] = { "事件" };
	static const char *const roman_suffixes[] = { "级", "级响应" };

	if (s == NULL)
		return -EINVAL;
	for (int g = GRADE_I; g <= GRADE_IV; g++) {
		if (is_with_suffix(s, grades[g].name, name_suffixes, NELEM(name_suffixes)) ||
		    strcasecmp(s, grades[g].key) == 0 || strcmp(s, grades[g].digit) == 0 ||
		    is_with_suffix(s, grades[g].roman, roman_suffixes, NELEM(roman_suffixes))) {
			*ret = (enum plan_grade)g;
			return 0;
		}
	}
	return -EINVAL;
}

const char *
plan_grade_name(enum plan_grade g)
{
	return grade_valid(g) || g == GRADE_NONE ? grades[g].name : "?";
}

const char *
plan_grade_key(enum plan_grade g)
{
	return grade_valid(g) || g == GRADE_NONE ? grades[g].key : "?";
}

const char *
plan_grade_colour(enum plan_grade g)
{
	return grade_valid(g) || g == GRADE_NONE ? grades[g].colour : "?";
}

const char *
plan_grade_colour_key(enum plan_grade g)
{
	return grade_valid(g) || g == GRADE_NONE ? grades[g].colour_key : "?";
}

const char *
plan_grade_response(enum plan_grade g)
{
	return grade_valid(g) || g == GRADE_NONE ? grades[g].response : "?";
}

const char *
plan_channel_kind_name(enum plan_channel_kind k)
{
	switch (k) {
	case CHANNEL_WEBHOOK:
		return "webhook";
	case CHANNEL_WECOM:
		return "wecom";
	case CHANNEL_DINGTALK:
		return "dingtalk";
	case CHANNEL_FEISHU:
		return "feishu";
	case CHANNEL_EMAIL:
		return "email";
	}
	return "?";
}

static const char *const measure_names[MEASURE_COUNT] = {
	[MEASURE_PORTAL_DOWN] = "portal_down",
	[MEASURE_TAMPER_VISIBLE] = "tamper_visible",
	[MEASURE_RECORDS_LEAKED] = "records_leaked",
	[MEASURE_DIRECT_LOSS] = "direct_loss",
	[MEASURE_HOSTS_AFFECTED] = "hosts_affected",
};

const char *
plan_measure_name(enum plan_measure m)
{
	if ((unsigned)m >= MEASURE_COUNT)
		return "?";
	return measure_names[m];
}

/* --- lookups ------------------------------------------------------------------ */

int
plan_role_find(const struct plan *p, const char *id)
{
	if (p == NULL || id == NULL)
		return -1;
	for (size_t i = 0; i < p->nroles; i++)
		if (p->roles[i].id != NULL && strcmp(p->roles[i].id, id) == 0)
			return (int)i;
	return -1;
}

int
plan_member_find(const struct plan *p, const char *id)
{
	if (p == NULL || id == NULL)
		return -1;
	for (size_t i = 0; i < p->nmembers; i++)
		if (p->members[i].id != NULL && strcmp(p->members[i].id, id) == 0)
			return (int)i;
	return -1;
}

int
plan_channel_find(const struct plan *p, const char *id)
{
	if (p == NULL || id == NULL)
		return -1;
	for (size_t i = 0; i < p->nchannels; i++)
		if (p->channels[i].id != NULL && strcmp(p->channels[i].id, id) == 0)
			return (int)i;
	return -1;
}

bool
plan_member_may(const struct plan *p, int member, enum plan_step step)
{
	const struct plan_member *m;

	if (p == NULL || member < 0 || (size_t)member >= p->nmembers || (unsigned)step >= STEP_COUNT)
		return false;
	m = &p->members[member];
	for (size_t i = 0; i < m->nroles; i++) {
		int r = m->roles[i];

		if (r >= 0 && (size_t)r < p->nroles && p->roles[r].may[step])
			return true;
	}
	return false;
}

const struct plan_playbook *
plan_playbook_for(const struct plan *p, int category, int subcategory)
{
	const struct plan_playbook *whole = NULL;

	if (p == NULL || category < 0)
		return NULL;
	for (size_t i = 0; i < p->nplaybooks; i++) {
		const struct plan_playbook *pb = &p->playbooks[i];

		if (pb->category != category)
			continue;
		if (subcategory >= 0 && pb->subcategory == subcategory)
			return pb;
		if (pb->subcategory < 0 && whole == NULL)
			whole = pb;
	}
	return whole;
}

enum plan_grade
plan_grade_for(const struct plan *p, const int64_t values[MEASURE_COUNT])
{
	enum plan_grade best = GRADE_NONE;

	if (p == NULL || values == NULL)
		return GRADE_NONE;
	for (int m = 0; m < MEASURE_COUNT; m++) {
		const struct plan_threshold *t = &p->thresholds[m];

		if (!t->set || values[m] < 0)
			continue;
		/* Most severe first: the first grade reached is this measure's. */
		for (int g = GRADE_I; g <= GRADE_IV; g++) {
			if (t->at[g] <= 0 || values[m] < t->at[g])
				continue;
			if (best == GRADE_NONE || g < (int)best)
				best = (enum plan_grade)g;
			break;
		}
	}
	return best;
}
