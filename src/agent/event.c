/* event.c - event names, JSON serialisation, and writer details from /proc. */
#include "agent/event.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "core/json.h"
#include "core/timeutil.h"
#include "tls/sha256.h"
#include "core/banned.h"

static const char *const type_names[] = {
	[EV_TAMPER] = "tamper",
	[EV_TAMPER_PERSISTENT] = "tamper_persistent",
	[EV_DRIFT] = "drift",
	[EV_RESCAN] = "rescan",
	[EV_PUBLISH] = "publish",
	[EV_PAUSE] = "pause",
	[EV_RESUME] = "resume",
	[EV_GUARD_READY] = "guard_ready",
	[EV_GUARD_ERROR] = "guard_error",
	[EV_AGENT_START] = "agent_start",
	[EV_AGENT_STOP] = "agent_stop",
	[EV_STATE_ERROR] = "state_error",
	[EV_SCAN_CHANGE] = "change",
	[EV_CONTENT_BLOCKED] = "content_blocked",
};

static const char *const action_names[] = {
	[ACT_NONE] = "none",
	[ACT_RESTORED] = "restored",
	[ACT_QUARANTINED] = "quarantined",
	[ACT_RECREATED] = "recreated",
	[ACT_ALERTED] = "alerted",
	[ACT_FAILED] = "failed",
	[ACT_ACCEPTED] = "accepted",
	[ACT_BLOCKED] = "blocked",
};

static const char *const change_names[] = {
	"added", "removed", "content", "mode", "owner", "type", "link", "mtime", "inode",
};

void
event_init(struct event *ev, enum event_type type)
{
	memset(ev, 0, sizeof(*ev));
	ev->type = type;
	ev->time_ns = now_realtime_ns();
	ev->count = 1;
}

const char *
event_type_name(enum event_type type)
{
	if ((size_t)type >= sizeof(type_names) / sizeof(type_names[0]) || type_names[type] == NULL)
		return "unknown";
	return type_names[type];
}

const char *
event_action_name(enum event_action action)
{
	if ((size_t)action >= sizeof(action_names) / sizeof(action_names[0]))
		return "unknown";
	return action_names[action];
}

void
event_changes_str(unsigned changes, char *out, size_t outlen)
{
	size_t n = 0;

	if (outlen == 0)
		return;
	out[0] = '\0';
	for (size_t i = 0; i < sizeof(change_names) / sizeof(change_names[0]); i++) {
		int k;

		if (!(changes & (1u << i)))
			continue;
		k = snprintf(out + n, outlen - n, "%s%s", n ? "," : "", change_names[i]);
		if (k < 0 || (size_t)k >= outlen - n)
			break;
		n += (size_t)k;
	}
}

int
event_to_json(const struct event *ev, struct buf *out)
{
	char when[48], changes[128], hex[SHA256_HEX_LEN + 1];
	struct json j;

	json_begin(&j, out);
	json_key_str(&j, "type", event_type_name(ev->type));
	time_format_local(ev->time_ns, when, sizeof(when));
	json_key_str(&j, "time", when);
	json_key_i64(&j, "time_ns", ev->time_ns);
	if (ev->guard != NULL)
		json_key_str(&j, "guard", ev->guard);
	if (ev->path != NULL)
		json_key_str(&j, "path", ev->path);
	if (ev->changes != 0) {
		event_changes_str(ev->changes, changes, sizeof(changes));
		json_key_str(&j, "changes", changes);
	}
	if (ev->has_old_hash) {
		sha256_to_hex(ev->old_hash, hex);
		json_key_str(&j, "old_sha256", hex);
	}
	if (ev->has_new_hash) {
		sha256_to_hex(ev->new_hash, hex);
		json_key_str(&j, "new_sha256", hex);
	}
	if (ev->writer.pid > 0) {
		json_key_object(&j, "writer");
		json_key_i64(&j, "pid", ev->writer.pid);
		if (ev->writer.uid_known)
			json_key_u64(&j, "uid", ev->writer.uid);
		if (ev->writer.exe[0] != '\0')
			json_key_str(&j, "exe", ev->writer.exe);
		if (ev->writer.cmdline[0] != '\0')
			json_key_str(&j, "cmdline", ev->writer.cmdline);
		json_close(&j);
	}
	if (ev->action != ACT_NONE)
		json_key_str(&j, "action", event_action_name(ev->action));
	if (ev->latency_ns > 0)
		json_key_i64(&j, "latency_ns", ev->latency_ns);
	if (ev->count > 1)
		json_key_u64(&j, "count", ev->count);
	if (ev->quarantine != NULL)
		json_key_str(&j, "quarantine", ev->quarantine);
	if (ev->files > 0 || ev->bytes > 0) {
		json_key_u64(&j, "files", ev->files);
		json_key_u64(&j, "bytes", ev->bytes);
	}
	if (ev->content_kind != NULL) {
		json_key_object(&j, "content");
		json_key_str(&j, "kind", ev->content_kind);
		json_key_str(&j, "what", ev->content_what != NULL ? ev->content_what : "");
		json_key_u64(&j, "offset", ev->content_offset);
		json_close(&j);
	}
	if (ev->category != NULL)
		json_key_str(&j, "category", ev->category);
	if (ev->detail != NULL)
		json_key_str(&j, "detail", ev->detail);
	return json_end(&j);
}

/* Read a small /proc file of pid into out (NUL-terminated); returns bytes read or -errno. */
static ssize_t
read_proc_file(pid_t pid, const char *name, char *out, size_t outlen)
{
	char path[64];
	ssize_t n;
	int fd, r;

	snprintf(path, sizeof(path), "/proc/%d/%s", (int)pid, name);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	n = read(fd, out, outlen - 1);
	r = errno;
	close(fd);
	if (n < 0)
		return -r;
	out[n] = '\0';
	return n;
}

void
event_writer_from_pid(struct event_writer *w, pid_t pid)
{
	char path[64], status[2048];
	ssize_t n;
	char *uid;

	memset(w, 0, sizeof(*w));
	w->pid = pid;
	if (pid <= 0)
		return;
	snprintf(path, sizeof(path), "/proc/%d/exe", (int)pid);
	n = readlink(path, w->exe, sizeof(w->exe) - 1);
	if (n > 0)
		w->exe[n] = '\0';
	n = read_proc_file(pid, "cmdline", w->cmdline, sizeof(w->cmdline));
	for (ssize_t i = 0; i + 1 < n; i++)
		if (w->cmdline[i] == '\0')
			w->cmdline[i] = ' ';
	if (read_proc_file(pid, "status", status, sizeof(status)) > 0 &&
		(uid = strstr(status, "\nUid:")) != NULL) {
		unsigned long v;

		if (sscanf(uid + 5, "%lu", &v) == 1) {
			w->uid = (uid_t)v;
			w->uid_known = true;
		}
	}
}
