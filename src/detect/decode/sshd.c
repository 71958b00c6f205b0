/*
 * sshd.c - OpenSSH's messages into fields: user, src_ip, src_port,
 * auth_method (password, publickey, keyboard-interactive/pam...), outcome
 * (failure, success, invalid_user, closed) and event (auth_failed,
 * auth_accepted, invalid_user, connection_closed, disconnected,
 * max_auth_attempts, no_ident, pam_auth_failure, session_opened,
 * session_closed).
 *
 * A user name is attacker-chosen and may hold " from 1.2.3.4": the address is
 * always the last " from " (or the token before the last " port "), which
 * sshd itself wrote.
 */
#include <string.h>

#include "detect/decode/internal.h"
#include "detect/decode/vocab.h"
#include "core/banned.h"

/* "IP port N..." at p: src_ip and src_port (digits only). */
static void
ip_port(struct record *r, const char *p, const char *end)
{
	const char *q = p;

	while (q < end && *q != ' ')
		q++;
	if (q == p)
		return;
	dec_add(r, "src_ip", p, (size_t)(q - p));
	if (dec_starts(q, end, LIT(" port "))) {
		const char *s = q + 6;

		q = s;
		while (q < end && dec_digit(*q))
			q++;
		if (q > s)
			dec_add(r, "src_port", s, (size_t)(q - s));
	}
}

/* "[invalid user ]U from IP port N": the user, the address, and whether the
 * user was invalid. */
static void
user_from(struct record *r, const char *p, const char *end, bool *invalid)
{
	const char *from = dec_rfind(p, end, LIT(" from "));

	*invalid = false;
	if (dec_starts(p, from ? from : end, LIT("invalid user "))) {
		*invalid = true;
		p += sizeof("invalid user ") - 1;
	} else if (from != NULL && from - p == (ptrdiff_t)sizeof("invalid user") - 1 &&
		   memcmp(p, "invalid user", from - p) == 0) {
		/* "invalid user  from": an empty user name */
		*invalid = true;
		p = from;
	}
	if (from == NULL || from < p)
		return;
	dec_add(r, "user", p, (size_t)(from - p));
	ip_port(r, from + 6, end);
}

/* "[authenticating user U |invalid user U |user U ]IP port N": the forms of
 * closed and disconnected connections. */
static void
user_ip_port(struct record *r, const char *p, const char *end)
{
	const char *port = dec_rfind(p, end, LIT(" port ")), *ip;
	size_t skip = 0;

	if (port == NULL) {
		ip_port(r, p, end);
		return;
	}
	ip = port;
	while (ip > p && ip[-1] != ' ')
		ip--;
	if (dec_starts(p, ip, LIT("authenticating user ")))
		skip = sizeof("authenticating user ") - 1;
	else if (dec_starts(p, ip, LIT("invalid user ")))
		skip = sizeof("invalid user ") - 1;
	else if (dec_starts(p, ip, LIT("user ")))
		skip = sizeof("user ") - 1;
	if (skip > 0 && ip - p > (ptrdiff_t)skip)
		dec_add(r, "user", p + skip, (size_t)(ip - p - skip - 1));
	else if (skip > 0 && ip - p == (ptrdiff_t)skip)
		dec_add(r, "user", p + skip, 0);
	ip_port(r, ip, end);
}

/* The event and the outcome: made-up values, each with its witness. */
static void
event(struct record *r, enum dec_vocab_id ev, enum dec_vocab_id outcome)
{
	dec_vocab_add(r, ev);
	dec_vocab_add(r, outcome);
}

