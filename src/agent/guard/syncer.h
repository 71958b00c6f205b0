/*
 * syncer.h - durability off the restore path. A restore renames verified
 * content into place at once and hands the file to this thread to fdatasync;
 * evidence put in the store is made durable by a syncfs soon after. The site is
 * right immediately; the disk catches up within milliseconds. (A crash in
 * between is harmless: the baseline and the store are durable, and start-up
 * repairs whatever the crash left.)
 *
 * Process-wide. Without syncer_start() (e.g. one-shot commands) every call
 * syncs at once in the caller.
 */
#ifndef YINGJI_AGENT_SYNCER_H
#define YINGJI_AGENT_SYNCER_H

int	syncer_start(void);
/* Drain what is queued, then stop the thread. */
void	syncer_stop(void);
/* fdatasync then close fd (ownership passes to the syncer). */
void	syncer_sync_fd(int fd);
/* syncfs the filesystem of fd soon (fd stays the caller's; it is duplicated). */
void	syncer_sync_fs(int fd);

#endif
