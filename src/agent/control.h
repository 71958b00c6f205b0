/*
 * control.h - the running agent's control socket (<state>/control.sock, 0600):
 * publish, pause and resume are carried out by the agent that watches the
 * tree, so its own writes are never mistaken for tampering.
 *
 * Request: up to CONTROL_MAX_FIELDS NUL-terminated fields (verb, arguments,
 * the caller's login name), at most CONTROL_MAX_REQUEST bytes in all. Reply:
 * "0" (ok) or "1" (error) and a message. Only root may connect (SO_PEERCRED).
 */
#ifndef YINGJI_AGENT_CONTROL_H
#define YINGJI_AGENT_CONTROL_H

#include <stddef.h>
#include <sys/types.h>

#define CONTROL_MAX_REQUEST	16384
#define CONTROL_MAX_FIELDS	8

struct control_request {
	const char	*field[CONTROL_MAX_FIELDS];
	size_t		 nfields;
	uid_t		 uid;
	pid_t		 pid;
};

/* Client: send fields, wait for the reply (at most timeout_ms). *ret_msg is
 * a new string. Returns 0 when the agent said ok, -EREMOTEIO when it refused
 * (message in *ret_msg), -errno when it could not be reached. */
int	control_call(int statefd, const char *const *fields, size_t n, int timeout_ms,
		char **ret_msg);
/* Parse a request buffer; -EBADMSG when it is not a sequence of fields. */
int	control_parse(char *buf, size_t len, struct control_request *ret);
/* Server: bind and listen on the socket in the state directory. */
int	control_listen(int statefd);

#endif
