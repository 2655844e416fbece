/* control.c - the local control channel (`control_socket`, mqtt-fast-ctl): a unix stream
 * socket taking one command line per connection and answering with "ok" or "error: REASON" on
 * the first line, then the output, then closing. Only root and the broker's own user may use it
 * (SO_PEERCRED); the file itself is world-connectable so the peer check alone decides.
 *
 * Commands: `fastpath add FILTER`, `fastpath del FILTER`, `fastpath list`, `stats`. */
#include "control.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "broker.h"
#include "fastpath.h"

#define CONTROL_LINE_MAX  512
#define CONTROL_REPLY_MAX 65536

struct control {
	struct broker *b;
	ev_io io;
	int fd;
	char path[sizeof(((struct sockaddr_un *)0)->sun_path)];
};

/* One command: writes the whole answer into out. */
static void control_command(struct broker *b, char *line, char *out, size_t len)
{
	char *save = NULL;
	char *w1 = strtok_r(line, " \t\r\n", &save);
	char *w2 = w1 ? strtok_r(NULL, " \t\r\n", &save) : NULL;
	char *w3 = w2 ? strtok_r(NULL, " \t\r\n", &save) : NULL;
	char *extra = w3 ? strtok_r(NULL, " \t\r\n", &save) : NULL;
	int rc;

	if (w1 && !strcmp(w1, "stats") && !w2) {
		int n = snprintf(out, len, "ok\n");
		fastpath_stats_text(b, out + n, len - (size_t)n);
	} else if (w1 && !strcmp(w1, "fastpath") && w2 && !strcmp(w2, "list") && !w3) {
		int n = snprintf(out, len, "ok\n");
		fastpath_filter_list(b, out + n, len - (size_t)n);
	} else if (w1 && !strcmp(w1, "fastpath") && w2 && w3 && !extra &&
	           (!strcmp(w2, "add") || !strcmp(w2, "del"))) {
		rc = !strcmp(w2, "add") ? fastpath_filter_add(b, w3) : fastpath_filter_del(b, w3);
		if (rc == 0) {
			snprintf(out, len, "ok\n");
			log_line(&b->log, LOG_LEVEL_NOTICE, NULL, NULL, "control: fastpath %s %s",
			         w2, w3);
		} else {
			snprintf(out, len, "error: fastpath %s '%s': %s\n", w2, w3,
			         rc == -EEXIST   ? "already listed"
			         : rc == -ENOENT ? "not listed"
			         : rc == -EINVAL ? "not a valid topic filter"
			                         : strerror(-rc));
		}
	} else {
		snprintf(out, len,
		         "error: unknown command (fastpath add|del FILTER, fastpath list, "
		         "stats)\n");
	}
}

/* May this peer use the channel? root or the broker's user. */
static bool peer_allowed(int fd)
{
	struct ucred cred;
	socklen_t len = sizeof(cred);
	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) < 0)
		return false;
	return cred.uid == 0 || cred.uid == geteuid();
}

static void write_all(int fd, const char *p, size_t n)
{
	while (n) {
		ssize_t w = write(fd, p, n);
		if (w <= 0)
			return; /* the client went away: nothing to keep */
		p += w;
		n -= (size_t)w;
	}
}

static void control_accept(struct ev_loop *loop, ev_io *w, int revents)
{
	(void)loop;
	(void)revents;
	struct control *ctl = w->data;
	char line[CONTROL_LINE_MAX];
	char *out = NULL;
	int fd = accept4(ctl->fd, NULL, NULL, SOCK_CLOEXEC);
	if (fd < 0)
		return;
	/* A local tool writes its one line at once; a peer that does not is cut off after
	 * 200 ms rather than stalling the broker. */
	struct timeval tv = {.tv_usec = 200000};
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	if (!peer_allowed(fd)) {
		static const char deny[] = "error: permission denied (root or the broker's user)\n";
		write_all(fd, deny, sizeof(deny) - 1);
		goto out;
	}
	ssize_t n = read(fd, line, sizeof(line) - 1);
	if (n <= 0)
		goto out;
	line[n] = '\0';
	if (!memchr(line, '\n', (size_t)n) && n == (ssize_t)sizeof(line) - 1) {
		static const char big[] = "error: command line too long\n";
		write_all(fd, big, sizeof(big) - 1);
		goto out;
	}
	out = malloc(CONTROL_REPLY_MAX);
	if (!out)
		goto out;
	control_command(ctl->b, line, out, CONTROL_REPLY_MAX);
	write_all(fd, out, strlen(out));
out:
	free(out);
	close(fd);
}

/* True when a live process answers on path (another broker owns it). */
static bool socket_in_use(const struct sockaddr_un *sa)
{
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	bool used = fd >= 0 && connect(fd, (const struct sockaddr *)sa, sizeof(*sa)) == 0;
	if (fd >= 0)
		close(fd);
	return used;
}

int control_open(struct broker *b)
{
	const char *path = b->cfg.control_socket;
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	struct control *ctl = NULL;
	int fd = -1, rc = 0;
	if (!path || !*path || !strcmp(path, "none"))
		return 0;
	if (strlen(path) >= sizeof(sa.sun_path)) {
		log_line(&b->log, LOG_LEVEL_WARNING, NULL, NULL,
		         "control_socket %s: path too long; no control channel", path);
		return 0;
	}
	memcpy(sa.sun_path, path, strlen(path));
	if (socket_in_use(&sa)) {
		log_line(&b->log, LOG_LEVEL_WARNING, NULL, NULL,
		         "control_socket %s: another broker answers there; no control channel",
		         path);
		return 0;
	}
	/* A socket left by a broker that crashed is replaced; anything else at that path is
	 * never removed. */
	struct stat st;
	if (lstat(path, &st) == 0) {
		if (!S_ISSOCK(st.st_mode)) {
			log_line(
			        &b->log, LOG_LEVEL_WARNING, NULL, NULL,
			        "control_socket %s: exists and is not a socket; no control channel",
			        path);
			return 0;
		}
		unlink(path);
	}
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0 || bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 || listen(fd, 16) < 0) {
		log_line(&b->log, LOG_LEVEL_WARNING, NULL, NULL,
		         "control_socket %s: %s; no control channel", path, strerror(errno));
		goto fail;
	}
	(void)chmod(path, 0666); /* SO_PEERCRED decides who may talk */
	if (!(ctl = calloc(1, sizeof(*ctl)))) {
		rc = -ENOMEM;
		goto fail;
	}
	ctl->b = b;
	ctl->fd = fd;
	memcpy(ctl->path, path, strlen(path) + 1);
	ev_io_init(&ctl->io, control_accept, fd, EV_READ);
	ctl->io.data = ctl;
	ev_io_start(b->loop, &ctl->io);
	b->control = ctl;
	log_line(&b->log, LOG_LEVEL_NOTICE, NULL, NULL, "control channel on %s", path);
	return 0;
fail:
	if (fd >= 0)
		close(fd);
	return rc;
}

void control_close(struct broker *b)
{
	struct control *ctl = b->control;
	if (!ctl)
		return;
	ev_io_stop(b->loop, &ctl->io);
	close(ctl->fd);
	unlink(ctl->path);
	free(ctl);
	b->control = NULL;
}
