/* journald.c - the systemd journal as a log source (see journald.h). The only
 * file that includes <systemd/sd-journal.h>. */
#include "agent/logs/journald.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <systemd/sd-journal.h>
/* sd-journal.h brings <syslog.h>, whose LOG_* macros would rename the
 * levels of core/log.h. */
#undef LOG_ERR
#undef LOG_INFO
#undef LOG_DEBUG

#include "agent/journal/journal.h"
#include "agent/logs/journal_line.h"
#include "agent/state.h"
#include "core/buf.h"
#include "core/json.h"
#include "core/json_get.h"
#include "core/log.h"
#include "core/timeutil.h"
#include "core/xalloc.h"
#include "core/banned.h"

#define JD_POSITION		"journal"	/* in <state>/logs */
#define JD_POSITION_MAX		(64u * 1024)
#define JD_CURSOR_MAX		1024u		/* systemd's are ~150 bytes */
#define JD_SOURCE_MAX		4096u
#define JD_FIELD_MAX		256u		/* above RFC 5424's 255 for HOSTNAME */

struct journald {
	sd_journal		*j;
	int			 fd;
	int			 dirfd;		/* <state>/logs */
	struct journal		*journal;
	struct journal_writer	*writer;
	logs_emit_fn		 emit;
	void			*data;
	char			*source;	/* the directory, or "" for the local journal */
	char			*cursor;	/* the last entry emitted (or the start point) */
	char			*line;		/* LOGS_MAX_LINE */
	char			*message;	/* LOGS_MAX_LINE: MESSAGE's first bytes */
	char			 small[7][JD_FIELD_MAX];	/* the other fields */
	struct buf		 json;
	bool			 pending;	/* the current entry is still to be emitted */
	bool			 more;		/* share used up with more to read */
	bool			 changed;	/* the cursor moved since the last save */
	bool			 err_said;
};

/* A field's value without its "NAME=" prefix, copied into dst (at most cap
 * bytes: sd_journal_get_data's pointer is good only until the next call);
 * ptr NULL when absent. A value longer than a header field may be is still
 * recognised as too long: cap is above every header limit. */
static struct jfield
get_field(sd_journal *j, const char *name, char *dst, size_t cap)
{
	struct jfield f = { 0 };
	size_t nlen = strlen(name), len = 0;
	const void *d = NULL;

	if (sd_journal_get_data(j, name, &d, &len) < 0 || len <= nlen ||
		memcmp(d, name, nlen) != 0 || ((const char *)d)[nlen] != '=')
		return f;
	f.len = len - nlen - 1;
	if (f.len > cap)
		f.len = cap;
	memcpy(dst, (const char *)d + nlen + 1, f.len);
	f.ptr = dst;
	return f;
}

/* Emit the entry the journal is on; remember its cursor. */
static void
emit_entry(struct journald *jd)
{
	struct journal_entry_fields e = { 0 };
	char when[48], *cursor = NULL;
	int64_t now = now_realtime_ns();
	bool truncated = false;
	size_t len;
	struct json j;
	int r;

	r = sd_journal_get_cursor(jd->j, &cursor);
	if (r < 0 || strlen(cursor) >= JD_CURSOR_MAX) {
		if (!jd->err_said)
			log_warn("logs", "journal: an entry without a usable cursor: %s; skipped",
				strerror(r < 0 ? -r : E2BIG));
		jd->err_said = true;
		free(cursor);
		return;
	}
	(void)sd_journal_get_realtime_usec(jd->j, &e.realtime_us);
	/* A MESSAGE cut at LOGS_MAX_LINE still makes the line too long:
	 * reported as truncated. */
	e.message = get_field(jd->j, "MESSAGE", jd->message, LOGS_MAX_LINE);
	e.hostname = get_field(jd->j, "_HOSTNAME", jd->small[0], JD_FIELD_MAX);
	e.identifier = get_field(jd->j, "SYSLOG_IDENTIFIER", jd->small[1], JD_FIELD_MAX);
	e.comm = get_field(jd->j, "_COMM", jd->small[2], JD_FIELD_MAX);
	e.syslog_pid = get_field(jd->j, "SYSLOG_PID", jd->small[3], JD_FIELD_MAX);
	e.pid = get_field(jd->j, "_PID", jd->small[4], JD_FIELD_MAX);
	e.facility = get_field(jd->j, "SYSLOG_FACILITY", jd->small[5], JD_FIELD_MAX);
	e.priority = get_field(jd->j, "PRIORITY", jd->small[6], JD_FIELD_MAX);
	len = journal_line_format(&e, jd->line, LOGS_MAX_LINE, &truncated);

	buf_reset(&jd->json);
	json_begin(&j, &jd->json);
	json_key_str(&j, "type", "log");
	time_format_local(now, when, sizeof(when));
	json_key_str(&j, "time", when);
	json_key_i64(&j, "time_ns", now);
	json_key_str(&j, "source", "journal");
	json_key_strn(&j, "line", jd->line, len);
	json_key_bool(&j, "truncated", truncated);
	json_key_str(&j, "cursor", cursor);
	if (json_end(&j) == 0)
		jd->emit(now, jd->json.data, jd->json.len, jd->data);
	free(jd->cursor);
	jd->cursor = cursor;
	jd->changed = true;
}