void
sshd_decode_msg(struct record *r, const char *msg, size_t n)
{
	const char *p = msg, *end = msg + n, *q;
	bool invalid;

	/* rsyslog's "message repeated 3 times: [ Failed password ...]" */
	if (dec_starts(p, end, LIT("message repeated "))) {
		const char *s = p + sizeof("message repeated ") - 1;

		q = s;
		while (q < end && dec_digit(*q))
			q++;
		if (q > s)
			dec_add(r, "repeated", s, (size_t)(q - s));
		q = dec_find(q, end, LIT(": [ "));
		if (q == NULL)
			return;
		p = q + 4;
		if (end - p >= 2 && end[-1] == ']' && end[-2] == ' ')
			end -= 2;
	}

	if (dec_starts(p, end, LIT("Failed ")) || dec_starts(p, end, LIT("Accepted "))) {
		bool ok = *p == 'A';
		const char *m = p + (ok ? sizeof("Accepted ") : sizeof("Failed ")) - 1;

		q = dec_find(m, end, LIT(" for "));
		if (q == NULL)
			return;
		dec_add(r, "auth_method", m, (size_t)(q - m));
		user_from(r, q + 5, end, &invalid);
		if (ok)
			event(r, DEC_V_SSHD_ACCEPTED_EVENT, DEC_V_SSHD_ACCEPTED_OUTCOME);
		else
			event(r, DEC_V_SSHD_FAILED_EVENT, DEC_V_SSHD_FAILED_OUTCOME);
		if (invalid)
			dec_vocab_add(r, DEC_V_SSHD_INVALID_FLAG);
	} else if (dec_starts(p, end, LIT("Invalid user "))) {
		p += sizeof("Invalid user ") - 1;
		q = dec_rfind(p, end, LIT(" from "));
		if (q != NULL) {
			dec_add(r, "user", p, (size_t)(q - p));
			ip_port(r, q + 6, end);
		} else if (dec_starts(p - 1, end, LIT(" from "))) {
			dec_add(r, "user", p, 0);
			ip_port(r, p + 5, end);
		}
		event(r, DEC_V_SSHD_INVALID_EVENT, DEC_V_SSHD_INVALID_OUTCOME);
	} else if (dec_starts(p, end, LIT("Connection closed by ")) ||
		   dec_starts(p, end, LIT("Connection reset by "))) {
		bool reset = p[11] == 'r';

		p = dec_find(p, end, LIT(" by ")) + 4;
		user_ip_port(r, p, end);
		if (reset)
			event(r, DEC_V_SSHD_RESET_EVENT, DEC_V_SSHD_RESET_OUTCOME);
		else
			event(r, DEC_V_SSHD_CLOSED_EVENT, DEC_V_SSHD_CLOSED_OUTCOME);
	} else if (dec_starts(p, end, LIT("Disconnected from "))) {
		user_ip_port(r, p + sizeof("Disconnected from ") - 1, end);
		event(r, DEC_V_SSHD_DISC_EVENT, DEC_V_SSHD_DISC_OUTCOME);
	} else if (dec_starts(p, end, LIT("Received disconnect from "))) {
		ip_port(r, p + sizeof("Received disconnect from ") - 1, end);
		event(r, DEC_V_SSHD_DISC_EVENT, DEC_V_SSHD_DISC_OUTCOME);
	} else if (dec_starts(p, end, LIT("error: maximum authentication attempts exceeded for ")) ||
		   dec_starts(p, end, LIT("maximum authentication attempts exceeded for "))) {
		p = dec_find(p, end, LIT(" for ")) + 5;
		user_from(r, p, end, &invalid);
		event(r, DEC_V_SSHD_MAXAUTH_EVENT, DEC_V_SSHD_MAXAUTH_OUTCOME);
		if (invalid)
			dec_vocab_add(r, DEC_V_SSHD_INVALID_FLAG);
	} else if (dec_starts(p, end, LIT("Did not receive identification string from "))) {
		ip_port(r, p + sizeof("Did not receive identification string from ") - 1, end);
		event(r, DEC_V_SSHD_NOIDENT_EVENT, DEC_V_SSHD_NOIDENT_OUTCOME);
	} else {
		(void)pam_decode_msg(r, p, (size_t)(end - p), false);
	}
}
