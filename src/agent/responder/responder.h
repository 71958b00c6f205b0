/*
 * responder.h - first-response actions on this host (issue 6), the only part
 * of Yingji that acts as root: block an address or range (in and out),
 * isolate the host, take a site offline (stop a systemd unit), quarantine a
 * file, kill a process and its children, lock an account and end its
 * sessions; undo where it makes sense; expiry.
 *
 * Firewall actions live in Yingji's own nftables table `inet yingji` (nothing
 * else is ever touched): sets allow4/allow6 (the centre, loopback: accepted
 * first, so no block or isolation can cut the agent off), block4/block6
 * (interval, timeout: the kernel drops an element when it expires), chains
 * input/output (hooked at priority -10) and isolation (empty, or one drop).
 *
 * Active actions are kept in a ledger in the state directory (respond.ledger,
 * one JSON object per line, rewritten atomically); responder_open() re-applies
 * what is active and unexpired (after a restart or a reboot that emptied the
 * table) and marks the rest expired.
 *
 * Requests (the centre's "respond" command, JSON):
 *   {"command":"respond","op":"apply"|"undo","id":N,"action":"block",
 *    "addr":"CIDR","expires_ns":N,"dry_run":bool}   (isolate: no target;
 *    offline: "unit"; quarantine: "path"; kill: "pid"; lock_account: "user")
 * Result: {"ok":bool,"id":N,"action":..,"state":"applied"|"failed"|"undone"|
 *   "expired"|"dry_run","error":"..","detail":"what was done, or for a dry
 *   run exactly what would run","record":{..what a kill or lock found}}.
 * Nothing is reported applied unless it is in place.
 *
 * Not thread-safe: the caller serialises (the daemon holds a mutex).
 */
#ifndef YINGJI_AGENT_RESPONDER_H
#define YINGJI_AGENT_RESPONDER_H

#include <stddef.h>
#include <stdint.h>

#include "core/buf.h"

#define RESPONDER_MAX_ACTIONS	10000
#define RESPONDER_LEDGER	"respond.ledger"

struct responder;

/* allow: addresses no block may cover, the centre's first (nserver of
 * them: without one, isolation is refused), then admin addresses; loopback
 * is always allowed. Sets up the table and re-applies the ledger. -errno
 * (nftables unavailable: -EIO, said in the log). */
int	responder_open(int statefd, const char *const *allow, size_t nallow, size_t nserver,
		struct responder **ret);
void	responder_close(struct responder *r);	/* accepts NULL; leaves the table as it is */
void	responder_handle(struct responder *r, const char *json, size_t len, struct buf *out);
/* Marks expired what is due (the kernel already dropped block elements;
 * isolation is lifted here). Returns how many expired. */
int	responder_tick(struct responder *r, int64_t now_ns);

/* Checks a block target: an IPv4 or IPv6 address or range, not 0/0, not
 * wider than /8 (IPv4) or /16 (IPv6), not loopback, not covering an allowed
 * address. Writes the canonical form ("10.0.0.0/24") into out. 0 or -EINVAL /
 * -EPERM with why. */
int	responder_check_cidr(const char *s, const char *const *allow, size_t nallow, char *out,
		size_t size, const char **why);

#endif
