/*
 * sudo.c - sudo, su and PAM messages into fields.
 *
 *   sudo  "bob : TTY=pts/0 ; PWD=/x ; USER=root ; COMMAND=/bin/x args": user,
 *         tty, pwd, target_user, command (the rest of the line: arguments
 *         may hold " ; "), outcome success, event command; with a status
 *         first ("3 incorrect password attempts", "user NOT in sudoers",
 *         "command not allowed") outcome failure and event auth_failed,
 *         not_in_sudoers or not_allowed.
 *   su    "(to root) bob on pts/0", "FAILED SU (to root) bob on pts/0",
 *         "Successful su for root by bob", "FAILED su for root by bob": user,
 *         target_user, tty, outcome, event su.
 *   PAM   "pam_unix(svc:auth): authentication failure; ... rhost=IP user=U":
 *         user, src_ip (rhost), ruser, tty, logname; event pam_auth_failure,
 *         outcome failure; "session opened|closed for user U": event
 *         session_opened|session_closed. Under su, PAM's user is the
 *         target_user and ruser the user.
 */
#include <string.h>

#include "detect/decode/internal.h"
#include "detect/decode/vocab.h"
#include "core/banned.h"

/* PAM's "k1=v1 k2=v2  k3=" list. */
static void
pam_kv(struct record *r, const char *p, const char *end, bool su)
{
	while (p < end) {
		const char *k, *ke, *v;

		while (p < end && *p == ' ')
			p++;
		k = p;
		while (p < end && *p != '=' && *p != ' ')
			p++;
		if (p >= end || *p != '=')
			continue;
		ke = p++;
		v = p;
		while (p < end && *p != ' ')
			p++;
		if (ke - k == 5 && memcmp(k, "rhost", 5) == 0 && p > v)
			dec_add(r, "src_ip", v, (size_t)(p - v));
		else if (ke - k == 4 && memcmp(k, "user", 4) == 0)
			dec_add(r, su ? "target_user" : "user", v, (size_t)(p - v));
		else if (ke - k == 5 && memcmp(k, "ruser", 5) == 0 && p > v)
			dec_add(r, su ? "user" : "ruser", v, (size_t)(p - v));
		else if (ke - k == 3 && memcmp(k, "tty", 3) == 0 && p > v)
			dec_add(r, "tty", v, (size_t)(p - v));
		else if (ke - k == 7 && memcmp(k, "logname", 7) == 0 && p > v)
			dec_add(r, "logname", v, (size_t)(p - v));
	}
}

bool
pam_decode_msg(struct record *r, const char *msg, size_t n, bool su)
{
	const char *p = msg, *end = msg + n, *q;

	if (dec_starts(p, end, LIT("pam_unix(")) || dec_starts(p, end, LIT("pam_sss(")) ||
	    dec_starts(p, end, LIT("pam_ldap("))) {
		q = memchr(p, ')', n);
		if (q == NULL || end - q < 3 || q[1] != ':' || q[2] != ' ')
			return false;
		p = q + 3;
	} else if (!dec_starts(p, end, LIT("PAM "))) {
		return false;
	}
	if (dec_starts(p, end, LIT("authentication failure; ")) || dec_starts(p, end, LIT("PAM "))) {
		bool more = *p == 'P';

		q = memchr(p, ';', (size_t)(end - p));
		if (q == NULL)
			return false;
		pam_kv(r, q + 1, end, su);
		dec_vocab_add(r, more ? DEC_V_PAM_MORE_EVENT : DEC_V_PAM_FAIL_EVENT);
		dec_vocab_add(r, more ? DEC_V_PAM_MORE_OUTCOME : DEC_V_PAM_FAIL_OUTCOME);
		return true;
	}
	if (dec_starts(p, end, LIT("session opened for user ")) ||
	    dec_starts(p, end, LIT("session closed for user "))) {
		bool open = p[8] == 'o';

		p += sizeof("session opened for user ") - 1;
		q = p;
		while (q < end && *q != ' ' && *q != '(')
			q++;
		dec_add(r, su ? "target_user" : "user", p, (size_t)(q - p));
		q = dec_find(q, end, LIT(" by "));
		if (q != NULL && su) {
			p = q + 4;
			q = p;
			while (q < end && *q != ' ' && *q != '(')
				q++;
			if (q > p)
				dec_add(r, "user", p, (size_t)(q - p));
		}
		dec_vocab_add(r, open ? DEC_V_PAM_OPENED_EVENT : DEC_V_PAM_CLOSED_EVENT);
		return true;
	}
	return false;
}

