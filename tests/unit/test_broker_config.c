/* test_broker_config.c - the mosquitto.conf-compatible parser: defaults, every directive, exact
 * error messages and line syntax (CRLF, comments, blanks); files, include_dir, the shipped
 * mqtt-fast.conf and random input: test_broker_config_files.c. */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "config.h"
#include "config_checks.h"
#include "log.h"

static void test_defaults(void)
{
	struct config c;
	char err[256];
	CHECK_EQ(config_load_string("x.conf", "", &c, err, sizeof(err)), 0);
	CHECK_STREQ(err, "");
	CHECK_EQ(c.allow_anonymous, false);
	CHECK_EQ(c.allow_zero_length_clientid, true);
	CHECK_STREQ(c.auto_id_prefix, "auto-");
	CHECK(c.password_file == NULL && c.acl_file == NULL);
	CHECK_EQ(c.max_inflight_messages, 20);
	CHECK_EQ(c.max_queued_messages, 1000);
	CHECK_EQ(c.max_queued_bytes, 0);
	CHECK_EQ(c.max_packet_size, 0);
	CHECK_EQ(c.message_size_limit, 0);
	CHECK_EQ(c.max_keepalive, 65535);
	CHECK_EQ(c.max_topic_alias, 10);
	CHECK_EQ(c.max_topic_length, 65535);
	CHECK_EQ(c.max_topic_levels, 128);
	CHECK_EQ(c.memory_limit, 0);
	CHECK_EQ(c.retain_available, true);
	CHECK_EQ(c.persistent_client_expiration, 0);
	CHECK_EQ(c.sys_interval, 10);
	CHECK_EQ(c.set_tcp_nodelay, true);
	CHECK_EQ(c.persistence, false);
	CHECK(c.persistence_location == NULL);
	CHECK_EQ(c.log_types,
	         LOG_LEVEL_ERR | LOG_LEVEL_WARNING | LOG_LEVEL_NOTICE | LOG_LEVEL_INFO);
	CHECK_EQ(c.log_dests, CONFIG_LOG_DEST_STDERR);
	CHECK(c.log_file == NULL);
	CHECK_EQ(c.log_timestamp, true);
	CHECK(c.pid_file == NULL);
	CHECK(c.user == NULL);
	CHECK_EQ(c.connection_messages, true);
	CHECK_STREQ(c.persistence_file, "mosquitto.db");
	CHECK_EQ(c.autosave_interval, 1800);
	CHECK_EQ(c.autosave_on_changes, false);
	CHECK_EQ(c.log_facility, -1);
	CHECK_EQ(c.warning_count, 0);
	/* No listener line: 1883 on loopback only, as mosquitto 2.0. */
	CHECK_EQ(c.listener_count, 2);
	if (c.listener_count == 2) {
		const struct listener_conf *a = &c.listeners[0], *b = &c.listeners[1];
		CHECK_EQ(a->port, 1883);
		CHECK_STREQ(a->bind_address, "127.0.0.1");
		CHECK_EQ(a->socket_domain, SOCKET_DOMAIN_IPV4);
		CHECK_EQ(b->port, 1883);
		CHECK_STREQ(b->bind_address, "::1");
		CHECK_EQ(b->socket_domain, SOCKET_DOMAIN_IPV6);
		CHECK(a->implicit && b->implicit);
		CHECK_EQ(a->protocol, LISTENER_MQTT);
		CHECK_EQ(a->max_connections, -1);
		CHECK_STREQ(a->source_file, "(default)");
		CHECK_EQ(a->source_line, 0);
	}
	config_free(&c);
	CHECK(c.listeners == NULL && c.auto_id_prefix == NULL);
	config_free(&c); /* twice is harmless */
	config_free(NULL);

	CHECK_EQ(config_init_defaults(&c), 0);
	CHECK_EQ(c.listener_count, 0);
	CHECK_EQ(c.max_inflight_messages, 20);
	config_free(&c);
}

