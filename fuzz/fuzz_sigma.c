/*
 * fuzz_sigma.c - libFuzzer target: the Sigma rule parser (YAML, modifiers,
 * conditions, correlations) on arbitrary bytes must never crash, hang, leak
 * or read past the input; every rule it accepts is whole.
 */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "detect/sigma/rule.h"
#include "core/banned.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
check_rule(const struct sigma_rule *r)
{
	if (r->title == NULL || r->id == NULL || r->nconditions == 0)
		__builtin_trap();
	for (size_t i = 0; i < r->nconditions; i++)
		if (r->conditions[i] >= r->ncond_nodes)
			__builtin_trap();
	for (size_t i = 0; i < r->ncond_nodes; i++) {
		const struct sigma_cond *c = &r->cond_nodes[i];

		if (c->kind == SIGMA_COND_SEL && c->sel >= r->nsels)
			__builtin_trap();
		if ((c->kind == SIGMA_COND_NOT || c->kind == SIGMA_COND_AND ||
		     c->kind == SIGMA_COND_OR) &&
		    (c->a >= r->ncond_nodes ||
		     (c->kind != SIGMA_COND_NOT && c->b >= r->ncond_nodes)))
			__builtin_trap();
		for (size_t k = 0; k < c->nsels; k++)
			if (c->sels[k] >= r->nsels)
				__builtin_trap();
	}
	for (size_t i = 0; i < r->nsels; i++)
		for (size_t j = 0; j < r->sels[i].nmaps; j++)
			for (size_t k = 0; k < r->sels[i].maps[j].ntests; k++) {
				const struct sigma_field_test *t = &r->sels[i].maps[j].tests[k];

				if (t->nvalues == 0)
					__builtin_trap();
				for (size_t v = 0; v < t->nvalues; v++)
					if (t->values[v].text != NULL &&
					    strlen(t->values[v].text) != t->values[v].len)
						__builtin_trap();
			}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct sigma_ruleset rs = {0};

	(void)sigma_load_text(&rs, "fuzz.yml", (const char *)data, size);
	for (size_t i = 0; i < rs.nrules; i++)
		check_rule(rs.rules[i]);
	for (size_t i = 0; i < rs.nerrors; i++)
		if (rs.errors[i].message == NULL || rs.errors[i].message[0] == '\0')
			__builtin_trap();
	sigma_ruleset_release(&rs);
	return 0;
}
