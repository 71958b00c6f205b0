/*
 * re_literals.c - literals every match of a regular expression holds
 * (re_literals.h). A recursive descent over PCRE/Hyperscan syntax; each node
 * gives an "info":
 *   exact  the node matches exactly one of these strings (may hold "");
 *   req    every match of the node holds one of these (non-empty) strings.
 * Either may be unknown. Sets are bounded (RELIT_MAX strings of RELIT_LEN
 * bytes): a set that would grow past that is dropped, which only ever makes
 * the answer say less.
 */
#include "detect/re_literals.h"

#include <errno.h>
#include <stdbool.h>
#include <string.h>

#include "core/hex.h"
#include "core/banned.h"

#define RELIT_DEPTH	32

struct info {
	bool			exact_ok, req_ok;
	struct relit_set	exact, req;
};

struct parser {
	const char	*p, *end;
	unsigned	 depth;
	int		 err;
	bool		 quote;		/* inside \Q...\E: every byte is itself */
};

static bool
at(const struct parser *ps, const char *s)
{
	size_t n = strlen(s);

	return (size_t)(ps->end - ps->p) >= n && memcmp(ps->p, s, n) == 0;
}

/* Skip what matches nothing and is no atom: a lone \E, an empty \Q\E (a
 * quantifier after them binds to the atom before). */
static void
skip_noops(struct parser *ps)
{
	for (;;) {
		if (at(ps, "\\E"))
			ps->p += 2;
		else if (at(ps, "\\Q\\E"))
			ps->p += 4;
		else
			return;
	}
}

/* Skip a {...} or <...> or '...' argument of an escape (\k<name>, \g{1},
 * \o{17}, \N{U+41}, \p{L}); false when it is not closed. */
static bool
skip_escape_arg(struct parser *ps)
{
	char close;

	if (ps->p >= ps->end)
		return true;
	close = *ps->p == '{' ? '}' : *ps->p == '<' ? '>' : *ps->p == '\'' ? '\'' : 0;
	if (close == 0)
		return true;
	ps->p++;
	while (ps->p < ps->end && *ps->p != close)
		ps->p++;
	if (ps->p >= ps->end)
		return false;
	ps->p++;
	return true;
}

static unsigned char
lower(unsigned char c)
{
	return c >= 'A' && c <= 'Z' ? (unsigned char)(c + 32) : c;
}

