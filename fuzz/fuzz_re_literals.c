/*
 * fuzz_re_literals.c - libFuzzer target: the line filter's literals are
 * sound. Input: an expression, a NUL, a text. When re_required_literals says
 * something and PCRE2 (caseless) matches the text, the text must hold one of
 * the literals (without case); any answer must be bounded.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "detect/pcre_re.h"
#include "detect/re_literals.h"
#include "core/banned.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *in = (const char *)data, *nul = memchr(in, '\0', size);
	size_t relen = nul != NULL ? (size_t)(nul - in) : size;
	const char *text = nul != NULL ? nul + 1 : "";
	size_t tlen = nul != NULL ? size - relen - 1 : 0;
	struct relit_set s;
	struct pcre_re *re = NULL;
	char *err = NULL, *pat;
	bool found = false;

	if (re_required_literals(in, relen, &s) != 0)
		return 0;
	if (s.n == 0 || s.n > RELIT_MAX)
		__builtin_trap();
	for (size_t i = 0; i < s.n; i++)
		if (s.len[i] == 0 || s.len[i] > RELIT_LEN)
			__builtin_trap();
	pat = malloc(relen + 1);
	if (pat == NULL)
		return 0;
	memcpy(pat, in, relen);
	pat[relen] = '\0';
	if (pcre_re_compile(pat, relen, PCRE_RE_I, &re, &err) < 0) {
		free(err);
		free(pat);
		return 0;
	}
	if (pcre_re_match(re, text, tlen)) {
		for (size_t k = 0; k < s.n && !found; k++)
			for (size_t j = 0; j + s.len[k] <= tlen && !found; j++)
				found = strncasecmp(text + j, s.s[k], s.len[k]) == 0;
		if (!found)
			__builtin_trap();
	}
	pcre_re_free(re);
	free(pat);
	return 0;
}
