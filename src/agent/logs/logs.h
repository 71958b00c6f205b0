/*
 * logs.h - log collection: follow text files (web server access and error
 * logs, auth.log, syslog, any path) and turn each line into a "log" event:
 *
 *   {"type":"log","time":...,"time_ns":...,"path":"<file>","line":"<the line>",
 *    "truncated":false,"offset":N,"dev":D,"ino":I}
 *
 * offset is the file offset just past the line's newline (where reading goes
 * on); dev and ino name the file the line was read from. Lines longer than
 * LOGS_MAX_LINE keep their first LOGS_MAX_LINE bytes with "truncated":true. A
 * last line without a newline waits for it, or for the file's rotation.
 *
 * Files are followed with inotify on their directories and re-checked on the
 * daemon's 1 s tick. Rotation by rename: the old file is read to its end, then
 * the new one from offset 0. copytruncate (size below our offset): read again
 * from 0. A file that does not exist yet is read from 0 when it appears; one
 * that exists at the very first start (no saved position) from its end.
 *
 * Positions (dev, ino, offset, CRC-32C of the first 64 bytes) are saved in
 * <state>/logs/positions at most once a tick, with the journal sequence number
 * they are valid up to; on start the journal records after it move them on,
 * so a crash neither loses nor repeats a line.
 */
#ifndef YINGJI_AGENT_LOGS_H
#define YINGJI_AGENT_LOGS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define LOGS_MAX_FILES		256
#define LOGS_MAX_LINE		(64u * 1024)
#define LOGS_TURN_LINES		10000	/* lines per file per loop turn */

struct journal;
struct journal_writer;
struct logs;

/* Where each event goes (the daemon journals it). */
typedef void (*logs_emit_fn)(int64_t time_ns, const void *payload, size_t len, void *data);

struct logs_opts {
	int			 statefd;
	struct journal		*journal;
	struct journal_writer	*writer;
	char			**paths;	/* absolute */
	size_t			 npaths;	/* at most LOGS_MAX_FILES */
	logs_emit_fn		 emit;
	void			*data;
};

/* Load positions, catch up from the journal, watch. -E2BIG for too many
 * paths; -errno when inotify or <state>/logs cannot be had. */
int	logs_open(const struct logs_opts *o, struct logs **ret);
/* The inotify descriptor to poll for input. */
int	logs_fd(const struct logs *l);
/* The descriptor is readable: read what changed. */
void	logs_read_events(struct logs *l);
/* The 1 s tick: re-check every file, re-add lost watches, save positions. */
void	logs_tick(struct logs *l);
/* Whether a file still has lines beyond this turn's share (poll without waiting). */
bool	logs_busy(const struct logs *l);
/* Another turn for the files that had more. */
void	logs_continue(struct logs *l);
/* Save positions and free; accepts NULL. Call before the journal writer stops. */
void	logs_close(struct logs *l);

#endif
