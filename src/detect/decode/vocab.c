/* vocab.c - the decoders' made-up values and their witnesses (vocab.h). */
#include "detect/decode/vocab.h"

#include <errno.h>
#include <string.h>
#include <strings.h>

#include "detect/decode/internal.h"
#include "core/banned.h"

const struct dec_vocab dec_vocab[DEC_V_COUNT] = {
#define DEC_VOCAB_ROW(id, f, v, w) [DEC_V_##id] = { f, v, w },
	DEC_VOCAB(DEC_VOCAB_ROW)
#undef DEC_VOCAB_ROW
};

void
dec_vocab_add(struct record *r, enum dec_vocab_id id)
{
	dec_add(r, dec_vocab[id].field, dec_vocab[id].value, strlen(dec_vocab[id].value));
}

static unsigned char
lower(unsigned char c)
{
	return c >= 'A' && c <= 'Z' ? (unsigned char)(c + 32) : c;
}

const char *
dec_memmem_nocase(const char *hay, size_t hlen, const char *needle, size_t nlen)
{
	if (nlen == 0)
		return hay;
	for (size_t i = 0; i + nlen <= hlen; i++) {
		size_t k = 0;

		while (k < nlen && lower((unsigned char)hay[i + k]) == lower((unsigned char)needle[k]))
			k++;
		if (k == nlen)
			return hay + i;
	}
	return NULL;
}

/* Every name a decoder gives by itself (not taken from the line). */
static const char *const fixed_fields[] = {
	/* syslog */
	"host", "program", "pid", "msgid", "message", "repeated",
	/* sshd, PAM, sudo, su, accounts, cron */
	"user", "src_ip", "src_port", "auth_method", "outcome", "event", "invalid_user",
	"tty", "pwd", "target_user", "target_group", "command", "ruser", "logname",
	"name", "old_name", "uid", "gid", "group", "home", "shell", "from",
	/* access and error logs */
	"c-ip", "cs-host", "cs-username", "cs-method", "cs-uri", "cs-uri-stem",
	"cs-uri-query", "cs-version", "sc-status", "sc-bytes", "cs-referer",
	"cs-user-agent", "level", "module", "server", "upstream",
};

bool
dec_field_is_fixed(const char *name)
{
	for (size_t i = 0; i < sizeof(fixed_fields) / sizeof(fixed_fields[0]); i++)
		if (strcasecmp(name, fixed_fields[i]) == 0)
			return true;
	return false;
}

static bool
name_from_line(const struct record *r, const char *name)
{
	const char *last = strrchr(name, '.');

	last = last != NULL ? last + 1 : name;
	return dec_field_is_fixed(name) ||
		dec_memmem_nocase(r->raw, r->raw_len, last, strlen(last)) != NULL;
}

static bool
witnessed(const struct record *r, const struct record_field *f)
{
	for (size_t i = 0; i < DEC_V_COUNT; i++) {
		const struct dec_vocab *v = &dec_vocab[i];

		if (f->value == v->value && strcmp(f->name, v->field) == 0 &&
				dec_memmem_nocase(r->raw, r->raw_len, v->witness, strlen(v->witness)) != NULL)
			return true;
	}
	return false;
}

int
decode_check_witnesses(const struct record *r, const char **ret_field)
{
	bool backslash = r->raw != NULL && memchr(r->raw, '\\', r->raw_len) != NULL;
	const char *progs[32];
	size_t np = r->service[0] != '\0' ? dec_service_programs(r->service, progs, 32) : 0;

	if (np > 0) {
		bool seen = false;

		for (size_t i = 0; i < np && !seen; i++)
			seen = r->raw != NULL &&
				dec_memmem_nocase(r->raw, r->raw_len, progs[i], strlen(progs[i])) != NULL;
		if (!seen) {
			if (ret_field != NULL)
				*ret_field = "(service)";
			return -EPROTO;
		}
	}

	for (unsigned i = 0; i < r->nfields; i++) {
		const struct record_field *f = &r->fields[i];

		if (backslash)
			continue;
		if (r->raw == NULL || !name_from_line(r, f->name)) {
			if (ret_field != NULL)
				*ret_field = f->name;
			return -EPROTO;
		}
		if (f->len == 0)
			continue;
		if (r->raw != NULL && f->value >= r->raw && f->value + f->len <= r->raw + r->raw_len)
			continue;
		if (r->raw != NULL && memmem(r->raw, r->raw_len, f->value, f->len) != NULL)
			continue;
		if (witnessed(r, f))
			continue;
		if (ret_field != NULL)
			*ret_field = f->name;
		return -EPROTO;
	}
	return 0;
}
