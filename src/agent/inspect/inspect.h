/*
 * inspect.h - web-content inspection of guarded trees: harmful keywords and
 * hidden links (暗链).
 *
 * An inspector holds the keyword list (from list files: one keyword per line,
 * UTF-8, '#' starts a comment line) and the site's own hosts. It is built
 * once and then only read, so one inspector may serve any number of calls.
 *
 * Only files whose name ends in .html/.htm/.shtml/.php/.jsp/.asp/.aspx/.js/.txt
 * (any case) and that are at most INSPECT_MAX_BYTES are inspected.
 */
#ifndef YINGJI_AGENT_INSPECT_H
#define YINGJI_AGENT_INSPECT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define INSPECT_MAX_BYTES	(8u << 20)
#define INSPECT_MAX_KEYWORD	256	/* longer lines in a keyword file are refused */

struct inspector;

struct inspect_finding {
	const char	*kind;		/* "keyword" or "hidden_link" (static) */
	char		 what[512];	/* the keyword (UTF-8) or the link, truncated */
	uint64_t	 offset;	/* byte offset in the content (of the UTF-8
					 * text when a GB18030 page was converted) */
};

int	inspector_new(struct inspector **ret);
void	inspector_free(struct inspector *in);
/* Add every keyword of a list file. -errno (-EINVAL: a line is too long or
 * is not UTF-8). */
int	inspector_add_keywords_file(struct inspector *in, const char *path);
/* Add one keyword (UTF-8, ASCII letters matched in any case). */
int	inspector_add_keyword(struct inspector *in, const char *kw);
/* A host of the site itself: links to it (or to its subdomains) never count.
 * With none given, every absolute http(s) link in a hidden block counts. */
int	inspector_add_own_host(struct inspector *in, const char *host);
size_t	inspector_keywords(const struct inspector *in);

/* Whether a file of that name (last component or path) and size is inspected. */
bool	inspect_wants(const char *name, uint64_t size);

/* Inspect data[0..len). Returns 1 and fills *ret with the first finding
 * (keywords are looked for first), 0 when clean, -E2BIG above the cap. in
 * may be NULL (hidden links only). */
int	inspect_content(const struct inspector *in, const char *data, size_t len,
		struct inspect_finding *ret);
/* Read path (relative to dirfd, not following a final symlink) and inspect
 * it; 0 too when the name or size is not inspected. */
int	inspect_file(const struct inspector *in, int dirfd, const char *path,
		struct inspect_finding *ret);

/* Inspect the regular file open at fd (read from offset 0 with pread; the
 * offset is not moved); 0 too when it is above the cap or not a regular file. */
int	inspect_fd(const struct inspector *in, int fd, struct inspect_finding *ret);

#endif