static const char full_conf[] =
        "# every directive mqtt-fast supports\n"
        "per_listener_settings false\n"
        "allow_anonymous true\n"
        "allow_zero_length_clientid false\n"
        "auto_id_prefix gen-\n"
        "password_file /etc/mqtt-fast/passwd\n"
        "acl_file /etc/mqtt-fast/acl file\n"
        "max_inflight_messages 0\n"
        "max_queued_messages 0\n"
        "max_queued_bytes 1048576\n"
        "max_packet_size 20\n"
        "message_size_limit 268435455\n"
        "max_keepalive 10\n"
        "max_topic_alias 65535\n"
        "max_topic_length 300\n"
        "max_topic_levels 7\n"
        "memory_limit 1048576\n"
        "retain_available false\n"
        "persistent_client_expiration 2w\n"
        "sys_interval 0\n"
        "set_tcp_nodelay false\n"
        "persistence true\n"
        "persistence_location /var/lib/mqtt-fast/\n"
        "log_type debug\n"
        "log_type subscribe\n"
        "log_type unsubscribe\n"
        "log_type websockets\n"
        "log_dest stdout\n"
        "log_dest file /var/log/mqtt fast.log\n"
        "log_dest syslog\n"
        "log_timestamp false\n"
        "pid_file /run/mqtt-fast.pid\n"
        "max_connections 5\n" /* before any listener: the implicit listener only */
        "listener 1883\n"
        "max_connections 100\n"
        "socket_domain ipv4\n"
        "listener 8883 192.0.2.1\n"
        "protocol mqtt\n"
        "cafile /etc/ca.pem\n"
        "capath /etc/ca\n"
        "certfile /etc/cert.pem\n"
        "keyfile /etc/key.pem\n"
        "ciphers ECDHE-RSA-AES128-GCM-SHA256\n"
        "tls_version tlsv1.3\n"
        "require_certificate true\n"
        "use_identity_as_username true\n"
        "listener 1884\n"
        "protocol mqttsn\n"
        "socket_domain ipv6\n"
        "listener 8080 ::\n"
        "protocol websockets\n"
        "user mqtt\n"
        "connection_messages false\n"
        "persistence_file broker state.db\n"
        "autosave_interval 0\n"
        "autosave_on_changes true\n"
        "log_facility 7\n";

static void test_full(void)
{
	struct config c;
	char err[256];
	CHECK_EQ(config_load_string("full.conf", full_conf, &c, err, sizeof(err)), 0);
	CHECK_STREQ(err, "");
	CHECK_EQ(c.allow_anonymous, true);
	CHECK_EQ(c.allow_zero_length_clientid, false);
	CHECK_STREQ(c.auto_id_prefix, "gen-");
	CHECK_STREQ(c.password_file, "/etc/mqtt-fast/passwd");
	CHECK_STREQ(c.acl_file, "/etc/mqtt-fast/acl file");
	CHECK_EQ(c.max_inflight_messages, 65535);
	CHECK_EQ(c.max_queued_messages, 0);
	CHECK_EQ(c.max_queued_bytes, 1048576);
	CHECK_EQ(c.max_packet_size, 20);
	CHECK_EQ(c.message_size_limit, 268435455);
	CHECK_EQ(c.max_keepalive, 10);
	CHECK_EQ(c.max_topic_alias, 65535);
	CHECK_EQ(c.max_topic_length, 300);
	CHECK_EQ(c.max_topic_levels, 7);
	CHECK_EQ(c.memory_limit, 1048576);
	CHECK_EQ(c.retain_available, false);
	CHECK_EQ(c.persistent_client_expiration, 14 * 86400);
	CHECK_EQ(c.sys_interval, 0);
	CHECK_EQ(c.set_tcp_nodelay, false);
	CHECK_EQ(c.persistence, true);
	CHECK_STREQ(c.persistence_location, "/var/lib/mqtt-fast/");
	CHECK_EQ(c.log_types, LOG_LEVEL_DEBUG | LOG_LEVEL_SUBSCRIBE | LOG_LEVEL_UNSUBSCRIBE |
	                              LOG_LEVEL_WEBSOCKETS);
	CHECK_EQ(c.log_dests,
	         CONFIG_LOG_DEST_STDOUT | CONFIG_LOG_DEST_FILE | CONFIG_LOG_DEST_SYSLOG);
	CHECK_STREQ(c.log_file, "/var/log/mqtt fast.log");
	CHECK_EQ(c.log_timestamp, false);
	CHECK_STREQ(c.pid_file, "/run/mqtt-fast.pid");
	CHECK_STREQ(c.user, "mqtt");
	CHECK_EQ(c.connection_messages, false);
	CHECK_STREQ(c.persistence_file, "broker state.db");
	CHECK_EQ(c.autosave_interval, 0);
	CHECK_EQ(c.autosave_on_changes, true);
	CHECK_EQ(c.log_facility, 7);
	CHECK_EQ(c.warning_count, 0);
	CHECK_EQ(c.listener_count, 4);
	if (c.listener_count != 4)
		goto out;
	const struct listener_conf *l = c.listeners;
	CHECK_EQ(l[0].port, 1883);
	CHECK(l[0].bind_address == NULL);
	CHECK_EQ(l[0].max_connections, 100);
	CHECK_EQ(l[0].socket_domain, SOCKET_DOMAIN_IPV4);
	CHECK_EQ(l[0].protocol, LISTENER_MQTT);
	CHECK(!l[0].implicit);
	CHECK_STREQ(l[0].source_file, "full.conf");
	CHECK_EQ(l[0].source_line, 34);
	CHECK(l[0].cafile == NULL && !l[0].require_certificate);
	CHECK_EQ(l[1].port, 8883);
	CHECK_STREQ(l[1].bind_address, "192.0.2.1");
	CHECK_EQ(l[1].max_connections, -1);
	CHECK_EQ(l[1].socket_domain, SOCKET_DOMAIN_ANY);
	CHECK_STREQ(l[1].cafile, "/etc/ca.pem");
	CHECK_STREQ(l[1].capath, "/etc/ca");
	CHECK_STREQ(l[1].certfile, "/etc/cert.pem");
	CHECK_STREQ(l[1].keyfile, "/etc/key.pem");
	CHECK_STREQ(l[1].ciphers, "ECDHE-RSA-AES128-GCM-SHA256");
	CHECK_STREQ(l[1].tls_version, "tlsv1.3");
	CHECK(l[1].require_certificate && l[1].use_identity_as_username);
	CHECK_EQ(l[2].port, 1884);
	CHECK_EQ(l[2].protocol, LISTENER_MQTTSN);
	CHECK_EQ(l[2].socket_domain, SOCKET_DOMAIN_IPV6);
	CHECK_EQ(l[2].source_line, 47);
	CHECK_EQ(l[3].port, 8080);
	CHECK_STREQ(l[3].bind_address, "::");
	CHECK_EQ(l[3].protocol, LISTENER_WEBSOCKETS);
	CHECK_STREQ(config_protocol_name(l[3].protocol), "websockets");
	CHECK_STREQ(config_protocol_name(l[2].protocol), "mqttsn");
out:
	config_free(&c);
}

