/* broker_fixture.h - runs the mqtt-fast daemon as a child process for the integration tests:
 * a temporary directory with a generated config and the broker's log, readiness by a bounded
 * connect loop on 127.0.0.1, and a bounded stop (SIGTERM, then SIGKILL).
 *
 * Each test executable uses its own port (22000 + N*10, see tests/CMakeLists.txt) so the
 * suites can run in parallel. Loopback only. */
#ifndef MQTT_FAST_BROKER_FIXTURE_H
#define MQTT_FAST_BROKER_FIXTURE_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/* Upper bound for the readiness wait and for the graceful stop. */
#define FIXTURE_READY_TIMEOUT_MS 5000
#define FIXTURE_STOP_TIMEOUT_MS  5000

struct broker_fixture {
	pid_t pid; /* 0 when not running */
	uint16_t port;
	char dir[256];  /* temporary directory (removed by broker_fixture_stop) */
	char conf[300]; /* dir/mqtt-fast.conf */
	char log[300];  /* dir/broker.log: the broker's stdout and stderr */
	char uri[64];   /* "tcp://127.0.0.1:PORT" for Paho */
};

/* The broker binary: argv[1] when given, else $MQTT_FAST_BIN. Returns a borrowed string or
 * NULL (a message is printed). */
const char *broker_fixture_bin(int argc, char **argv);

/* Writes a config (listener PORT 127.0.0.1, allow_anonymous true, then `extra` verbatim when
 * non-NULL: newline-separated directives), starts `bin -c CONF -v` with its output in the log
 * file, and waits until the port accepts connections (at most FIXTURE_READY_TIMEOUT_MS).
 * Fails when the port is already taken, when the broker exits early or is not ready in time
 * (the log is printed). Borrows bin and extra. 0 or a negative errno. */
int broker_fixture_start(struct broker_fixture *f, const char *bin, uint16_t port,
                         const char *extra);

/* Stops the broker (SIGTERM, bounded wait, then SIGKILL), prints its log when `dump_log` is
 * set, and removes the temporary files. Returns the broker's exit status (0 for a clean exit),
 * 128 + signal when it died from a signal or had to be killed, or a negative errno. Safe to
 * call on a fixture that failed to start. */
int broker_fixture_stop(struct broker_fixture *f, int dump_log);

/* Prints the broker log to stderr. */
void broker_fixture_dump_log(const struct broker_fixture *f);

/* Monotonic clock in milliseconds, and a sleep that resumes after signals. */
int64_t fixture_now_ms(void);
void fixture_sleep_ms(unsigned ms);

#endif
