/*
 * channel.h - the agent's end of the agent channel: a TCP connection to the
 * centre inside TLS 1.3, framed by lib/proto/wire.h. The socket is
 * non-blocking; every call is bounded by a deadline.
 */
#ifndef YINGJI_AGENT_CHANNEL_H
#define YINGJI_AGENT_CHANNEL_H

#include <stdbool.h>
#include <stdint.h>

#include "core/buf.h"
#include "proto/wire.h"
#include "tls/tls.h"

struct channel {
	int		 fd;
	struct tls_conn	*tls;
	struct buf	 in, out;	/* received, not yet decoded; to send */
	size_t		 in_off, out_off;
	char		 error[256];	/* why the last call failed */
};

/* Connect to "HOST:PORT" and finish the TLS handshake within timeout_ms. */
int	channel_open(struct channel *ch, struct tls_ctx *ctx, const char *hostport, int timeout_ms);
void	channel_close(struct channel *ch);	/* accepts a closed one */
/* Write what is queued in ch->out without waiting: 0 or -errno. */
int	channel_flush(struct channel *ch);
/* Read what the socket has without waiting: 0, -EPIPE at the end, -errno. */
int	channel_fill(struct channel *ch);
/* The next whole frame in ch->in: 1 with *ret (valid until the next
 * channel_fill), 0 when none yet, -EPROTO/-E2BIG for garbage. */
int	channel_next(struct channel *ch, struct wire_frame *ret);
/* Send everything queued and wait for the next frame, within timeout_ms. */
int	channel_roundtrip(struct channel *ch, int timeout_ms, struct wire_frame *ret);
/* poll() events to wait for. */
short	channel_poll_events(const struct channel *ch);
/* Parse "HOST:PORT" / "[v6]:PORT"; -EINVAL. */
int	hostport_split(const char *s, char *host, size_t hostlen, char *port, size_t portlen);

#endif