/* Accumulation and reset rules of log_type / log_dest, durations, listener-scoped settings
 * before the first listener. */
static void test_semantics(void)
{
	static const struct {
		const char *text;
		int64_t expiration;
		uint32_t types, dests;
	} cases[] = {
	        {"persistent_client_expiration 1h\n", 3600, LOG_LEVEL_DEFAULT, 1},
	        {"persistent_client_expiration 3d\n", 3 * 86400, LOG_LEVEL_DEFAULT, 1},
	        {"persistent_client_expiration 2m\n", 60 * 86400, LOG_LEVEL_DEFAULT, 1},
	        {"persistent_client_expiration 1y\n", 365 * 86400, LOG_LEVEL_DEFAULT, 1},
	        {"persistent_client_expiration 100y\n", 100ll * 365 * 86400, LOG_LEVEL_DEFAULT, 1},
	        {"log_type error\nlog_type none\n", 0, 0, 1},
	        {"log_type none\nlog_type warning\n", 0, LOG_LEVEL_WARNING, 1},
	        {"log_type all\n", 0, LOG_LEVEL_ALL, 1},
	        {"log_type information\nlog_type all\n", 0, LOG_LEVEL_ALL, 1},
	        {"log_dest none\n", 0, LOG_LEVEL_DEFAULT, 0},
	        {"log_dest stderr\nlog_dest stdout\n", 0, LOG_LEVEL_DEFAULT,
	         CONFIG_LOG_DEST_STDERR | CONFIG_LOG_DEST_STDOUT},
	        {"log_dest syslog\n", 0, LOG_LEVEL_DEFAULT, CONFIG_LOG_DEST_SYSLOG},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct config c;
		char err[256];
		int rc = config_load_string("s.conf", cases[i].text, &c, err, sizeof(err));
		CHECK_EQ(rc, 0);
		if (rc) {
			fprintf(stderr, "    case %zu: %s\n", i, err);
			continue;
		}
		CHECK_EQ(c.persistent_client_expiration, cases[i].expiration);
		CHECK_EQ(c.log_types, cases[i].types);
		CHECK_EQ(c.log_dests, cases[i].dests);
		config_free(&c);
	}

	/* Listener settings before any listener apply to the implicit listeners. */
	struct config c;
	char err[256];
	CHECK_EQ(config_load_string("s.conf", "max_connections 7\nsocket_domain ipv4\ncafile /ca\n",
	                            &c, err, sizeof(err)),
	         0);
	CHECK_EQ(c.listener_count, 1);
	if (c.listener_count == 1) {
		CHECK_STREQ(c.listeners[0].bind_address, "127.0.0.1");
		CHECK_EQ(c.listeners[0].max_connections, 7);
		CHECK_STREQ(c.listeners[0].cafile, "/ca");
		CHECK(c.listeners[0].implicit);
	}
	config_free(&c);

	/* The same port may carry MQTT over TCP and MQTT-SN over UDP, or two addresses. */
	CHECK_EQ(config_load_string("s.conf",
	                            "listener 1883\nlisten"
	                            "er 1883\nprotocol mqttsn\nlistener 1884 127.0.0.1\n"
	                            "listener 1884 ::1\nlistener 1885\nsocket_domain ipv4\n"
	                            "listener 1885\nsocket_domain ipv6\n",
	                            &c, err, sizeof(err)),
	         0);
	CHECK_EQ(c.listener_count, 6);
	config_free(&c);
}

