/*
 * nft.h - nftables through libnftables: the only file that includes
 * <nftables/libnftables.h> is nft.c. A batch of commands runs atomically (all
 * or nothing), as `nft -f` would.
 */
#ifndef YINGJI_AGENT_NFT_H
#define YINGJI_AGENT_NFT_H

#include "core/buf.h"

/* Run cmds (nft syntax). 0, or -EIO with nft's own error text in err (and
 * -ENOMEM when no context could be made). out (may be NULL) gets what the
 * commands print (for list). */
int	nft_run(const char *cmds, struct buf *out, struct buf *err);

#endif
