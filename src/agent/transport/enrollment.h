/*
 * enrollment.h - what enrolling leaves in the state directory:
 *   server.json    {"server":"HOST:PORT","agent":ID,"name":"..."}
 *   tls/agent.key  the agent's private key (0600)
 *   tls/agent.crt  its certificate (CN = the agent id)
 *   tls/ca.crt     the centre's CA: the only trust anchor for the server
 */
#ifndef YINGJI_AGENT_ENROLLMENT_H
#define YINGJI_AGENT_ENROLLMENT_H

#include <stdint.h>

#define ENROLLMENT_FILE	"server.json"

struct enrollment {
	char	server[256];
	int64_t	agent;
	char	name[128];
	char	key_path[4096], cert_path[4096], ca_path[4096];
};

int	enrollment_save(int statefd, const char *server, int64_t agent, const char *name,
		const char *key_pem, const char *cert_pem, const char *ca_pem);
/* -ENOENT when the agent was never enrolled. state_path is the directory's
 * path (for the TLS file paths). */
int	enrollment_load(int statefd, const char *state_path, struct enrollment *ret);

#endif