static void test_errors(void)
{
	static const struct {
		const char *text;
		const char *err;
	} cases[] = {
	        {"foo bar\n", "x.conf:1: unknown directive 'foo'"},
	        {"\n\nfoo\n", "x.conf:3: unknown directive 'foo'"},
	        {"Listener 1883\n", "x.conf:1: unknown directive 'Listener'"},
	        {"max_inflight_messages abc\n",
	         "x.conf:1: max_inflight_messages: 'abc' is not a number"},
	        {"max_inflight_messages 12x\n",
	         "x.conf:1: max_inflight_messages: '12x' is not a number"},
	        {"max_inflight_messages +5\n",
	         "x.conf:1: max_inflight_messages: '+5' is not a number"},
	        {"max_inflight_messages 70000\n",
	         "x.conf:1: max_inflight_messages: 70000 is out of range 0..65535"},
	        {"max_queued_messages -1\n",
	         "x.conf:1: max_queued_messages: -1 is out of range 0..2147483647"},
	        {"max_queued_bytes 99999999999999999999\n",
	         "x.conf:1: max_queued_bytes: 99999999999999999999 is out of range "
	         "0..9223372036854775807"},
	        {"max_keepalive 5\n", "x.conf:1: max_keepalive: 5 is out of range 10..65535"},
	        {"max_packet_size 19\n",
	         "x.conf:1: max_packet_size: 19 is too small (0 for no limit, or at least 20)"},
	        {"message_size_limit 268435456\n",
	         "x.conf:1: message_size_limit: 268435456 is out of range 0..268435455"},
	        {"max_connections -2\n",
	         "x.conf:1: max_connections: -2 is out of range -1..2147483647"},
	        {"sys_interval\n", "x.conf:1: sys_interval: missing value"},
	        {"sys_interval   \r\n", "x.conf:1: sys_interval: missing value"},
	        {"sys_interval 10 20\n", "x.conf:1: sys_interval: too many arguments"},
	        {"pid_file\n", "x.conf:1: pid_file: missing value"},
	        {"allow_anonymous yes\n", "x.conf:1: allow_anonymous: 'yes' is not true or false"},
	        {"allow_anonymous TRUE\n",
	         "x.conf:1: allow_anonymous: 'TRUE' is not true or false"},
	        {"allow_anonymous true # comment\n",
	         "x.conf:1: allow_anonymous: too many arguments"},
	        {"persistent_client_expiration 5x\n",
	         "x.conf:1: persistent_client_expiration: '5x' is not a duration (a number "
	         "followed by "
	         "h, d, w, m or y)"},
	        {"persistent_client_expiration d\n", "x.conf:1: persistent_client_expiration: 'd' "
	                                             "is not a duration (a number followed by "
	                                             "h, d, w, m or y)"},
	        {"persistent_client_expiration 3600\n",
	         "x.conf:1: persistent_client_expiration: '3600' is not a duration (a number "
	         "followed "
	         "by h, d, w, m or y)"},
	        {"persistent_client_expiration 0d\n",
	         "x.conf:1: persistent_client_expiration: 0d is out of range 1h..100y"},
	        {"persistent_client_expiration 101y\n",
	         "x.conf:1: persistent_client_expiration: 101y is out of range 1h..100y"},
	        {"persistent_client_expiration 99999999999999999999999y\n",
	         "x.conf:1: persistent_client_expiration: 99999999999999999999999y is out of range "
	         "1h..100y"},
	        {"protocol mqttsn\nlistener 1884\n",
	         "x.conf:1: protocol: must follow a listener line"},
	        {"listener 1883\nprotocol mqtt-sn\n",
	         "x.conf:2: protocol: 'mqtt-sn' is not one of mqtt, mqttsn, websockets"},
	        {"listener 1883\nsocket_domain any\n",
	         "x.conf:2: socket_domain: 'any' is not one of ipv4, ipv6"},
	        {"listener 0\n", "x.conf:1: listener: 0 is out of range 1..65535"},
	        {"listener 70000\n", "x.conf:1: listener: 70000 is out of range 1..65535"},
	        {"listener\n", "x.conf:1: listener: missing value"},
	        {"listener 1883 0.0.0.0 extra\n", "x.conf:1: listener: too many arguments"},
	        {"listener port\n", "x.conf:1: listener: 'port' is not a number"},
	        {"listener 1883\nlistener 1883\n",
	         "x.conf:2: listener 1883 is already defined at line 1"},
	        {"connection bridge-01\n",
	         "x.conf:1: 'connection' is not supported by mqtt-fast yet"},
	        {"bridge_cafile /x\n",
	         "x.conf:1: 'bridge_cafile' is not supported by mqtt-fast yet"},
	        {"websockets_log_level 255\n",
	         "x.conf:1: 'websockets_log_level' is not supported by mqtt-fast yet"},
	        {"include_dir\n", "x.conf:1: include_dir: missing value"},
	        {"include_dir /nonexistent/conf.d\n",
	         "x.conf:1: include_dir: cannot open '/nonexistent/conf.d': No such file or "
	         "directory"},
	        {"max_qos 1\n", "x.conf:1: 'max_qos' is not supported by mqtt-fast yet"},
	        {"max_inflight_bytes 0\n",
	         "x.conf:1: 'max_inflight_bytes' is not supported by mqtt-fast yet"},
	        {"memory_limit -1\n",
	         "x.conf:1: memory_limit: -1 is out of range 0..9223372036854775807"},
	        {"max_topic_levels 0\n", "x.conf:1: max_topic_levels: 0 is out of range 1..65535"},
	        {"max_topic_length 70000\n",
	         "x.conf:1: max_topic_length: 70000 is out of range 1..65535"},
	        {"log_timestamp_format %H\n",
	         "x.conf:1: 'log_timestamp_format' is not supported by mqtt-fast yet"},
	        {"use_username_as_clientid true\n",
	         "x.conf:1: 'use_username_as_clientid' is not supported by mqtt-fast yet"},
	        {"port 0\n", "x.conf:1: port: 0 is out of range 1..65535"},
	        {"port\n", "x.conf:1: port: missing value"},
	        {"port 1883 1884\n", "x.conf:1: port: too many arguments"},
	        {"port http\n", "x.conf:1: port: 'http' is not a number"},
	        {"bind_address\n", "x.conf:1: bind_address: missing value"},
	        {"bind_address 127.0.0.1 ::1\n", "x.conf:1: bind_address: too many arguments"},
	        {"listener 1883\nport 1883\n",
	         "x.conf:2: port 1883 (the default listener) is already used by the listener at "
	         "line 1"},
	        {"bind_address 127.0.0.1\nlistener 1883 127.0.0.1\n",
	         "x.conf:1: port 1883 (the default listener) is already used by the listener at "
	         "line 2"},
	        {"user\n", "x.conf:1: user: missing value"},
	        {"connection_messages off\n",
	         "x.conf:1: connection_messages: 'off' is not true or false"},
	        {"autosave_interval -1\n",
	         "x.conf:1: autosave_interval: -1 is out of range 0..2147483647"},
	        {"autosave_on_changes 1\n",
	         "x.conf:1: autosave_on_changes: '1' is not true or false"},
	        {"persistence_file\n", "x.conf:1: persistence_file: missing value"},
	        {"log_facility 8\n", "x.conf:1: log_facility: 8 is out of range 0..7"},
	        {"auth_opt_db x\n", "x.conf:1: 'auth_opt_db' is not supported by mqtt-fast yet"},
	        {"per_listener_settings true\n",
	         "x.conf:1: per_listener_settings true is not supported by mqtt-fast yet"},
	        {"per_listener_settings maybe\n",
	         "x.conf:1: per_listener_settings: 'maybe' is not true or false"},
	        {"log_dest carrier-pigeon\n",
	         "x.conf:1: log_dest: 'carrier-pigeon' is not one of stderr, stdout, file, syslog, "
	         "none"},
	        {"log_dest file\n", "x.conf:1: log_dest: file needs a path"},
	        {"log_dest file /a\nlog_dest file /b\n", "x.conf:2: log_dest: file given twice"},
	        {"log_dest stdout now\n", "x.conf:1: log_dest: too many arguments"},
	        {"log_dest topic\n", "x.conf:1: log_dest topic is not supported by mqtt-fast yet"},
	        {"log_dest\n", "x.conf:1: log_dest: missing value"},
	        {"log_type verbose\n",
	         "x.conf:1: log_type: 'verbose' is not one of none, information, notice, warning, "
	         "error, debug, subscribe, unsubscribe, websockets, all"},
	        {"log_type\n", "x.conf:1: log_type: missing value"},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct config c;
		char err[256] = "unchanged";
		CHECK_EQ(config_load_string("x.conf", cases[i].text, &c, err, sizeof(err)),
		         -EINVAL);
		CHECK_STREQ(err, cases[i].err);
		CHECK(c.listeners == NULL && c.auto_id_prefix == NULL); /* freed on error */
	}

	/* A small err buffer truncates; errlen 0 writes nothing. */
	struct config c;
	char small[8];
	CHECK_EQ(config_load_string("x.conf", "foo\n", &c, small, sizeof(small)), -EINVAL);
	CHECK_STREQ(small, "x.conf:");
	CHECK_EQ(config_load_string("x.conf", "foo\n", &c, NULL, 0), -EINVAL);
}

