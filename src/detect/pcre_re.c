/* pcre_re.c - PCRE2 with JIT and match limits (see pcre_re.h). */
#include "detect/pcre_re.h"

#include <errno.h>
#include <stdlib.h>

#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>

#include "core/xalloc.h"
#include "core/banned.h"

/* Enough for any sane pattern on a 64 KiB line; a backtracking explosion
 * reaches it in milliseconds. */
#define MATCH_LIMIT	200000u
#define DEPTH_LIMIT	10000u

struct pcre_re {
	pcre2_code		*code;
	pcre2_match_data	*md;
	pcre2_match_context	*mctx;
	uint64_t		 limit_hits;
};

int
pcre_re_compile(const char *pattern, size_t len, unsigned flags, struct pcre_re **ret,
		char **reterr)
{
	struct pcre_re *re = NULL;
	uint32_t opts = 0;
	int errcode = 0;
	PCRE2_SIZE erroff = 0;
	int r;

	if (flags & PCRE_RE_I)
		opts |= PCRE2_CASELESS;
	if (flags & PCRE_RE_M)
		opts |= PCRE2_MULTILINE;
	if (flags & PCRE_RE_S)
		opts |= PCRE2_DOTALL;
	re = xcalloc(1, sizeof(*re));
	re->code = pcre2_compile((PCRE2_SPTR)pattern, len, opts, &errcode, &erroff, NULL);
	if (re->code == NULL) {
		if (reterr != NULL) {
			PCRE2_UCHAR msg[256];

			if (pcre2_get_error_message(errcode, msg, sizeof(msg)) < 0)
				msg[0] = '\0';
			*reterr = xasprintf("%s at offset %zu", (const char *)msg, (size_t)erroff);
		}
		r = -EINVAL;
		goto out;
	}
	/* Without JIT (not built in, or no executable memory) the interpreter
	 * runs under the same limits. */
	(void)pcre2_jit_compile(re->code, PCRE2_JIT_COMPLETE);
	re->md = pcre2_match_data_create(1, NULL);
	re->mctx = pcre2_match_context_create(NULL);
	if (re->md == NULL || re->mctx == NULL)
		abort();	/* out of memory, as xmalloc */
	pcre2_set_match_limit(re->mctx, MATCH_LIMIT);
	pcre2_set_depth_limit(re->mctx, DEPTH_LIMIT);
	*ret = re;
	re = NULL;
	r = 0;
out:
	pcre_re_free(re);
	return r;
}

void
pcre_re_free(struct pcre_re *re)
{
	if (re == NULL)
		return;
	pcre2_match_context_free(re->mctx);
	pcre2_match_data_free(re->md);
	pcre2_code_free(re->code);
	free(re);
}

bool
pcre_re_match(struct pcre_re *re, const char *s, size_t len)
{
	static const char empty[1];
	int rc;

	rc = pcre2_match(re->code, (PCRE2_SPTR)(s != NULL ? s : empty), len, 0, 0, re->md,
		re->mctx);
	if (rc >= 0)
		return true;
	if (rc == PCRE2_ERROR_MATCHLIMIT || rc == PCRE2_ERROR_DEPTHLIMIT ||
			rc == PCRE2_ERROR_HEAPLIMIT || rc == PCRE2_ERROR_JIT_STACKLIMIT)
		re->limit_hits++;
	return false;
}

uint64_t
pcre_re_limit_hits(const struct pcre_re *re)
{
	return re->limit_hits;
}
