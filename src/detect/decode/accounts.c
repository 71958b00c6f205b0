/*
 * accounts.c - the shadow tools' messages (useradd, usermod, userdel,
 * groupadd, groupmod, groupdel, passwd, chpasswd, chage, gpasswd) and cron's.
 *
 *   "new user: name=bob, UID=0, GID=0, home=/home/bob, shell=/bin/bash"
 *                                  name uid gid home shell, event user_created
 *   "new group: name=x, GID=N"     name group gid, event group_created
 *   "group added to /etc/group: name=x, GID=N"         the same
 *   "add 'bob' to group 'sudo'"    name group, event group_member_added
 *   "change user 'bob' UID from '1000' to '0'"  name uid, event uid_changed
 *   "change user 'bob' GID from '1000' to '0'"  name gid, event gid_changed
 *   "change user name 'a' to 'b'"  name (the new), event user_renamed
 *   "delete user 'bob'"            name, event user_deleted
 *   "removed group 'x' owned by 'bob'", "group 'x' removed"
 *                                  group name, event group_deleted
 *   "password changed for bob"     name, event password_changed
 *   "changed password expiry for bob"   name, event password_expiry_changed
 *   "lock user 'bob' password", "unlock ..."  name, event user_locked|unlocked
 *   cron "(root) CMD (command)"    user, command, event cmd
 */
#include <string.h>

#include "detect/decode/internal.h"
#include "detect/decode/vocab.h"
#include "core/banned.h"

/* "k=v, k=v" after "...: ": the keys we know, lower-cased as field names. */
static void
kv_list(struct record *r, const char *p, const char *end, bool group)
{
	static const struct {
		const char	*key;
		const char	*field;
	} keys[] = {
		{ "name", "name" }, { "UID", "uid" }, { "GID", "gid" },
		{ "home", "home" }, { "shell", "shell" }, { "from", "from" },
	};

	while (p < end) {
		const char *k, *ke, *v;

		while (p < end && (*p == ' ' || *p == ','))
			p++;
		k = p;
		while (p < end && *p != '=' && *p != ',')
			p++;
		if (p >= end || *p != '=')
			continue;
		ke = p++;
		v = p;
		while (p < end && *p != ',')
			p++;
		for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++)
			if (strlen(keys[i].key) == (size_t)(ke - k) && memcmp(keys[i].key, k, ke - k) == 0) {
				dec_add(r, keys[i].field, v, (size_t)(p - v));
				if (group && i == 0)
					dec_add(r, "group", v, (size_t)(p - v));
				break;
			}
	}
}

/* The next '...' quoted name at or after p: its bounds, or false. */
static bool
quoted(const char **p, const char *end, const char **v, size_t *vlen)
{
	const char *s = *p, *q;

	while (s < end && *s != '\'')
		s++;
	if (s >= end)
		return false;
	s++;
	q = memchr(s, '\'', (size_t)(end - s));
	if (q == NULL)
		return false;
	*v = s;
	*vlen = (size_t)(q - s);
	*p = q + 1;
	return true;
}