/* The MQTT-SN gateway directives (sn_*): defaults, values, errors. */
static void test_sn(void)
{
	struct config c;
	char err[256];

	CHECK_EQ(config_load_string("x.conf", "", &c, err, sizeof(err)), 0);
	CHECK_EQ(c.sn_gateway_id, 1);
	CHECK_EQ(c.sn_allow_anonymous, true);
	CHECK_EQ(c.sn_allow_qos_m1, true);
	CHECK_EQ(c.sn_retry_interval, 10);
	CHECK_EQ(c.sn_retry_count, 3);
	CHECK_EQ(c.sn_advertise_interval, 0);
	CHECK_STREQ(c.sn_advertise_address, "255.255.255.255");
	CHECK_EQ(c.sn_advertise_port, 0);
	CHECK(c.sn_predefined == NULL);
	CHECK_EQ(c.sn_predefined_count, 0);
	config_free(&c);

	/* Every directive set, after a listener line too: they are global. */
	static const char text[] = "listener 1883\n"
	                           "listener 1884\n"
	                           "protocol mqttsn\n"
	                           "sn_gateway_id 255\n"
	                           "sn_allow_anonymous false\n"
	                           "sn_allow_qos_m1 false\n"
	                           "sn_retry_interval 3600\n"
	                           "sn_retry_count 0\n"
	                           "sn_advertise_interval 65535\n"
	                           "sn_advertise_address 192.0.2.255\n"
	                           "sn_advertise_port 1885\n"
	                           "sn_predefined_topic 1 a/b\n"
	                           "sn_predefined_topic   65534   sensors/kitchen/temp  \n"
	                           "sn_predefined_topic 7 $SYS/broker/uptime\n"
	                           "sn_predefined_topic 8 /\n";
	CHECK_EQ(config_load_string("x.conf", text, &c, err, sizeof(err)), 0);
	CHECK_STREQ(err, "");
	CHECK_EQ(c.listener_count, 2);
	CHECK_EQ(c.sn_gateway_id, 255);
	CHECK_EQ(c.sn_allow_anonymous, false);
	CHECK_EQ(c.sn_allow_qos_m1, false);
	CHECK_EQ(c.sn_retry_interval, 3600);
	CHECK_EQ(c.sn_retry_count, 0);
	CHECK_EQ(c.sn_advertise_interval, 65535);
	CHECK_STREQ(c.sn_advertise_address, "192.0.2.255");
	CHECK_EQ(c.sn_advertise_port, 1885);
	CHECK_EQ(c.sn_predefined_count, 4);
	if (c.sn_predefined_count == 4) {
		CHECK_EQ(c.sn_predefined[0].id, 1);
		CHECK_STREQ(c.sn_predefined[0].name, "a/b");
		CHECK_EQ(c.sn_predefined[1].id, 65534);
		CHECK_STREQ(c.sn_predefined[1].name, "sensors/kitchen/temp");
		CHECK_EQ(c.sn_predefined[2].id, 7);
		CHECK_STREQ(c.sn_predefined[2].name, "$SYS/broker/uptime");
		CHECK_EQ(c.sn_predefined[3].id, 8);
		CHECK_STREQ(c.sn_predefined[3].name, "/");
	}
	config_free(&c);
	CHECK(c.sn_predefined == NULL && c.sn_advertise_address == NULL);

	/* The lower bounds. */
	CHECK_EQ(config_load_string("x.conf",
	                            "sn_gateway_id 1\nsn_retry_interval 1\nsn_retry_count 100\n"
	                            "sn_advertise_interval 0\nsn_advertise_port 65535\n",
	                            &c, err, sizeof(err)),
	         0);
	CHECK_EQ(c.sn_gateway_id, 1);
	CHECK_EQ(c.sn_retry_interval, 1);
	CHECK_EQ(c.sn_retry_count, 100);
	CHECK_EQ(c.sn_advertise_interval, 0);
	CHECK_EQ(c.sn_advertise_port, 65535);
	config_free(&c);

	static const struct {
		const char *text;
		const char *err;
	} cases[] = {
	        {"sn_gateway_id 0\n", "x.conf:1: sn_gateway_id: 0 is out of range 1..255"},
	        {"sn_gateway_id 256\n", "x.conf:1: sn_gateway_id: 256 is out of range 1..255"},
	        {"sn_gateway_id\n", "x.conf:1: sn_gateway_id: missing value"},
	        {"sn_gateway_id one\n", "x.conf:1: sn_gateway_id: 'one' is not a number"},
	        {"sn_allow_anonymous yes\n",
	         "x.conf:1: sn_allow_anonymous: 'yes' is not true or false"},
	        {"sn_allow_qos_m1 1\n", "x.conf:1: sn_allow_qos_m1: '1' is not true or false"},
	        {"sn_retry_interval 0\n", "x.conf:1: sn_retry_interval: 0 is out of range 1..3600"},
	        {"sn_retry_interval 3601\n",
	         "x.conf:1: sn_retry_interval: 3601 is out of range 1..3600"},
	        {"sn_retry_count 101\n", "x.conf:1: sn_retry_count: 101 is out of range 0..100"},
	        {"sn_retry_count -1\n", "x.conf:1: sn_retry_count: -1 is out of range 0..100"},
	        {"sn_advertise_interval 65536\n",
	         "x.conf:1: sn_advertise_interval: 65536 is out of range 0..65535"},
	        {"sn_advertise_address\n", "x.conf:1: sn_advertise_address: missing value"},
	        {"sn_advertise_address gateway.local\n",
	         "x.conf:1: sn_advertise_address: 'gateway.local' is not an IPv4 address"},
	        {"sn_advertise_address 192.0.2.255 x\n",
	         "x.conf:1: sn_advertise_address: unexpected text after the address"},
	        {"sn_advertise_port 65536\n",
	         "x.conf:1: sn_advertise_port: 65536 is out of range 0..65535"},
	        {"sn_advertise_port 1 2\n", "x.conf:1: sn_advertise_port: too many arguments"},
	        /* sn_predefined_topic ID NAME */
	        {"sn_predefined_topic\n",
	         "x.conf:1: sn_predefined_topic: expected a topic id and a topic name"},
	        {"sn_predefined_topic 1\n",
	         "x.conf:1: sn_predefined_topic: expected a topic id and a topic name"},
	        {"sn_predefined_topic 1 a/b c\n",
	         "x.conf:1: sn_predefined_topic: unexpected text after the topic name"},
	        {"sn_predefined_topic 0 a/b\n",
	         "x.conf:1: sn_predefined_topic: topic id '0' is not in 1..65534"},
	        {"sn_predefined_topic 65535 a/b\n",
	         "x.conf:1: sn_predefined_topic: topic id '65535' is not in 1..65534"},
	        {"sn_predefined_topic 70000 a/b\n",
	         "x.conf:1: sn_predefined_topic: topic id '70000' is not in 1..65534"},
	        {"sn_predefined_topic -1 a/b\n",
	         "x.conf:1: sn_predefined_topic: topic id '-1' is not in 1..65534"},
	        {"sn_predefined_topic 1x a/b\n",
	         "x.conf:1: sn_predefined_topic: topic id '1x' is not in 1..65534"},
	        {"sn_predefined_topic a/b 1\n",
	         "x.conf:1: sn_predefined_topic: topic id 'a/b' is not in 1..65534"},
	        {"sn_predefined_topic 1 a/+\n",
	         "x.conf:1: sn_predefined_topic: 'a/+' is not a valid topic name"},
	        {"sn_predefined_topic 1 #\n",
	         "x.conf:1: sn_predefined_topic: '#' is not a valid topic name"},
	        {"sn_predefined_topic 1 sensors/#\n",
	         "x.conf:1: sn_predefined_topic: 'sensors/#' is not a valid topic name"},
	        {"sn_predefined_topic 1 a/b\nsn_predefined_topic 1 c/d\n",
	         "x.conf:2: sn_predefined_topic: topic id 1 is already predefined"},
	        {"sn_predefined_topic 1 a/b\nsn_predefined_topic 2 a/b\n",
	         "x.conf:2: sn_predefined_topic: topic 'a/b' is already predefined"},
	        {"sn_predefined_topic 5 x\nsn_predefined_topic 6 y\nsn_predefined_topic 05 z\n",
	         "x.conf:3: sn_predefined_topic: topic id 5 is already predefined"},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char e[256] = "unchanged";
		CHECK_EQ(config_load_string("x.conf", cases[i].text, &c, e, sizeof(e)), -EINVAL);
		CHECK_STREQ(e, cases[i].err);
		CHECK(c.sn_predefined == NULL && c.sn_advertise_address == NULL); /* freed */
	}
}

