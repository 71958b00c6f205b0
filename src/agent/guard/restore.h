/*
 * restore.h - putting one entry back as the baseline recorded it, and moving
 * an unauthorised entry to quarantine. Every write is atomic: a temporary file
 * in the same directory (O_TMPFILE), content verified against its hash while
 * written, fdatasync, owner, mode and mtime set, then rename over the target.
 * Good content is never replaced by partial content.
 */
#ifndef YINGJI_AGENT_RESTORE_H
#define YINGJI_AGENT_RESTORE_H

#include <stdint.h>

#include "agent/guard/baseline.h"

struct guard;

/* Put want (a baseline entry) back at its path, creating missing parent
 * directories from the baseline. Updates want's inode and ctime to the restored
 * entry so later events for it are recognised as ours. For a directory that was
 * missing, its whole recorded content is restored too. Returns 0, -ENODATA when
 * the content is not in the store (above the size cap), or -errno. */
int	restore_entry(struct guard *g, struct fentry *want);
/* Fix mode, owner and mtime of the entry, which must still be inode
 * expect_ino (-ESTALE if it was swapped since it was looked at). */
int	restore_metadata(struct guard *g, struct fentry *want, uint64_t expect_ino);
/* Remove name (any type, recursively) below the directory pdir. */
int	remove_tree(int pdir, const char *name, unsigned depth);
/* Move the entry at rel (whatever it is) to the quarantine area; the new
 * location goes to *ret_where (new string): "quarantine/NAME" in the state
 * directory, or, when that is on another filesystem, an absolute path in
 * .yingji-quarantine beside the guarded root. Never replaces earlier evidence. */
int	quarantine_entry(struct guard *g, const char *rel, char **ret_where);

#endif
