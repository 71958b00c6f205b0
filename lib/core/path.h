/*
 * path.h - opening paths below a directory without ever following a symlink.
 *
 * Every guarded path is opened with openat_beneath(): no component may be a
 * symlink and the result may not escape the directory (openat2 with
 * RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS; on kernels without openat2, the
 * components are walked one by one with O_NOFOLLOW).
 */
#ifndef YINGJI_PATH_H
#define YINGJI_PATH_H

#include <stddef.h>
#include <sys/types.h>

/* Open rel ("" means dirfd itself) below dirfd. Returns an fd or -errno
 * (-ELOOP when a component is a symlink, -EXDEV when rel escapes). */
int	openat_beneath(int dirfd, const char *rel, int flags, mode_t mode);
/* Open the parent directory of rel below dirfd, and point *ret_name at the last
 * component of rel (inside rel). rel must not be "". */
int	openat_parent_beneath(int dirfd, const char *rel, const char **ret_name);
/* "a/b" + "c" -> "a/b/c"; "" + "c" -> "c". Returns a new string. */
char	*path_join_rel(const char *dir, const char *name);
/* root + "/" + rel (or root when rel is ""). Returns a new string. */
char	*path_join_abs(const char *root, const char *rel);
/* Make an absolute, normalised path without resolving symlinks (".", "..",
 * duplicate slashes removed). Returns a new string or NULL for an empty path. */
char	*path_absolute(const char *path);

#endif