/* `port` / `bind_address` make mosquitto's default listener: appended after the `listener`
 * ones, port 1883 and all interfaces unless set, carrying the settings given before the first
 * `listener` line. Both are deprecated in mosquitto 2.0: a warning each. */
static void test_default_listener(void)
{
	struct config c;
	char err[256];
	CHECK_EQ(config_load_string("d.conf", "port 1884\n", &c, err, sizeof(err)), 0);
	CHECK_EQ(c.listener_count, 1);
	if (c.listener_count == 1) {
		CHECK_EQ(c.listeners[0].port, 1884);
		CHECK(c.listeners[0].bind_address == NULL); /* all interfaces, not local-only */
		CHECK(!c.listeners[0].implicit);
		CHECK_STREQ(c.listeners[0].source_file, "d.conf");
		CHECK_EQ(c.listeners[0].source_line, 1);
	}
	CHECK_EQ(c.warning_count, 1);
	if (c.warning_count == 1)
		CHECK_STREQ(
		        c.warnings[0],
		        "d.conf:1: port is deprecated in mosquitto 2.0; prefer 'listener 1884'");
	config_free(&c);
	CHECK(c.warnings == NULL && c.warning_count == 0);

	CHECK_EQ(config_load_string("d.conf", "bind_address 127.0.0.1\n", &c, err, sizeof(err)), 0);
	CHECK_EQ(c.listener_count, 1);
	if (c.listener_count == 1) {
		CHECK_EQ(c.listeners[0].port, 1883);
		CHECK_STREQ(c.listeners[0].bind_address, "127.0.0.1");
		CHECK_EQ(c.listeners[0].socket_domain, SOCKET_DOMAIN_ANY);
	}
	CHECK_EQ(c.warning_count, 1);
	if (c.warning_count == 1)
		CHECK_STREQ(c.warnings[0], "d.conf:1: bind_address is deprecated in mosquitto 2.0; "
		                           "prefer 'listener PORT 127.0.0.1'");
	config_free(&c);

	const char *mixed = "max_connections 5\n"
	                    "port 1885\n"
	                    "listener 1886\n"
	                    "max_connections 2\n"
	                    "bind_address ::1\n" /* still the default listener's */
	                    "port 1887\n";
	CHECK_EQ(config_load_string("d.conf", mixed, &c, err, sizeof(err)), 0);
	CHECK_STREQ(err, "");
	CHECK_EQ(c.listener_count, 2);
	if (c.listener_count == 2) {
		CHECK_EQ(c.listeners[0].port, 1886);
		CHECK_EQ(c.listeners[0].max_connections, 2);
		CHECK(c.listeners[0].bind_address == NULL);
		CHECK_EQ(c.listeners[1].port, 1887);
		CHECK_STREQ(c.listeners[1].bind_address, "::1");
		CHECK_EQ(c.listeners[1].max_connections, 5);
		CHECK_EQ(c.listeners[1].source_line, 6);
	}
	CHECK_EQ(c.warning_count, 3);
	if (c.warning_count == 3)
		CHECK_STREQ(c.warnings[2],
		            "d.conf:6: port given more than once; the last one (1887) is used");
	config_free(&c);
}

