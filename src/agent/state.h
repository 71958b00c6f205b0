/*
 * state.h - the agent's state directory (root-only, 0700): lock, control
 * socket, status.json, guards/<id>/baseline, store/, journal/, quarantine/.
 * One agent per state directory: the running one holds an exclusive flock on
 * "lock", which also holds its pid.
 */
#ifndef YINGJI_AGENT_STATE_H
#define YINGJI_AGENT_STATE_H

#include <stdbool.h>
#include <sys/types.h>

#define STATE_CONTROL_SOCKET	"control.sock"
#define STATE_STATUS_FILE	"status.json"

/* Open (creating with mode 0700 when create is set) the state directory. */
int	state_open(const char *path, bool create, int *ret_fd);
/* Take the lock: -EBUSY when another agent holds it (its pid in *ret_holder). */
int	state_lock(int statefd, int *ret_lockfd, pid_t *ret_holder);
/* Whether a running agent holds the lock (and its pid). */
bool	state_agent_running(int statefd, pid_t *ret_pid);
/* Open (creating it 0700 when missing) a subdirectory of the state
 * directory, never through a symlink: its descriptor, or -errno. */
int	state_subdir_open(int statefd, const char *name);
/* Write name in the state directory atomically (temp file and rename). */
int	state_write_file(int statefd, const char *name, const void *data, size_t len);
/* Read a small file (at most max bytes) into a new NUL-terminated buffer. */
int	state_read_file(int statefd, const char *name, size_t max, char **ret, size_t *ret_len);

#endif