/* Emit new entries, at most LOGS_TURN_LINES of them. */
static void
read_entries(struct journald *jd)
{
	unsigned n = 0;
	int r;

	jd->more = false;
	if (jd->pending) {
		jd->pending = false;
		emit_entry(jd);
		n++;
	}
	for (;;) {
		if (n >= LOGS_TURN_LINES) {
			jd->more = true;
			return;
		}
		r = sd_journal_next(jd->j);
		if (r == 0)
			return;
		if (r < 0) {
			if (!jd->err_said)
				log_warn("logs", "journal: reading: %s", strerror(-r));
			jd->err_said = true;
			return;
		}
		emit_entry(jd);
		n++;
	}
}

static void
save_position(struct journald *jd)
{
	struct buf out;
	struct json j;
	int r;

	if (!jd->changed || jd->cursor == NULL)
		return;
	/* Every entry emitted so far must be in the journal before the seq is
	 * taken: the cursor counts them. */
	r = journal_writer_flush(jd->writer);
	if (r < 0)
		return;		/* tried again next tick; the daemon reports the error */
	buf_init(&out, JD_POSITION_MAX);
	json_begin(&j, &out);
	json_key_u64(&j, "seq", journal_next_seq(jd->journal) - 1);
	json_key_str(&j, "source", jd->source);
	json_key_str(&j, "cursor", jd->cursor);
	r = json_end(&j);
	if (r == 0)
		r = state_write_file(jd->dirfd, JD_POSITION, out.data, out.len);
	if (r < 0)
		log_warn("logs", "cannot save the journal position: %s", strerror(-r));
	else
		jd->changed = false;
	buf_release(&out);
}

/* The saved cursor into jd->cursor; returns the seq it is valid up to (0:
 * none). */
static uint64_t
load_position(struct journald *jd)
{
	char *text = NULL;
	size_t len = 0;
	int64_t seq = 0;
	struct buf s;
	int r;

	r = state_read_file(jd->dirfd, JD_POSITION, JD_POSITION_MAX, &text, &len);
	if (r < 0) {
		if (r != -ENOENT)
			log_warn("logs", "cannot read the journal position: %s", strerror(-r));
		return 0;
	}
	buf_init(&s, JD_SOURCE_MAX);
	if (json_get_i64(text, len, "seq", &seq) < 0 || seq < 0 ||
		json_get_str(text, len, "source", &s) < 0) {
		log_warn("logs", "the journal position file is damaged; the journal is read from its end");
		seq = 0;
		goto out;
	}
	if (strcmp(s.data, jd->source) != 0) {
		log_warn("logs", "the journal position is for %s, not %s; reading from the end",
			s.data[0] ? s.data : "the local journal", jd->source[0] ? jd->source
										: "the local journal");
		seq = 0;
		goto out;
	}
	buf_release(&s);
	buf_init(&s, JD_CURSOR_MAX);
	if (json_get_str(text, len, "cursor", &s) < 0 || s.len == 0) {
		log_warn("logs", "the journal position file is damaged; the journal is read from its end");
		seq = 0;
		goto out;
	}
	jd->cursor = buf_detach(&s, NULL);
out:
	buf_release(&s);
	free(text);
	return (uint64_t)seq;
}

struct replay {
	struct journald	*jd;
	struct buf	 s;
	uint64_t	 n;
};

/* A journal "log" record after the saved position: its cursor is newer. */
static int
replay_record(uint64_t seq, int64_t time_ns, const void *payload, size_t len, void *data)
{
	struct replay *rp = data;
	const char *p = payload;

	(void)seq;
	(void)time_ns;
	if (json_get_str(p, len, "type", &rp->s) < 0 || strcmp(rp->s.data, "log") != 0)
		return 0;
	if (json_get_str(p, len, "source", &rp->s) < 0 || strcmp(rp->s.data, "journal") != 0)
		return 0;
	if (json_get_str(p, len, "cursor", &rp->s) < 0 || rp->s.len == 0)
		return 0;
	free(rp->jd->cursor);
	rp->jd->cursor = xstrdup(rp->s.data);
	rp->n++;
	return 0;
}

