/*
 * wire.h - frames on the agent channel (inside mutual TLS 1.3).
 *
 * A frame is: length u32 (of what follows, 1..WIRE_MAX_FRAME), type u8, body.
 * Integers are little-endian. Bodies:
 *
 *   ENROLL    agent→server  JSON {"token","csr","name"}      (only frame allowed
 *                           from a peer without a client certificate)
 *   ENROLLED  server→agent  JSON {"agent","cert","ca"}
 *   HELLO     agent→server  JSON {"agent","name","version"}
 *   WELCOME   server→agent  JSON {"agent","acked":[urgent,bulk],"heartbeat_ms"}
 *   EVENT     agent→server  lane u8, seq u64, time_ns i64, payload (one JSON object).
 *                           seq is the agent's journal sequence number: unique per
 *                           agent across both lanes, increasing within each lane
 *   ACK       server→agent  lane u8, seq u64: every event of that lane with a
 *                           sequence number <= seq is committed
 *   HEARTBEAT either way    JSON {"time_ns","backlog"} (backlog: agent only)
 *   COMMAND   server→agent  id u64, JSON {"command", ...}
 *   RESULT    agent→server  id u64, JSON {"ok", ...}
 *   ERROR     either way    JSON {"error":"<code>","message"}; the sender closes
 *
 * The decoder is incremental and bounded: wire_decode() looks at the bytes
 * received so far and says whether a whole frame is there. Nothing is trusted:
 * a length of 0 or over WIRE_MAX_FRAME, an unknown type, or a body too short
 * for its type is -EPROTO (-E2BIG for the length), and the connection is to
 * be dropped with an ERROR frame.
 */
#ifndef YINGJI_WIRE_H
#define YINGJI_WIRE_H

#include <stddef.h>
#include <stdint.h>

#include "core/buf.h"

#define WIRE_MAX_FRAME		((1u << 20) + 64)	/* an event payload up to 1 MiB */
#define WIRE_HEADER_LEN		5
#define WIRE_EVENT_HEADER_LEN	17		/* lane, seq, time_ns */

enum wire_type {
	WIRE_ENROLL = 1,
	WIRE_ENROLLED,
	WIRE_HELLO,
	WIRE_WELCOME,
	WIRE_EVENT,
	WIRE_ACK,
	WIRE_HEARTBEAT,
	WIRE_COMMAND,
	WIRE_RESULT,
	WIRE_ERROR,
};

enum wire_lane {
	WIRE_LANE_URGENT = 0,	/* security events: first, never throttled */
	WIRE_LANE_BULK = 1,	/* everything else */
	WIRE_LANES
};

struct wire_frame {
	enum wire_type	 type;
	/* EVENT, ACK */
	uint8_t		 lane;
	uint64_t	 seq;
	int64_t		 time_ns;
	/* COMMAND, RESULT */
	uint64_t	 id;
	/* The JSON body or event payload: points into the input, not owned. */
	const char	*body;
	size_t		 body_len;
};

/* Decode the frame at the start of p[0..len). Returns the frame's total size
 * (> 0) and fills *ret; 0 when more bytes are needed; -E2BIG or -EPROTO. */
long	wire_decode(const void *p, size_t len, struct wire_frame *ret);

/* Append one frame to out. -E2BIG when it would exceed WIRE_MAX_FRAME or out's cap
 * (out is then unchanged); -EINVAL for a frame wire_decode() would refuse (a type
 * that does not fit the function, an empty JSON body, lane >= WIRE_LANES, an
 * event with seq 0). */
int	wire_put_json(struct buf *out, enum wire_type type, const char *json, size_t len);
int	wire_put_event(struct buf *out, uint8_t lane, uint64_t seq, int64_t time_ns,
		const char *payload, size_t len);
int	wire_put_ack(struct buf *out, uint8_t lane, uint64_t seq);
int	wire_put_command(struct buf *out, enum wire_type type, uint64_t id, const char *json,
		size_t len);	/* COMMAND or RESULT */
const char *wire_type_name(enum wire_type type);

#endif
