/*
 * shipper.h - the agent's transport: a thread that sends journal records to
 * the centre and lets the journal drop them once the centre acknowledged them.
 *
 * Every record carries its journal sequence number. Security events (tamper,
 * drift, rescan, errors...) go in the urgent lane, ahead of everything else
 * and never throttled; informational ones (start, stop, publish, pause...) in
 * the bulk lane, limited to bulk_rate per second. Each lane is acknowledged
 * cumulatively; on reconnecting, WELCOME says what the centre has and the
 * shipper resends from there. Only records already on disk are sent, so a
 * sequence number the centre has seen is never given to another event after
 * a crash. Commands the centre pushes (ping, status) are answered here.
 */
#ifndef YINGJI_AGENT_SHIPPER_H
#define YINGJI_AGENT_SHIPPER_H

#include <stddef.h>
#include <stdint.h>

#include "agent/journal/journal.h"
#include "core/buf.h"
#include "agent/transport/enrollment.h"

struct shipper;

struct shipper_opts {
	int			 statefd;
	struct journal		*journal;
	const struct enrollment	*enrollment;
	uint64_t		 bulk_rate;	/* bulk events per second; 0: no limit */
	/* The "respond" command (first-response actions): called on the
	 * shipper's thread with the command's JSON; writes the result object
	 * into out. NULL: answered "no responder". */
	void			(*respond)(void *data, const char *json, size_t len,
					struct buf *out);
	void			*respond_data;
};

int	shipper_start(const struct shipper_opts *o, struct shipper **ret);
/* Stop: first wait up to drain_ms for everything durable to be acknowledged. */
void	shipper_stop(struct shipper *sh, int drain_ms);
/* For status: connected or not, and what the centre has not acknowledged. */
void	shipper_state(struct shipper *sh, int *ret_connected, uint64_t *ret_backlog);
/* The lane of a journal record, from its "type". */
int	shipper_lane_of(const char *payload, size_t len);

#endif