/* Where reading goes on: after the saved cursor, or at the end. */
static int
seek_start(struct journald *jd)
{
	int r;

	if (jd->cursor != NULL) {
		r = sd_journal_seek_cursor(jd->j, jd->cursor);
		if (r < 0) {
			log_warn("logs", "journal: the saved cursor is not valid (%s); reading from "
				"the end", strerror(-r));
			goto tail;
		}
		r = sd_journal_next(jd->j);
		if (r < 0)
			return r;
		if (r > 0 && sd_journal_test_cursor(jd->j, jd->cursor) > 0)
			return 0;	/* on the last entry emitted: reading goes on after it */
		/* Not there: vacuumed or rotated away while we were behind. What
		 * the journal still holds after it is read; the rest is lost. */
		log_warn("logs", "%s", "journal: THE ENTRY AT THE SAVED POSITION IS GONE (vacuumed "
			"or rotated away while the agent was down or behind); entries between it and "
			"the oldest one still in the journal are LOST; reading on from the oldest "
			"entry after it");
		jd->pending = r > 0;	/* the entry it landed on is new: emit it */
		jd->changed = true;
		return 0;
	}
tail:
	free(jd->cursor);
	jd->cursor = NULL;
	r = sd_journal_seek_tail(jd->j);
	if (r < 0)
		return r;
	r = sd_journal_previous(jd->j);
	if (r < 0)
		return r;
	if (r == 0)
		return sd_journal_seek_head(jd->j);	/* empty: all that comes is new */
	/* On the last entry: it was there before us, so it is not emitted,
	 * but it is where a restart goes on. */
	r = sd_journal_get_cursor(jd->j, &jd->cursor);
	if (r < 0)
		jd->cursor = NULL;
	jd->changed = jd->cursor != NULL;
	return 0;
}

int
journald_open(const struct journald_opts *o, struct journald **ret)
{
	struct journald *jd;
	struct replay rp = { 0 };
	uint64_t seq;
	int r;

	jd = xcalloc(1, sizeof(*jd));
	jd->fd = -1;
	jd->dirfd = -1;
	jd->journal = o->journal;
	jd->writer = o->writer;
	jd->emit = o->emit;
	jd->data = o->data;
	jd->source = xstrdup(o->dir != NULL ? o->dir : "");
	jd->line = xmalloc(LOGS_MAX_LINE);
	jd->message = xmalloc(LOGS_MAX_LINE);
	buf_init(&jd->json, JOURNAL_MAX_RECORD);
	jd->dirfd = state_subdir_open(o->statefd, "logs");
	if (jd->dirfd < 0) {
		r = jd->dirfd;
		goto fail;
	}
	if (o->dir != NULL)
		r = sd_journal_open_directory(&jd->j, o->dir, 0);
	else
		r = sd_journal_open(&jd->j, SD_JOURNAL_LOCAL_ONLY);
	if (r < 0)
		goto fail;
	/* Right after opening: changes from here on wake the descriptor. */
	jd->fd = sd_journal_get_fd(jd->j);
	if (jd->fd < 0) {
		r = jd->fd;
		goto fail;
	}
	/* Whole messages up to the line cap (the default cuts at 64 KiB with
	 * the field name). */
	(void)sd_journal_set_data_threshold(jd->j, LOGS_MAX_LINE + 64);
	seq = load_position(jd);
	if (jd->cursor != NULL && seq > 0) {
		rp.jd = jd;
		buf_init(&rp.s, JD_CURSOR_MAX);
		r = journal_read(o->statefd, seq + 1, replay_record, &rp, NULL);
		if (r < 0 && r != -ENOENT)
			log_warn("logs", "reading the agent journal after the saved journal position: %s",
				strerror(-r));
		buf_release(&rp.s);
		if (rp.n > 0)
			log_debug("logs", "%llu journal entries journaled after the last save",
				(unsigned long long)rp.n);
	}
	r = seek_start(jd);
	if (r < 0)
		goto fail;
	log_debug("logs", "following %s from %s", jd->source[0] ? jd->source : "the local journal",
		jd->cursor != NULL ? jd->cursor : "its start (empty)");
	read_entries(jd);
	save_position(jd);
	*ret = jd;
	return 0;
fail:
	journald_close(jd);
	return r;
}

int
journald_fd(const struct journald *jd)
{
	return jd->fd;
}

void
journald_read(struct journald *jd, bool tick)
{
	int r = sd_journal_process(jd->j);	/* also empties the descriptor */

	if (r < 0 && !jd->err_said) {
		log_warn("logs", "journal: %s", strerror(-r));
		jd->err_said = true;
	}
	read_entries(jd);
	if (tick)
		save_position(jd);
}

bool
journald_busy(const struct journald *jd)
{
	return jd->more;
}

void
journald_close(struct journald *jd)
{
	if (jd == NULL)
		return;
	if (jd->writer != NULL && jd->dirfd >= 0 && jd->j != NULL)
		save_position(jd);
	if (jd->j != NULL)
		sd_journal_close(jd->j);	/* closes fd too */
	if (jd->dirfd >= 0)
		close(jd->dirfd);
	free(jd->source);
	free(jd->cursor);
	free(jd->line);
	free(jd->message);
	buf_release(&jd->json);
	free(jd);
}
