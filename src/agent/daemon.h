/*
 * daemon.h - `yingji-agent run`: the guard loop. One thread owns the guards and
 * reacts to the watcher; the journal has its own writer thread, so a restore
 * never waits for an fsync.
 */
#ifndef YINGJI_AGENT_DAEMON_H
#define YINGJI_AGENT_DAEMON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct inspector;

struct maintenance_window {
	uint8_t	days;		/* bit 0 = Sunday ... bit 6 = Saturday */
	int	start_min;	/* minutes after local midnight (Asia/Shanghai) */
	int	end_min;
};

struct daemon_opts {
	const char			*state;
	char				**guards;	/* absolute, normalised */
	size_t				 nguards;
	bool				 lock;
	const char			*watcher;	/* "auto", "fanotify", "inotify" */
	uint64_t			 max_store_bytes;
	int64_t				 fold_window_ns;
	int64_t				 rescan_interval_ns;	/* 0: never */
	unsigned			 fold_threshold;
	uint64_t			 journal_max_bytes;	/* 0: default (256 MiB) */
	uint64_t			 bulk_rate;	/* bulk events/s to the centre; 0: no limit */
	char				**logs;		/* log files to follow, absolute */
	size_t				 nlogs;
	bool				 journal;	/* follow the systemd journal */
	const char			*journal_dir;	/* its files here, not the local journal */
	struct maintenance_window	*windows;
	size_t				 nwindows;
	const struct inspector		*inspector;	/* content inspection of publishes and tampers */
	/* admin addresses no first-response block or isolation may cut (the
	 * centre's and loopback always are); at most 8 */
	char				 allow[8][64];
	size_t				 nallow;
};

/* Run until SIGINT or SIGTERM. Returns the exit status (0, or 2 on error). */
int	daemon_run(const struct daemon_opts *o);
/* "Sat,Sun 02:00-04:00" or "daily 01:30-02:00" (local time). -EINVAL otherwise. */
int	maintenance_parse(const char *s, struct maintenance_window *ret);

#endif
