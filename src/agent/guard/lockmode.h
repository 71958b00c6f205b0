/*
 * lockmode.h - lock mode: the immutable attribute (chattr +i) on guarded files
 * and directories, so tampering fails at the kernel instead of being undone.
 * Publishing lifts it and sets it again.
 */
#ifndef YINGJI_AGENT_LOCKMODE_H
#define YINGJI_AGENT_LOCKMODE_H

#include <stdbool.h>

struct guard;

/* Set (on) or clear the attribute on every recorded file and directory.
 * -EOPNOTSUPP when the filesystem has no immutable attribute. */
int	lock_tree(struct guard *g, bool on);
/* The same for one entry (rel, "" for the root). */
int	lock_path(struct guard *g, const char *rel, bool on);

#endif
