/*
 * journal.h - the agent's local event journal: append-only segments of
 * checksummed records in <state>/journal/, NNNNNNNNNNNNNNNN.seg (the first
 * sequence number of the segment, 16 hex digits).
 *
 * Record: magic u32 "YJR1", payload length u32, sequence u64, time_ns i64,
 * CRC-32C u32 of (length, seq, time, payload), then the payload (one event as
 * JSON, at most JOURNAL_MAX_RECORD bytes). All little-endian.
 *
 * A crash mid-append leaves a torn tail: readers stop at the first record that
 * does not check out in the last segment, and journal_open() cuts it off, so no
 * whole record is ever lost. Segments rotate at segment_bytes; when the total
 * passes max_bytes the oldest segments are removed and journal_open/append
 * report how many records that dropped (so the caller can say so as an event).
 *
 * Sequence numbers start at 1 and never repeat across restarts: when the last
 * segment holds whole records after a bad one (damage, not a torn tail),
 * journal_open() leaves it as it is and starts a new segment past the highest
 * sequence number it holds. A bad record in any other segment makes readers
 * skip the rest of that segment (with a warning on stderr) and go on with the
 * next one. A struct journal may be used from several threads.
 */
#ifndef YINGJI_AGENT_JOURNAL_H
#define YINGJI_AGENT_JOURNAL_H

#include <stddef.h>
#include <stdint.h>

#define JOURNAL_MAX_RECORD	(1u << 20)

struct journal;

struct journal_opts {
	uint64_t	segment_bytes;	/* default 16 MiB when 0 */
	uint64_t	max_bytes;	/* default 256 MiB when 0 */
};

/* opts may be NULL for the defaults. Creates <state>/journal (0700) if needed.
 * One appender at a time: -EBUSY while another open journal (in any process)
 * holds the journal directory's lock; closing releases it. Readers need none. */
int	journal_open(int state_dirfd, const struct journal_opts *opts, struct journal **ret);
void	journal_close(struct journal *j);	/* accepts NULL; syncs first */
/* Append one record (not yet durable). ret_seq may be NULL. */
int	journal_append(struct journal *j, int64_t time_ns, const void *payload, size_t len,
		uint64_t *ret_seq);
int	journal_sync(struct journal *j);	/* fdatasync the current segment */
uint64_t journal_next_seq(const struct journal *j);
/* The highest sequence number known to be on disk (0: none). Only durable
 * records are shipped: a record lost in a crash must never have been stored
 * by the server, or its sequence number would be used twice. */
uint64_t journal_durable_seq(struct journal *j);
/* Write 1 to the eventfd fd after each successful sync (-1: stop). */
void	journal_set_notify_fd(struct journal *j, int fd);
/* Remove the segments whose records all have seq <= upto_seq (the server
 * has them); the segment being appended to stays. */
int	journal_trim(struct journal *j, uint64_t upto_seq);
/* Records dropped by rotation since the last call (and resets the count). */
uint64_t journal_take_dropped(struct journal *j);

/* Read records with seq >= from_seq, in order, without taking any lock; stops
 * at a torn tail. The callback returns 0 to go on, >0 to stop, <0 for error.
 * Returns 0 (also when the callback stopped it), the callback's error, or
 * -errno (-ENOENT: no journal). *ret_next_seq (may be NULL) is where to go on
 * from next time: one past the last record delivered or skipped as damaged,
 * at least from_seq. */
typedef int (*journal_read_cb)(uint64_t seq, int64_t time_ns, const void *payload,
	size_t len, void *data);
int	journal_read(int state_dirfd, uint64_t from_seq, journal_read_cb cb, void *data,
		uint64_t *ret_next_seq);

/*
 * The asynchronous writer: producers (the guard's restore path) hand records
 * over and return at once; one thread appends them and fsyncs in batches, so
 * restoring never waits for the journal's fsync. Records are delivered in
 * submission order. journal_writer_stop() drains the queue and syncs.
 *
 * Submissions wait in memory. Only when 64 MiB of payload is already waiting
 * (the disk has been failing for a long time) does submit block until there is
 * room: nothing is ever dropped silently. A payload over JOURNAL_MAX_RECORD is
 * refused with an error on stderr. When an append fails (ENOSPC, EROFS, ...)
 * the records stay queued and the writer retries every second;
 * journal_writer_error() says so, for the daemon to report loudly. Stopping
 * retries for five seconds, then gives up on what is left, with an error on
 * stderr saying how many records were lost. The journal stays open: close it
 * after journal_writer_stop().
 */
struct journal_writer;

int	journal_writer_start(struct journal *j, struct journal_writer **ret);
void	journal_writer_submit(struct journal_writer *w, int64_t time_ns, const void *payload,
		size_t len);
/* Block until everything submitted so far is durable: 0, or the error of the
 * first attempt that failed while waiting. */
int	journal_writer_flush(struct journal_writer *w);
/* The error of the last append or sync attempt (-ENOSPC, -EROFS, ...), 0 once
 * writing works again. */
int	journal_writer_error(struct journal_writer *w);
void	journal_writer_stop(struct journal_writer *w);	/* accepts NULL; frees w */

#endif
