/*
 * journald.h - the systemd journal as a log source: each entry becomes a
 * "log" event like a followed file's line (logs.h), with the journal's
 * cursor in place of path, offset, dev and ino:
 *
 *   {"type":"log","time":...,"time_ns":...,"source":"journal",
 *    "line":"<RFC 5424 line>","truncated":false,"cursor":"<sd_journal cursor>"}
 *
 * The line is formatted by journal_line.h; lines over LOGS_MAX_LINE are cut
 * and marked truncated. The local journal (SD_JOURNAL_LOCAL_ONLY) or the
 * journal files of one directory (another machine's, say) are read.
 *
 * Position: the cursor of the last entry emitted is saved in
 * <state>/logs/journal at most once a tick, with the agent journal's seq it
 * is valid up to; on start, the "log" records after that seq carry it on
 * (as for files), so a stop or a crash neither loses nor repeats an entry.
 * The very first start (no saved cursor) begins at the end of the journal.
 * When the saved cursor's entry is gone (vacuumed), reading resumes at the
 * first entry still there after it, with a warning.
 *
 * This is the only file that includes <systemd/sd-journal.h>.
 */
#ifndef YINGJI_AGENT_JOURNALD_H
#define YINGJI_AGENT_JOURNALD_H

#include <stdbool.h>

#include "agent/logs/logs.h"

struct journald;

struct journald_opts {
	int			 statefd;
	struct journal		*journal;
	struct journal_writer	*writer;
	const char		*dir;		/* NULL: the local journal */
	logs_emit_fn		 emit;
	void			*data;
};

/* Open the journal, find where reading goes on, read what is there. -errno
 * when the journal or <state>/logs cannot be opened. */
int	journald_open(const struct journald_opts *o, struct journald **ret);
/* The descriptor to poll for input. */
int	journald_fd(const struct journald *jd);
/* The descriptor is readable (or the 1 s tick: tick set, positions saved):
 * read the new entries (at most a turn's share). */
void	journald_read(struct journald *jd, bool tick);
/* Whether entries are left beyond this turn's share (poll without waiting). */
bool	journald_busy(const struct journald *jd);
/* Save the position and free; accepts NULL. Call before the writer stops. */
void	journald_close(struct journald *jd);

#endif
