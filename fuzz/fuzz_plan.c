/*
 * fuzz_plan.c - libFuzzer target: the emergency plan parser (plan.yaml) on
 * arbitrary bytes must never crash, hang, leak or read past the input; a plan
 * it accepts is whole (every index it holds points inside its arrays), and a
 * plan it refuses comes with at least one error, each with a message.
 */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "incident/category.h"
#include "plan/plan.h"
#include "tls/sha256.h"
#include "core/banned.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
check_role(const struct plan *p, int r)
{
	if (r < 0 || (size_t)r >= p->nroles)
		__builtin_trap();
}

static void
check_plan(const struct plan *p)
{
	bool activate = false;

	if (p->name == NULL || p->nroles == 0 || p->nmembers == 0)
		__builtin_trap();
	for (size_t i = 0; i < p->nroles; i++) {
		if (p->roles[i].id == NULL || p->roles[i].name == NULL)
			__builtin_trap();
		if (p->roles[i].escalates_to >= 0)
			check_role(p, p->roles[i].escalates_to);
		activate |= p->roles[i].may[STEP_ACTIVATE];
	}
	if (!activate)
		__builtin_trap();
	/* The escalation chain ends: no loop survives the checks. */
	for (int r = p->escalation_start, n = 0; r >= 0; r = p->roles[r].escalates_to, n++) {
		check_role(p, r);
		if ((size_t)n > p->nroles)
			__builtin_trap();
	}
	for (size_t i = 0; i < p->nmembers; i++) {
		if (p->members[i].id == NULL || p->members[i].nroles == 0)
			__builtin_trap();
		for (size_t k = 0; k < p->members[i].nroles; k++)
			check_role(p, p->members[i].roles[k]);
	}
	for (size_t i = 0; i < p->nchannels; i++)
		if (p->channels[i].id == NULL || p->channels[i].url == NULL ||
		    p->channels[i].kind == 0 || p->channels[i].timeout_ns <= 0)
			__builtin_trap();
	for (size_t i = 0; i < p->nescalation_channels; i++)
		if (p->escalation_channels[i] < 0 || (size_t)p->escalation_channels[i] >= p->nchannels)
			__builtin_trap();
	if (p->audit_anchor_channel >= 0 && (size_t)p->audit_anchor_channel >= p->nchannels)
		__builtin_trap();
	for (size_t i = 0; i < p->nplaybooks; i++) {
		const struct plan_playbook *pb = &p->playbooks[i];

		if (pb->category < 0 || (size_t)pb->category >= gbt_ncategories)
			__builtin_trap();
		if (pb->subcategory >= 0 && (size_t)pb->subcategory >= gbt_categories[pb->category].nsubs)
			__builtin_trap();
		for (size_t k = 0; k < pb->ntasks; k++) {
			if (pb->tasks[k].title == NULL)
				__builtin_trap();
			check_role(p, pb->tasks[k].role);
		}
		for (size_t k = 0; k < pb->nactions; k++) {
			const struct plan_action_rule *a = &pb->actions[k];

			if (a->action == NULL || (!a->automatic && a->napprovers == 0))
				__builtin_trap();
			for (size_t j = 0; j < a->napprovers; j++) {
				check_role(p, a->approvers[j]);
				if (!p->roles[a->approvers[j]].may[STEP_APPROVE])
					__builtin_trap();
			}
		}
	}
	if (p->initial_report_ns <= 0 || p->initial_report_ns > p->risk_assessment_ns ||
	    p->authority_report_ns <= 0 || p->authority_report_ns > p->summary_ns ||
	    p->escalation_step_ns <= 0 || p->grouping_window_ns <= 0 || p->retention_days < 180)
		__builtin_trap();
	for (int m = 0; m < MEASURE_COUNT; m++)
		for (int g = GRADE_IV; g > GRADE_I; g--)
			if (p->thresholds[m].at[g] > 0 && p->thresholds[m].at[g - 1] > 0 &&
			    p->thresholds[m].at[g] > p->thresholds[m].at[g - 1])
				__builtin_trap();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct plan_errors errs;	/* 26 KB: not on the stack */
	struct plan *p = NULL;
	int r;

	r = plan_parse((const char *)data, size, "fuzz.yaml", &p, &errs);
	if (r == 0) {
		if (p == NULL || errs.n != 0)
			__builtin_trap();
		uint8_t d[SHA256_LEN];

		check_plan(p);
		sha256_buf(data, size, d);
		if (memcmp(d, p->sha256, sizeof(d)) != 0)
			__builtin_trap();
		plan_free(p);
	} else {
		if (p != NULL || errs.n == 0)
			__builtin_trap();
		for (size_t i = 0; i < errs.n; i++)
			if (errs.items[i].msg[0] == '\0' ||
			    strnlen(errs.items[i].msg, sizeof(errs.items[i].msg)) ==
				    sizeof(errs.items[i].msg))
				__builtin_trap();
	}
	return 0;
}