void
sudo_decode_msg(struct record *r, const char *msg, size_t n)
{
	const char *p = msg, *end = msg + n, *q;
	enum dec_vocab_id ev = DEC_V_SUDO_CMD_EVENT, outcome = DEC_V_SUDO_CMD_OUTCOME;

	if (pam_decode_msg(r, msg, n, false))
		return;
	while (p < end && *p == ' ')
		p++;
	q = dec_find(p, end, LIT(" : "));
	if (q == NULL)
		return;
	dec_add(r, "user", p, (size_t)(q - p));
	p = q + 3;
	while (p < end) {
		const char *seg = p, *segend;

		if (dec_starts(seg, end, LIT("COMMAND="))) {
			/* The last key: the rest of the line is the command. */
			dec_add(r, "command", seg + 8, (size_t)(end - seg - 8));
			break;
		}
		q = dec_find(seg, end, LIT(" ; "));
		segend = q != NULL ? q : end;
		p = q != NULL ? q + 3 : end;
		if (dec_starts(seg, segend, LIT("TTY=")))
			dec_add(r, "tty", seg + 4, (size_t)(segend - seg - 4));
		else if (dec_starts(seg, segend, LIT("PWD=")))
			dec_add(r, "pwd", seg + 4, (size_t)(segend - seg - 4));
		else if (dec_starts(seg, segend, LIT("USER=")))
			dec_add(r, "target_user", seg + 5, (size_t)(segend - seg - 5));
		else if (dec_starts(seg, segend, LIT("GROUP=")))
			dec_add(r, "target_group", seg + 6, (size_t)(segend - seg - 6));
		else if (dec_find(seg, segend, LIT("incorrect password attempt")) != NULL) {
			ev = DEC_V_SUDO_PASSWD_EVENT;
			outcome = DEC_V_SUDO_PASSWD_OUTCOME;
		} else if (dec_find(seg, segend, LIT("NOT in sudoers")) != NULL) {
			ev = DEC_V_SUDO_NOTIN_EVENT;
			outcome = DEC_V_SUDO_NOTIN_OUTCOME;
		} else if (dec_find(seg, segend, LIT("command not allowed")) != NULL) {
			ev = DEC_V_SUDO_NOTALLOWED_EVENT;
			outcome = DEC_V_SUDO_NOTALLOWED_OUTCOME;
		}
	}
	dec_vocab_add(r, ev);
	dec_vocab_add(r, outcome);
}

void
su_decode_msg(struct record *r, const char *msg, size_t n)
{
	const char *p = msg, *end = msg + n, *q;
	bool failed = false;
	enum dec_vocab_id ev = DEC_V_SU_TO_EVENT, outcome = DEC_V_SU_TO_OUTCOME;

	if (pam_decode_msg(r, msg, n, true))
		return;
	if (dec_starts(p, end, LIT("FAILED SU "))) {
		failed = true;
		p += sizeof("FAILED SU ") - 1;
	}
	if (dec_starts(p, end, LIT("(to "))) {
		/* "(to root) bob on pts/0" */
		p += 4;
		q = memchr(p, ')', (size_t)(end - p));
		if (q == NULL)
			return;
		dec_add(r, "target_user", p, (size_t)(q - p));
		p = q + 1;
		if (p < end && *p == ' ')
			p++;
		q = dec_rfind(p, end, LIT(" on "));
		dec_add(r, "user", p, (size_t)((q ? q : end) - p));
		if (q != NULL)
			dec_add(r, "tty", q + 4, (size_t)(end - q - 4));
	} else if (dec_starts(p, end, LIT("Successful su for ")) || dec_starts(p, end, LIT("FAILED su for "))) {
		/* "Successful su for root by bob" */
		failed = *p == 'F';
		ev = DEC_V_SU_FOR_EVENT;
		outcome = DEC_V_SU_FOR_OUTCOME;
		p = dec_find(p, end, LIT(" for ")) + 5;
		q = dec_rfind(p, end, LIT(" by "));
		if (q == NULL)
			return;
		dec_add(r, "target_user", p, (size_t)(q - p));
		dec_add(r, "user", q + 4, (size_t)(end - q - 4));
	} else {
		return;
	}
	dec_vocab_add(r, ev);
	dec_vocab_add(r, failed ? DEC_V_SU_FAILED_OUTCOME : outcome);
}
