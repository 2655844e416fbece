/* ctl.c - mqtt-fast-ctl: talks to a running broker over its control socket.
 *
 *   mqtt-fast-ctl [-s PATH] fastpath add FILTER | fastpath del FILTER | fastpath list | stats
 *
 * Sends one command line, prints the answer. Exit 0 when the broker answered "ok", 1 when it
 * refused (its reason on stderr), 2 on usage errors or when the broker cannot be reached. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#define DEFAULT_SOCKET "/run/mqtt-fast.sock"

static int usage(void)
{
	fprintf(stderr, "usage: mqtt-fast-ctl [-s SOCKET] fastpath add|del FILTER\n"
	                "       mqtt-fast-ctl [-s SOCKET] fastpath list\n"
	                "       mqtt-fast-ctl [-s SOCKET] stats\n"
	                "SOCKET defaults to " DEFAULT_SOCKET " (the broker's control_socket)\n");
	return 2;
}

/* Reads the whole answer (the broker closes after it). Returns an owned string or NULL. */
static char *read_answer(int fd)
{
	size_t len = 0, cap = 4096;
	char *buf = malloc(cap);
	while (buf) {
		if (len + 1 == cap) {
			char *nb = realloc(buf, cap * 2);
			if (!nb) {
				free(buf);
				return NULL;
			}
			buf = nb;
			cap *= 2;
		}
		ssize_t n = read(fd, buf + len, cap - 1 - len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		len += (size_t)n;
	}
	if (buf)
		buf[len] = '\0';
	return buf;
}

int main(int argc, char **argv)
{
	const char *path = DEFAULT_SOCKET;
	char line[512];
	int i = 1, rc = 2;
	if (argc > 2 && !strcmp(argv[1], "-s")) {
		path = argv[2];
		i = 3;
	}
	int nargs = argc - i;
	if (nargs == 1 && !strcmp(argv[i], "stats"))
		snprintf(line, sizeof(line), "stats\n");
	else if (nargs == 2 && !strcmp(argv[i], "fastpath") && !strcmp(argv[i + 1], "list"))
		snprintf(line, sizeof(line), "fastpath list\n");
	else if (nargs == 3 && !strcmp(argv[i], "fastpath") &&
	         (!strcmp(argv[i + 1], "add") || !strcmp(argv[i + 1], "del"))) {
		if (strpbrk(argv[i + 2], " \t\r\n") || strlen(argv[i + 2]) > 400) {
			fprintf(stderr, "mqtt-fast-ctl: '%s' is not a topic filter\n", argv[i + 2]);
			return 2;
		}
		snprintf(line, sizeof(line), "fastpath %s %s\n", argv[i + 1], argv[i + 2]);
	} else
		return usage();

	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	if (strlen(path) >= sizeof(sa.sun_path)) {
		fprintf(stderr, "mqtt-fast-ctl: socket path too long: %s\n", path);
		return 2;
	}
	memcpy(sa.sun_path, path, strlen(path));
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		fprintf(stderr, "mqtt-fast-ctl: cannot reach the broker at %s: %s\n", path,
		        strerror(errno));
		goto out;
	}
	size_t n = strlen(line);
	if (write(fd, line, n) != (ssize_t)n) {
		fprintf(stderr, "mqtt-fast-ctl: writing to %s: %s\n", path, strerror(errno));
		goto out;
	}
	char *answer = read_answer(fd);
	if (!answer || !*answer) {
		fprintf(stderr, "mqtt-fast-ctl: no answer from %s\n", path);
		free(answer);
		goto out;
	}
	if (!strncmp(answer, "ok\n", 3)) {
		fputs(answer + 3, stdout);
		rc = 0;
	} else {
		fprintf(stderr, "mqtt-fast-ctl: %s", answer);
		rc = 1;
	}
	free(answer);
out:
	if (fd >= 0)
		close(fd);
	return rc;
}