/* retry_interval, store_clean_interval, allow_duplicate_messages: gone in mosquitto 2.0,
 * accepted with a warning each, never silently. */
static void test_obsolete(void)
{
	struct config c;
	char err[256];
	const char *text = "retry_interval 20\n"
	                   "#\n"
	                   "store_clean_interval 10\n"
	                   "allow_duplicate_messages false\n";
	CHECK_EQ(config_load_string("o.conf", text, &c, err, sizeof(err)), 0);
	CHECK_EQ(c.warning_count, 3);
	if (c.warning_count == 3) {
		CHECK_STREQ(c.warnings[0],
		            "o.conf:1: retry_interval is obsolete since mosquitto 2.0 "
		            "(has no effect); ignored");
		CHECK_STREQ(c.warnings[1], "o.conf:3: store_clean_interval is obsolete since "
		                           "mosquitto 2.0 (has no effect); ignored");
		CHECK_STREQ(c.warnings[2], "o.conf:4: allow_duplicate_messages is obsolete since "
		                           "mosquitto 2.0 (duplicate messages are always "
		                           "delivered); ignored");
	}
	config_free(&c);
}

static void test_listeners_equal(void)
{
	static const struct {
		const char *a, *b;
		bool equal;
	} cases[] = {
	        {"", "", true},
	        {"listener 1883\n", "listener 1883\n", true},
	        {"listener 1883\n", "listener 1884\n", false},
	        {"listener 1883\n", "listener 1883 127.0.0.1\n", false},
	        {"listener 1883\n", "listener 1883\nlistener 1884\n", false},
	        {"listener 1883\n", "listener 1883\nmax_connections 3\n", false},
	        {"listener 1883\n", "port 1883\n", true},
	        {"listener 1883\ncafile /a\n", "listener 1883\ncafile /b\n", false},
	        {"listener 1883\n", "listener 1883\nmax_queued_messages 3\n", true},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct config a, b;
		char err[256];
		CHECK_EQ(config_load_string("a.conf", cases[i].a, &a, err, sizeof(err)), 0);
		CHECK_EQ(config_load_string("b.conf", cases[i].b, &b, err, sizeof(err)), 0);
		CHECK_EQ(config_listeners_equal(&a, &b), cases[i].equal);
		CHECK_EQ(config_listeners_equal(&b, &a), cases[i].equal);
		config_free(&a);
		config_free(&b);
	}
}