static bool
is_alnum(unsigned char c)
{
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

/* Text most web and auth log lines hold: a literal found inside one of these
 * is worth little as a filter, whatever its length. */
static const char *const common_text[] = {
	"https://", "http://", "mozilla/5.0 (", "http/1.1\" 200 ", "http/2.0", "get /",
	"post /", "applewebkit/537.36 (khtml, like gecko)", "gecko/20100101 firefox/",
	"safari/537.36", "chrome/", "www.", ".com/", ".html", ".css", ".js", ".png",
	".jpg", "session opened for user ", "session closed for user ",
	"accepted publickey for ", "pam_unix(", "sshd[", "cron[", " port ", " from ",
};

static bool
is_common(const char *s, size_t n)
{
	char low[RELIT_LEN];

	if (n > sizeof(low))
		return false;
	for (size_t i = 0; i < n; i++)
		low[i] = (char)lower((unsigned char)s[i]);
	for (size_t i = 0; i < sizeof(common_text) / sizeof(common_text[0]); i++)
		if (n > 0 && memmem(common_text[i], strlen(common_text[i]), low, n) != NULL)
			return true;
	return false;
}

size_t
relit_score(const char *s, size_t n)
{
	size_t score = 0;

	if (is_common(s, n))
		return 1;

	for (size_t i = 0; i < n; i++)
		score += is_alnum((unsigned char)s[i]) || s[i] == ' ' ? 1 : 2;
	return score;
}

size_t
relit_set_score(const struct relit_set *set)
{
	size_t min = (size_t)-1;

	if (set->n == 0)
		return 0;
	for (size_t i = 0; i < set->n; i++) {
		size_t s = relit_score(set->s[i], set->len[i]);

		if (s < min)
			min = s;
	}
	return min;
}

/* Add s to set unless there already; false when full or too long. */
static bool
set_add(struct relit_set *set, const char *s, size_t n)
{
	if (n > RELIT_LEN)
		return false;
	for (size_t i = 0; i < set->n; i++)
		if (set->len[i] == n && memcmp(set->s[i], s, n) == 0)
			return true;
	if (set->n == RELIT_MAX)
		return false;
	memcpy(set->s[set->n], s, n);
	set->len[set->n++] = n;
	return true;
}

static void
info_none(struct info *in)
{
	in->exact_ok = in->req_ok = false;
	in->exact.n = in->req.n = 0;
}

static void
info_exact(struct info *in, const char *s, size_t n)
{
	info_none(in);
	in->exact_ok = set_add(&in->exact, s, n);
}

/* What the node requires: its exact set when that has no "" in it, else its
 * req set; false when neither says anything. */
static bool
to_req(const struct info *in, struct relit_set *out)
{
	if (in->exact_ok && in->exact.n > 0) {
		bool empty = false;

		for (size_t i = 0; i < in->exact.n; i++)
			empty |= in->exact.len[i] == 0;
		if (!empty) {
			*out = in->exact;
			return true;
		}
	}
	if (in->req_ok && in->req.n > 0) {
		*out = in->req;
		return true;
	}
	return false;
}

/* A sequence, built atom by atom: cur is the exact run so far; best the
 * strongest requirement of the pieces already closed. */
struct seq {
	struct info	cur;
	bool		split;		/* some piece was closed: the whole is no longer exact */
	bool		best_ok;
	struct relit_set best;
};

static void
seq_keep(struct seq *q, const struct info *piece)
{
	struct relit_set r;

	if (to_req(piece, &r) && (!q->best_ok || relit_set_score(&r) > relit_set_score(&q->best))) {
		q->best = r;
		q->best_ok = true;
	}
}

static void
seq_add(struct seq *q, const struct info *atom)
{
	if (q->cur.exact_ok && atom->exact_ok && q->cur.exact.n * atom->exact.n <= RELIT_MAX) {
		struct relit_set x = { 0 };
		bool ok = true;

		for (size_t i = 0; i < q->cur.exact.n && ok; i++)
			for (size_t j = 0; j < atom->exact.n && ok; j++) {
				char buf[2 * RELIT_LEN];

				memcpy(buf, q->cur.exact.s[i], q->cur.exact.len[i]);
				memcpy(buf + q->cur.exact.len[i], atom->exact.s[j], atom->exact.len[j]);
				ok = set_add(&x, buf, q->cur.exact.len[i] + atom->exact.len[j]);
			}
		if (ok) {
			q->cur.exact = x;
			return;
		}
	}
	/* The run ends here: keep it (and the atom, when it is no run
	 * either) as pieces, and start again from the atom. */
	q->split = true;
	seq_keep(q, &q->cur);
	if (atom->exact_ok) {
		q->cur = *atom;
	} else {
		seq_keep(q, atom);
		info_exact(&q->cur, "", 0);
	}
}

static void
seq_end(struct seq *q, struct info *out)
{
	if (!q->split) {
		*out = q->cur;
		return;
	}
	seq_keep(q, &q->cur);
	info_none(out);
	if (q->best_ok) {
		out->req = q->best;
		out->req_ok = true;
	}
}

/* a or b, into a. */
static void
alternate(struct info *a, const struct info *b)
{
	struct relit_set ra, rb;
	bool ok = true;

	if (a->exact_ok && b->exact_ok) {
		struct relit_set x = a->exact;

		for (size_t i = 0; i < b->exact.n && ok; i++)
			ok = set_add(&x, b->exact.s[i], b->exact.len[i]);
		if (ok) {
			a->exact = x;
			a->req_ok = false;
			return;
		}
	}
	ok = to_req(a, &ra) && to_req(b, &rb);
	info_none(a);
	for (size_t i = 0; i < rb.n && ok; i++)
		ok = set_add(&ra, rb.s[i], rb.len[i]);
	if (ok) {
		a->req = ra;
		a->req_ok = true;
	}
}

static void parse_alt(struct parser *ps, struct info *out);

/* A bracketed class, ps->p just past '['. Small classes of plain characters
 * become exact sets of one-character strings; anything else in a class (a
 * range, an escape of a kind, a POSIX class) makes it say nothing, but is
 * still read to find where the class ends. */
static void
parse_class(struct parser *ps, struct info *out)
{
	struct relit_set set = { 0 };
	bool neg = false, ok = true, first = true;

	if (ps->p < ps->end && *ps->p == '^') {
		neg = true;
		ps->p++;
	}
	while (ps->p < ps->end && (first || *ps->p != ']')) {
		unsigned char c = (unsigned char)*ps->p;

		first = false;
		if (c == '[' && ps->end - ps->p >= 2 && ps->p[1] == ':') {
			/* [:name:] or [:^name:]; else '[' is itself */
			const char *q = ps->p + 2;

			if (q < ps->end && *q == '^')
				q++;
			while (q < ps->end && ((*q | 0x20) >= 'a' && (*q | 0x20) <= 'z'))
				q++;
			if (q > ps->p + 2 && ps->end - q >= 2 && q[0] == ':' && q[1] == ']') {
				ps->p = q + 2;
				ok = false;
				continue;
			}
			ps->p++;
		} else if (c == '\\') {
			unsigned char e;

			if (ps->end - ps->p < 2) {
				ps->err = -EINVAL;
				return;
			}
			e = (unsigned char)ps->p[1];
			ps->p += 2;
			if (e == 'Q') {
				/* quoted: every byte up to \E is a member */
				ok = false;
				while (ps->p < ps->end && !at(ps, "\\E"))
					ps->p++;
				if (ps->p < ps->end)
					ps->p += 2;
				continue;
			}
			if (e == 'E')
				continue;
			if (is_alnum(e)) {
				ok = false;
				if (e == 'c' && ps->p < ps->end)
					ps->p++;	/* \cX: X is part of it */
				else if (e == 'x' || e == 'o' || e == 'p' || e == 'P' || e == 'N') {
					if (!skip_escape_arg(ps)) {
						ps->err = -EINVAL;
						return;
					}
				}
				/* \xHH's digits, \d...: read on as members, said nothing of */
				continue;
			}
			c = e;
		} else {
			ps->p++;
		}
		if (ps->end - ps->p >= 2 && ps->p[0] == '-' && ps->p[1] != ']') {
			ok = false;	/* a range: its end is read as the next member */
			ps->p++;
			continue;
		}
		if (ok) {
			char l = (char)lower(c);

			ok = set_add(&set, &l, 1);
		}
	}
	if (ps->p >= ps->end) {
		ps->err = -EINVAL;
		return;
	}
	ps->p++;	/* ']' */
	info_none(out);
	if (!neg && ok && set.n > 0 && set.n <= 8) {
		out->exact = set;
		out->exact_ok = true;
	}
}

/* An escape, ps->p just past '\\' (\Q and \E are parse_concat's). */
static void
parse_escape(struct parser *ps, struct info *out)
{
	unsigned char e;
	char c;

	if (ps->p >= ps->end) {
		ps->err = -EINVAL;
		return;
	}
	e = (unsigned char)*ps->p++;
	if (!is_alnum(e)) {
		c = (char)lower(e);
		info_exact(out, &c, 1);
		return;
	}
	switch (e) {
	case 'b': case 'B': case 'A': case 'z': case 'Z': case 'G': case 'K':
		info_exact(out, "", 0);
		return;
	case 't': c = '\t'; break;
	case 'n': c = '\n'; break;
	case 'r': c = '\r'; break;
	case 'f': c = '\f'; break;
	case 'e': c = 0x1b; break;
	case 'a': c = 0x07; break;
	case 'x': {
		int h1, h2;

		if (ps->p < ps->end && *ps->p == '{') {
			/* \x{...}: said nothing about */
			if (!skip_escape_arg(ps))
				ps->err = -EINVAL;
			info_none(out);
			return;
		}
		if (ps->end - ps->p < 2 || (h1 = hex_digit(ps->p[0])) < 0 || (h2 = hex_digit(ps->p[1])) < 0) {
			ps->err = -EINVAL;
			return;
		}
		ps->p += 2;
		c = (char)lower((unsigned char)(h1 * 16 + h2));
		break;
	}
	case 'c':
		/* \cX, a control character: X is part of it */
		if (ps->p >= ps->end) {
			ps->err = -EINVAL;
			return;
		}
		ps->p++;
		info_none(out);
		return;
	case 'k': case 'g': case 'o': case 'p': case 'P': case 'N':
		/* back-references by name or number, octal, properties: nothing */
		if (e == 'g' && ps->p < ps->end && (*ps->p == '-' || *ps->p == '+'))
			ps->p++;
		while ((e == 'g') && ps->p < ps->end && *ps->p >= '0' && *ps->p <= '9')
			ps->p++;
		if ((e == 'p' || e == 'P') && ps->p < ps->end && *ps->p != '{')
			ps->p++;	/* \pL */
		else if (!skip_escape_arg(ps))
			ps->err = -EINVAL;
		info_none(out);
		return;
	case 'd': case 'D': case 'w': case 'W': case 's': case 'S': case 'h': case 'H':
	case 'v': case 'V': case 'R': case 'X': case 'C':
		info_none(out);
		return;
	default:
		if (e >= '0' && e <= '9') {
			/* a back-reference or an octal escape: nothing */
			while (ps->p < ps->end && *ps->p >= '0' && *ps->p <= '9')
				ps->p++;
			info_none(out);
			return;
		}
		ps->err = -EINVAL;	/* an escape not followed here */
		return;
	}
	info_exact(out, &c, 1);
}

/* A group, ps->p just past '('. */
static void
parse_group(struct parser *ps, struct info *out)
{
	bool look = false, flags_only = false;

	if (ps->p < ps->end && *ps->p == '?') {
		ps->p++;
		if (ps->p >= ps->end) {
			ps->err = -EINVAL;
			return;
		}
		if (*ps->p == ':' || *ps->p == '>' || *ps->p == '|') {
			ps->p++;
		} else if (*ps->p == '=' || *ps->p == '!') {
			look = true;
			ps->p++;
		} else if (*ps->p == '<' && ps->p + 1 < ps->end && (ps->p[1] == '=' || ps->p[1] == '!')) {
			look = true;
			ps->p += 2;
		} else if (*ps->p == '<' || *ps->p == 'P' || *ps->p == '\'') {
			/* (?<name>...), (?P<name>...), (?'name'...) */
			char close = *ps->p == '\'' ? '\'' : '>';

			while (ps->p < ps->end && *ps->p != close)
				ps->p++;
			if (ps->p >= ps->end) {
				ps->err = -EINVAL;
				return;
			}
			ps->p++;
		} else {
			/* flags: (?i) or (?i:...); x (extended: blanks and # comments
			 * are no text) is not followed here */
			while (ps->p < ps->end && (is_alnum((unsigned char)*ps->p) || *ps->p == '-' ||
					*ps->p == '^')) {
				if (*ps->p == 'x') {
					ps->err = -EINVAL;
					return;
				}
				ps->p++;
			}
			if (ps->p >= ps->end || (*ps->p != ')' && *ps->p != ':')) {
				ps->err = -EINVAL;
				return;
			}
			flags_only = *ps->p == ')';
			ps->p++;
			if (flags_only) {
				info_exact(out, "", 0);
				return;
			}
		}
	}
	parse_alt(ps, out);
	if (ps->err < 0)
		return;
	if (ps->p >= ps->end || *ps->p != ')') {
		ps->err = -EINVAL;
		return;
	}
	ps->p++;
	if (look)
		info_none(out);	/* holds nothing of the match itself */
}

/* {n}, {n,}, {n,m} at ps->p: true with the bounds (max -1: none), ps->p past
 * it; false (ps->p unchanged) when it is not a quantifier. */
static bool
parse_braces(struct parser *ps, long *min, long *max)
{
	const char *q = ps->p + 1;
	long a = 0, b = -1;
	bool digits = false;

	while (q < ps->end && *q >= '0' && *q <= '9' && a < 100000) {
		a = a * 10 + (*q++ - '0');
		digits = true;
	}
	if (q < ps->end && *q == ',') {
		q++;
		if (q < ps->end && *q >= '0' && *q <= '9') {
			b = 0;
			while (q < ps->end && *q >= '0' && *q <= '9' && b < 100000)
				b = b * 10 + (*q++ - '0');
		}
		if (!digits)
			a = 0;	/* {,m}: taken as a quantifier from 0, the safe reading */
	} else {
		if (!digits)
			return false;
		b = a;
	}
	if (q >= ps->end || *q != '}')
		return false;
	ps->p = q + 1;
	*min = a;
	*max = b;
	return true;
}

static void
parse_concat(struct parser *ps, struct info *out)
{
	struct seq q = { .split = false };

	info_exact(&q.cur, "", 0);
	while (ps->p < ps->end && ps->err == 0) {
		struct info atom;
		unsigned char c;
		long min = 1, max = 1;

		if (ps->quote) {
			/* \Q...\E: each byte an atom; a quantifier can only follow
			 * the last one, after the \E */
			char l;

			if (at(ps, "\\E")) {
				ps->p += 2;
				ps->quote = false;
				continue;
			}
			l = (char)lower((unsigned char)*ps->p++);
			info_exact(&atom, &l, 1);
			if (!at(ps, "\\E")) {
				seq_add(&q, &atom);
				continue;
			}
			ps->p += 2;
			ps->quote = false;
			goto quantifier;
		}
		if (*ps->p == '|' || *ps->p == ')')
			break;
		if (at(ps, "\\E") || at(ps, "\\Q\\E")) {
			skip_noops(ps);
			continue;
		}
		if (at(ps, "\\Q")) {
			ps->p += 2;
			ps->quote = true;
			continue;
		}
		c = (unsigned char)*ps->p++;
		switch (c) {
		case '(':
			if (++ps->depth > RELIT_DEPTH) {
				ps->err = -EINVAL;
				info_none(out);
				return;
			}
			parse_group(ps, &atom);
			ps->depth--;
			break;
		case '[':
			parse_class(ps, &atom);
			break;
		case '\\':
			parse_escape(ps, &atom);
			break;
		case '.':
			info_none(&atom);
			break;
		case '^': case '$':
			info_exact(&atom, "", 0);
			break;
		case '*': case '+': case '?':
			ps->err = -EINVAL;	/* a quantifier with nothing before it */
			info_none(out);
			return;
		default: {
			char l = (char)lower(c);

			info_exact(&atom, &l, 1);
			break;
		}
		}
		if (ps->err < 0) {
			info_none(out);
			return;
		}
quantifier:
		skip_noops(ps);
		/* a quantifier */
		if (ps->p < ps->end) {
			if (*ps->p == '*') {
				min = 0;
				max = -1;
				ps->p++;
			} else if (*ps->p == '+') {
				max = -1;
				ps->p++;
			} else if (*ps->p == '?') {
				min = 0;
				ps->p++;
			} else if (*ps->p == '{' && parse_braces(ps, &min, &max)) {
				/* bounds set */
			} else {
				goto plain;
			}
			if (ps->p < ps->end && (*ps->p == '?' || *ps->p == '+'))
				ps->p++;	/* lazy, possessive */
		}
plain:
		if (min == 0 && max == 1) {
			struct info empty;

			info_exact(&empty, "", 0);
			alternate(&atom, &empty);	/* x? = x or nothing */
		} else if (min == 0) {
			info_none(&atom);
		} else if (!(min == 1 && max == 1)) {
			struct relit_set r;
			bool ok = to_req(&atom, &r);

			info_none(&atom);
			if (ok) {
				atom.req = r;
				atom.req_ok = true;
			}
		}
		seq_add(&q, &atom);
	}
	seq_end(&q, out);
}

static void
parse_alt(struct parser *ps, struct info *out)
{
	parse_concat(ps, out);
	while (ps->err == 0 && ps->p < ps->end && *ps->p == '|') {
		struct info b;

		ps->p++;
		parse_concat(ps, &b);
		if (ps->err < 0)
			return;
		alternate(out, &b);
	}
}

int
re_required_literals(const char *re, size_t len, struct relit_set *out)
{
	struct parser ps = { .p = re, .end = re + len };
	struct info in;

	parse_alt(&ps, &in);
	if (ps.err < 0)
		return ps.err;
	if (ps.p != ps.end)
		return -EINVAL;	/* an unbalanced ')' */
	if (!to_req(&in, out))
		return -ENOENT;
	return 0;
}