void
accounts_decode_msg(struct record *r, const char *msg, size_t n)
{
	const char *p = msg, *end = msg + n, *q, *v, *v2, *start;
	size_t vlen, v2len;

	/* "pam_unix(passwd:chauthtok): password changed for bob" */
	if (dec_starts(p, end, LIT("pam_unix(")) && (q = dec_find(p, end, LIT("): "))) != NULL)
		p = q + 3;
	start = p;
	if (dec_starts(p, end, LIT("new user: "))) {
		kv_list(r, p + 10, end, false);
		dec_vocab_add(r, DEC_V_ACC_USER_CREATED);
	} else if (dec_starts(p, end, LIT("new group: "))) {
		kv_list(r, p + 11, end, true);
		dec_vocab_add(r, DEC_V_ACC_GROUP_CREATED);
	} else if (dec_starts(p, end, LIT("group added to ")) &&
		   (q = memchr(p, ':', (size_t)(end - p))) != NULL) {
		kv_list(r, q + 1, end, true);
		dec_vocab_add(r, DEC_V_ACC_GROUP_ADDED);
	} else if (dec_starts(p, end, LIT("add '")) && quoted(&p, end, &v, &vlen) &&
		   quoted(&p, end, &v2, &v2len)) {
		dec_add(r, "name", v, vlen);
		dec_add(r, "group", v2, v2len);
		dec_vocab_add(r, DEC_V_ACC_MEMBER_ADDED);
	} else if (dec_starts(p, end, LIT("change user name ")) && quoted(&p, end, &v, &vlen) &&
		   quoted(&p, end, &v2, &v2len)) {
		dec_add(r, "name", v2, v2len);
		dec_add(r, "old_name", v, vlen);
		dec_vocab_add(r, DEC_V_ACC_USER_RENAMED);
	} else if (dec_starts(p, end, LIT("change user '")) && quoted(&p, end, &v, &vlen)) {
		bool uid = dec_starts(p, end, LIT(" UID from ")), gid = dec_starts(p, end, LIT(" GID from "));

		dec_add(r, "name", v, vlen);
		if ((uid || gid) && quoted(&p, end, &v2, &v2len) && quoted(&p, end, &v2, &v2len)) {
			dec_add(r, uid ? "uid" : "gid", v2, v2len);
			dec_vocab_add(r, uid ? DEC_V_ACC_UID_CHANGED : DEC_V_ACC_GID_CHANGED);
		} else {
			dec_vocab_add(r, DEC_V_ACC_USER_CHANGED);
		}
	} else if ((dec_starts(p, end, LIT("lock user '")) || dec_starts(p, end, LIT("unlock user '"))) &&
		   quoted(&p, end, &v, &vlen)) {
		dec_add(r, "name", v, vlen);
		dec_vocab_add(r, *start == 'l' ? DEC_V_ACC_USER_LOCKED : DEC_V_ACC_USER_UNLOCKED);
	} else if (dec_starts(p, end, LIT("delete user '")) && quoted(&p, end, &v, &vlen)) {
		dec_add(r, "name", v, vlen);
		dec_vocab_add(r, DEC_V_ACC_USER_DELETED);
	} else if ((dec_starts(p, end, LIT("removed group '")) || dec_starts(p, end, LIT("group '"))) &&
		   quoted(&p, end, &v, &vlen)) {
		dec_add(r, "group", v, vlen);
		dec_add(r, "name", v, vlen);
		dec_vocab_add(r, DEC_V_ACC_GROUP_DELETED);
	} else if ((q = dec_find(p, end, LIT("password changed for "))) != NULL) {
		q += sizeof("password changed for ") - 1;
		dec_add(r, "name", q, (size_t)(end - q));
		dec_vocab_add(r, DEC_V_ACC_PASSWD_CHANGED);
	} else if ((q = dec_find(p, end, LIT("changed password expiry for "))) != NULL) {
		q += sizeof("changed password expiry for ") - 1;
		dec_add(r, "name", q, (size_t)(end - q));
		dec_vocab_add(r, DEC_V_ACC_EXPIRY_CHANGED);
	}
}

void
cron_decode_msg(struct record *r, const char *msg, size_t n)
{
	const char *p = msg, *end = msg + n, *q;

	if (pam_decode_msg(r, msg, n, false))
		return;
	/* "(root) CMD (command)" */
	if (p >= end || *p != '(' || (q = memchr(p, ')', n)) == NULL)
		return;
	dec_add(r, "user", p + 1, (size_t)(q - p - 1));
	p = q + 1;
	if (!dec_starts(p, end, LIT(" CMD (")))
		return;
	p += 6;
	q = end;
	if (q > p && q[-1] == ')')
		q--;
	dec_add(r, "command", p, (size_t)(q - p));
	dec_vocab_add(r, DEC_V_CRON_CMD_EVENT);
}
