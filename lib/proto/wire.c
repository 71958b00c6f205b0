/*
 * wire.c - encoding and bounded, incremental decoding of the frames on the
 * agent channel (see wire.h for the layout). Integers are read and written a
 * byte at a time, so neither alignment nor the host's byte order matters.
 */
#include "proto/wire.h"

#include <errno.h>
#include <stdbool.h>
#include <string.h>

#include "core/hex.h"
#include "core/banned.h"

#define WIRE_ACK_BODY_LEN	9	/* lane u8, seq u64 */
#define WIRE_ID_LEN		8	/* COMMAND, RESULT: id u64 */

/* Two's complement without relying on the implementation-defined conversion
 * of an out-of-range uint64_t to int64_t. */
static int64_t
u64_to_i64(uint64_t u)
{
	if (u <= (uint64_t)INT64_MAX)
		return (int64_t)u;
	return -(int64_t)(~u) - 1;
}

static bool
is_json_type(unsigned type)
{
	switch (type) {
	case WIRE_ENROLL:
	case WIRE_ENROLLED:
	case WIRE_HELLO:
	case WIRE_WELCOME:
	case WIRE_HEARTBEAT:
	case WIRE_ERROR:
		return true;
	default:
		return false;
	}
}

/* Is a body of n bytes long enough (or, for ACK, exactly right) for type?
 * -EPROTO for an unknown type or a wrong size. Needs only the header. */
static int
check_body_len(unsigned type, size_t n)
{
	switch (type) {
	case WIRE_EVENT:
		return n >= WIRE_EVENT_HEADER_LEN ? 0 : -EPROTO;
	case WIRE_ACK:
		return n == WIRE_ACK_BODY_LEN ? 0 : -EPROTO;
	case WIRE_COMMAND:
	case WIRE_RESULT:
		return n >= WIRE_ID_LEN ? 0 : -EPROTO;
	default:
		if (is_json_type(type))
			return n > 0 ? 0 : -EPROTO;
		return -EPROTO;
	}
}

long
wire_decode(const void *p, size_t len, struct wire_frame *ret)
{
	const unsigned char *in = p;
	struct wire_frame f = { 0 };
	const unsigned char *body;
	size_t body_len;
	uint32_t flen;
	unsigned type;
	int r;

	if (len < WIRE_HEADER_LEN)
		return 0;
	flen = le32_get(in);
	if (flen == 0)
		return -EPROTO;
	if (flen > WIRE_MAX_FRAME)
		return -E2BIG;
	type = in[4];
	body_len = (size_t)flen - 1;
	/* Everything that depends only on the header is decided now, before the
	 * body (up to a MiB) has arrived. */
	r = check_body_len(type, body_len);
	if (r < 0)
		return r;
	if (len - 4 < flen)
		return 0;

	body = in + WIRE_HEADER_LEN;
	f.type = (enum wire_type)type;
	switch (type) {
	case WIRE_EVENT:
		f.lane = body[0];
		f.seq = le64_get(body + 1);
		f.time_ns = u64_to_i64(le64_get(body + 9));
		if (f.lane >= WIRE_LANES || f.seq == 0)
			return -EPROTO;
		body += WIRE_EVENT_HEADER_LEN;
		body_len -= WIRE_EVENT_HEADER_LEN;
		break;
	case WIRE_ACK:
		f.lane = body[0];
		f.seq = le64_get(body + 1);
		if (f.lane >= WIRE_LANES)
			return -EPROTO;
		body += WIRE_ACK_BODY_LEN;
		body_len = 0;
		break;
	case WIRE_COMMAND:
	case WIRE_RESULT:
		f.id = le64_get(body);
		body += WIRE_ID_LEN;
		body_len -= WIRE_ID_LEN;
		break;
	default:
		break;
	}
	f.body = (const char *)body;
	f.body_len = body_len;

	*ret = f;
	return (long)flen + 4;
}

/* Append a frame made of head[0..head_len) (after the length and type) and
 * body[0..body_len). All or nothing: on failure out is as it was. */
static int
put_frame(struct buf *out, unsigned type, const unsigned char *head, size_t head_len,
	const char *body, size_t body_len)
{
	unsigned char hdr[WIRE_HEADER_LEN];
	size_t old_len = out->len, flen;
	int r;

	if (body_len > WIRE_MAX_FRAME || 1 + head_len + body_len > WIRE_MAX_FRAME)
		return -E2BIG;
	flen = 1 + head_len + body_len;
	if (out->max > 0 && (out->len > out->max || 4 + flen > out->max - out->len))
		return -E2BIG;

	le32_put(hdr, (uint32_t)flen);
	hdr[4] = (unsigned char)type;
	r = buf_append(out, hdr, sizeof(hdr));
	if (r == 0)
		r = buf_append(out, head, head_len);
	if (r == 0)
		r = buf_append(out, body, body_len);
	if (r < 0) {
		/* Not reached given the check above; kept so out never holds half a frame. */
		out->len = old_len;
		out->data[old_len] = '\0';
	}
	return r;
}

int
wire_put_json(struct buf *out, enum wire_type type, const char *json, size_t len)
{
	if (!is_json_type(type) || len == 0)
		return -EINVAL;
	return put_frame(out, type, NULL, 0, json, len);
}

int
wire_put_event(struct buf *out, uint8_t lane, uint64_t seq, int64_t time_ns,
	const char *payload, size_t len)
{
	unsigned char head[WIRE_EVENT_HEADER_LEN];

	if (lane >= WIRE_LANES || seq == 0)
		return -EINVAL;
	head[0] = lane;
	le64_put(head + 1, seq);
	le64_put(head + 9, (uint64_t)time_ns);
	return put_frame(out, WIRE_EVENT, head, sizeof(head), payload, len);
}

int
wire_put_ack(struct buf *out, uint8_t lane, uint64_t seq)
{
	unsigned char head[WIRE_ACK_BODY_LEN];

	if (lane >= WIRE_LANES)
		return -EINVAL;
	head[0] = lane;
	le64_put(head + 1, seq);
	return put_frame(out, WIRE_ACK, head, sizeof(head), NULL, 0);
}

int
wire_put_command(struct buf *out, enum wire_type type, uint64_t id, const char *json,
	size_t len)
{
	unsigned char head[WIRE_ID_LEN];

	if (type != WIRE_COMMAND && type != WIRE_RESULT)
		return -EINVAL;
	le64_put(head, id);
	return put_frame(out, type, head, sizeof(head), json, len);
}

const char *
wire_type_name(enum wire_type type)
{
	static const char *const names[] = {
		[WIRE_ENROLL] = "ENROLL",
		[WIRE_ENROLLED] = "ENROLLED",
		[WIRE_HELLO] = "HELLO",
		[WIRE_WELCOME] = "WELCOME",
		[WIRE_EVENT] = "EVENT",
		[WIRE_ACK] = "ACK",
		[WIRE_HEARTBEAT] = "HEARTBEAT",
		[WIRE_COMMAND] = "COMMAND",
		[WIRE_RESULT] = "RESULT",
		[WIRE_ERROR] = "ERROR",
	};

	if ((unsigned)type >= sizeof(names) / sizeof(names[0]) || names[type] == NULL)
		return "unknown";
	return names[type];
}