static void test_syntax(void)
{
	struct config c;
	char err[256];
	const char *text = "# comment\r\n"
	                   "   # indented comment\r\n"
	                   "\r\n"
	                   "\t \r\n"
	                   "  listener   1883  \t\r\n"
	                   "\tmax_connections\t 10 \r\n"
	                   "auto_id_prefix   my prefix  \r\n"
	                   "#listener 1999\r\n"
	                   "allow_anonymous true"; /* no final newline */
	CHECK_EQ(config_load_string("crlf.conf", text, &c, err, sizeof(err)), 0);
	CHECK_STREQ(err, "");
	CHECK_EQ(c.listener_count, 1);
	if (c.listener_count == 1) {
		CHECK_EQ(c.listeners[0].port, 1883);
		CHECK_EQ(c.listeners[0].max_connections, 10);
		CHECK_EQ(c.listeners[0].source_line, 5);
	}
	CHECK_STREQ(c.auto_id_prefix, "my prefix");
	CHECK_EQ(c.allow_anonymous, true);
	config_free(&c);

	/* Error line numbers count CRLF lines. */
	CHECK_EQ(config_load_string("crlf.conf", "#a\r\n#b\r\nnope\r\n", &c, err, sizeof(err)),
	         -EINVAL);
	CHECK_STREQ(err, "crlf.conf:3: unknown directive 'nope'");
}

int main(void)
{
	test_defaults();
	test_full();
	test_semantics();
	test_errors();
	test_sn();
	test_default_listener();
	test_obsolete();
	test_listeners_equal();
	test_syntax();
	return check_report();
}
