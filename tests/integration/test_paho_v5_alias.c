/* test_paho_v5_alias.c - MQTT 5 server-to-client Topic Aliases and Reason Strings, end to end:
 * a Paho MQTTClient (MQTTVERSION_5) publishes, and a tiny raw-socket client checks the bytes
 * the broker sends (topic or empty topic, Topic Alias property, Reason String property), which
 * the Paho API cannot show precisely. One Paho subscriber checks what an application sees.
 *
 * Usage: test_paho_v5_alias [BROKER_BINARY] (default $MQTT_FAST_BIN). Port 22030. */
#include <MQTTClient.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "broker_fixture.h"
#include "check.h"

#define PORT 22030

/* Broker settings this suite checks against. */
#define MAX_TOPIC_ALIAS 10
#define SIZE_LIMIT      100
#define BROKER_EXTRA                                                                               \
	"max_topic_alias 10\n"                                                                     \
	"message_size_limit 100\n"

#define ARRIVE_MS 5000
#define QUIET_MS  300

static const char *g_uri;

/* ---- raw MQTT 5 client ------------------------------------------------------------------- */

/* Bytes of a packet being built. */
struct wbuf {
	uint8_t b[1024];
	size_t n;
};

static void put8(struct wbuf *w, unsigned v)
{
	if (w->n < sizeof(w->b))
		w->b[w->n++] = (uint8_t)v;
}

static void put16(struct wbuf *w, unsigned v)
{
	put8(w, v >> 8);
	put8(w, v & 0xff);
}

static void putvar(struct wbuf *w, size_t v)
{
	do {
		put8(w, (v & 0x7f) | (v > 0x7f ? 0x80 : 0));
		v >>= 7;
	} while (v);
}

static void putbytes(struct wbuf *w, const void *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		put8(w, ((const uint8_t *)p)[i]);
}

static void putstr(struct wbuf *w, const char *s)
{
	put16(w, (unsigned)strlen(s));
	putbytes(w, s, strlen(s));
}

/* A property block (its length first) from the bytes in `props`. */
static void putprops(struct wbuf *w, const struct wbuf *props)
{
	putvar(w, props->n);
	putbytes(w, props->b, props->n);
}

/* Sends fixed header `first` + Remaining Length + body. 0 or -1. */
static int raw_send(int fd, uint8_t first, const struct wbuf *body)
{
	struct wbuf w = {.n = 0};
	put8(&w, first);
	putvar(&w, body->n);
	putbytes(&w, body->b, body->n);
	return send(fd, w.b, w.n, MSG_NOSIGNAL) == (ssize_t)w.n ? 0 : -1;
}

/* One packet read from the broker. */
struct rpkt {
	uint8_t first;
	uint8_t body[4096];
	size_t len;
};

/* Reads exactly n bytes before `end` (monotonic ms). 1, 0 on timeout, -1 on EOF/error. */
static int read_full(int fd, uint8_t *p, size_t n, int64_t end)
{
	size_t got = 0;
	while (got < n) {
		int64_t left = end - fixture_now_ms();
		struct pollfd pfd = {.fd = fd, .events = POLLIN};
		if (left <= 0)
			return 0;
		int r = poll(&pfd, 1, (int)left);
		if (r < 0 && errno == EINTR)
			continue;
		if (r == 0)
			return 0;
		ssize_t k = r < 0 ? -1 : read(fd, p + got, n - got);
		if (k <= 0)
			return -1;
		got += (size_t)k;
	}
	return 1;
}

/* Reads one whole packet within timeout_ms: 1, 0 on timeout, -1 on EOF/error or overflow. */
static int raw_read(int fd, int timeout_ms, struct rpkt *out)
{
	int64_t end = fixture_now_ms() + timeout_ms;
	uint8_t b;
	size_t len = 0;
	int r = read_full(fd, &out->first, 1, end);
	for (unsigned shift = 0; r == 1 && shift < 28; shift += 7) {
		r = read_full(fd, &b, 1, end);
		len |= (size_t)(b & 0x7f) << shift;
		if (r == 1 && !(b & 0x80))
			break;
	}
	if (r != 1 || len > sizeof(out->body))
		return r == 1 ? -1 : r;
	out->len = len;
	return len ? read_full(fd, out->body, len, end) : 1;
}

/* What a property block holds that these tests look at; -1 = absent. */
struct rprops {
	int alias;
	int reason_len;
	const uint8_t *reason;
	bool ok; /* the block parsed */
};

static size_t getvar(const uint8_t *p, size_t n, size_t *at)
{
	size_t v = 0;
	for (unsigned shift = 0; *at < n && shift < 28; shift += 7) {
		uint8_t b = p[(*at)++];
		v |= (size_t)(b & 0x7f) << shift;
		if (!(b & 0x80))
			break;
	}
	return v;
}

/* Parses the property block at p[*at] (length first) and moves *at past it. */
static struct rprops parse_props(const uint8_t *p, size_t n, size_t *at)
{
	struct rprops r = {.alias = -1, .reason_len = -1};
	size_t len = getvar(p, n, at), end = *at + len;
	if (end > n)
		return r;
	while (*at < end) {
		uint8_t id = p[(*at)++];
		size_t a = *at, skip;
		switch (id) {
		case 0x01:
		case 0x17:
		case 0x19:
		case 0x24:
		case 0x25:
		case 0x28:
		case 0x29:
		case 0x2A:
			skip = 1;
			break;
		case 0x13:
		case 0x21:
		case 0x22:
		case 0x23:
			skip = 2;
			if (id == 0x23 && a + 2 <= end)
				r.alias = p[a] << 8 | p[a + 1];
			break;
		case 0x02:
		case 0x11:
		case 0x18:
		case 0x27:
			skip = 4;
			break;
		case 0x0B:
			(void)getvar(p, end, at);
			skip = 0;
			break;
		case 0x26: /* string pair */
			skip = a + 2 <= end ? 2u + (size_t)(p[a] << 8 | p[a + 1]) : 2;
			if (a + skip + 2 <= end)
				skip += 2u + (size_t)(p[a + skip] << 8 | p[a + skip + 1]);
			break;
		default: /* strings and binary data */
			skip = a + 2 <= end ? 2u + (size_t)(p[a] << 8 | p[a + 1]) : 2;
			if (id == 0x1F && a + skip <= end) {
				r.reason = p + a + 2;
				r.reason_len = (int)skip - 2;
			}
			break;
		}
		*at += skip;
	}
	r.ok = *at == end;
	return r;
}

/* A PUBLISH as received. */
struct rpub {
	bool dup;
	int qos;
	char topic[128];
	uint16_t packet_id;
	struct rprops props;
	char payload[128];
};

static bool parse_publish(const struct rpkt *k, struct rpub *out)
{
	size_t at = 2, tlen;
	memset(out, 0, sizeof(*out));
	if ((k->first >> 4) != 3 || k->len < 2)
		return false;
	out->dup = k->first & 8;
	out->qos = (k->first >> 1) & 3;
	tlen = (size_t)(k->body[0] << 8 | k->body[1]);
	if (tlen >= sizeof(out->topic) || at + tlen > k->len)
		return false;
	memcpy(out->topic, k->body + at, tlen);
	at += tlen;
	if (out->qos) {
		out->packet_id = (uint16_t)(k->body[at] << 8 | k->body[at + 1]);
		at += 2;
	}
	out->props = parse_props(k->body, k->len, &at);
	size_t plen =
	        k->len - at < sizeof(out->payload) - 1 ? k->len - at : sizeof(out->payload) - 1;
	memcpy(out->payload, k->body + at, plen);
	return out->props.ok;
}

/* CONNECT options of the raw client; zero fields are not sent. */
struct raw_opts {
	bool resume;     /* Clean Start 0 */
	int keepalive;   /* 0 = 60 */
	int alias_max;   /* Topic Alias Maximum, -1 = absent */
	int problem;     /* Request Problem Information, -1 = absent */
	unsigned expiry; /* Session Expiry Interval */
	const char *auth_method;
};

/* Connects and sends CONNECT; returns the socket (CONNACK not read) or -1. */
static int raw_connect_only(const char *id, const struct raw_opts *o)
{
	struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons(PORT)};
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		if (fd >= 0)
			close(fd);
		return -1;
	}
	struct wbuf w = {.n = 0}, pr = {.n = 0};
	putstr(&w, "MQTT");
	put8(&w, 5);
	put8(&w, o->resume ? 0x00 : 0x02);
	put16(&w, o->keepalive ? (unsigned)o->keepalive : 60);
	if (o->expiry) {
		put8(&pr, 0x11);
		put16(&pr, o->expiry >> 16);
		put16(&pr, o->expiry & 0xffff);
	}
	if (o->alias_max >= 0) {
		put8(&pr, 0x22);
		put16(&pr, (unsigned)o->alias_max);
	}
	if (o->problem >= 0) {
		put8(&pr, 0x17);
		put8(&pr, (unsigned)o->problem);
	}
	if (o->auth_method) {
		put8(&pr, 0x15);
		putstr(&pr, o->auth_method);
	}
	putprops(&w, &pr);
	putstr(&w, id);
	if (raw_send(fd, 0x10, &w) < 0) {
		close(fd);
		return -1;
	}
	return fd;
}

/* Connects and checks the CONNACK is a success; *present gets Session Present. fd or -1. */
static int raw_up(const char *id, const struct raw_opts *o, bool *present)
{
	struct rpkt k;
	int fd = raw_connect_only(id, o);
	CHECK(fd >= 0);
	if (fd < 0)
		return -1;
	int r = raw_read(fd, ARRIVE_MS, &k);
	CHECK_EQ(r, 1);
	CHECK_EQ(k.first, 0x20);
	if (r != 1 || k.first != 0x20 || k.len < 2 || k.body[1] != 0) {
		fprintf(stderr, "    %s: no successful CONNACK\n", id);
		close(fd);
		return -1;
	}
	if (present)
		*present = k.body[0] & 1;
	return fd;
}

/* SUBSCRIBE to one filter at `qos`; returns the SUBACK reason code, or -1. `reason` gets the
 * SUBACK's properties when non-NULL. */
static int raw_subscribe(int fd, const char *filter, int qos, struct rpkt *k, struct rprops *pr)
{
	struct wbuf w = {.n = 0};
	put16(&w, 1);
	putvar(&w, 0);
	putstr(&w, filter);
	put8(&w, (unsigned)qos);
	if (raw_send(fd, 0x82, &w) < 0 || raw_read(fd, ARRIVE_MS, k) != 1 || k->first != 0x90)
		return -1;
	size_t at = 2;
	struct rprops p = parse_props(k->body, k->len, &at);
	if (pr)
		*pr = p;
	return at < k->len ? k->body[at] : -1;
}

static void raw_puback(int fd, uint16_t id)
{
	struct wbuf w = {.n = 0};
	put16(&w, id);
	CHECK_EQ(raw_send(fd, 0x40, &w), 0);
}

/* Receives one PUBLISH; checks the topic on the wire (NULL = empty), the alias (-1 = none)
 * and the payload. Returns true when it all matched; *out keeps what arrived. */
#define EXPECT_PUB(fd, topic, alias, payload, out)                                                 \
	expect_pub_(fd, topic, alias, payload, out, __LINE__)

static bool expect_pub_(int fd, const char *topic, int alias, const char *payload, struct rpub *out,
                        int line)
{
	struct rpkt k;
	unsigned before = check_state_.failed;
	int r = raw_read(fd, ARRIVE_MS, &k);
	CHECK_EQ(r, 1);
	if (r == 1) {
		CHECK(parse_publish(&k, out));
		CHECK_MEM(out->topic, strlen(out->topic), topic ? topic : "",
		          topic ? strlen(topic) : 0);
		CHECK_EQ(out->props.alias, alias);
		CHECK_MEM(out->payload, strlen(out->payload), payload, strlen(payload));
	}
	if (check_state_.failed == before)
		return true;
	fprintf(stderr, "    (line %d: expected topic \"%s\" alias %d \"%s\"", line,
	        topic ? topic : "", alias, payload);
	if (r == 1)
		fprintf(stderr, ", got topic \"%s\" alias %d \"%s\"", out->topic, out->props.alias,
		        out->payload);
	fprintf(stderr, ")\n");
	return false;
}

static void expect_silence(int fd)
{
	struct rpkt k;
	CHECK_EQ(raw_read(fd, QUIET_MS, &k), 0);
}

/* ---- Paho helpers ------------------------------------------------------------------------ */

static MQTTClient paho_up(const char *id, int alias_max)
{
	MQTTClient c = NULL;
	MQTTClient_createOptions co = MQTTClient_createOptions_initializer;
	MQTTClient_connectOptions o = MQTTClient_connectOptions_initializer5;
	MQTTProperties props = MQTTProperties_initializer;
	co.MQTTVersion = MQTTVERSION_5;
	if (MQTTClient_createWithOptions(&c, g_uri, id, MQTTCLIENT_PERSISTENCE_NONE, NULL, &co) !=
	    MQTTCLIENT_SUCCESS) {
		CHECK(0);
		return NULL;
	}
	if (alias_max) {
		MQTTProperty p = {.identifier = MQTTPROPERTY_CODE_TOPIC_ALIAS_MAXIMUM};
		p.value.integer2 = (unsigned short)alias_max;
		CHECK_EQ(MQTTProperties_add(&props, &p), 0);
	}
	o.connectTimeout = 5;
	MQTTResponse r = MQTTClient_connect5(c, &o, &props, NULL);
	CHECK_EQ(r.reasonCode, 0);
	MQTTResponse_free(r);
	MQTTProperties_free(&props);
	if (!MQTTClient_isConnected(c))
		MQTTClient_destroy(&c);
	return c;
}

static void paho_down(MQTTClient *c)
{
	if (!*c)
		return;
	if (MQTTClient_isConnected(*c))
		(void)MQTTClient_disconnect5(*c, 1000, MQTTREASONCODE_SUCCESS, NULL);
	MQTTClient_destroy(c);
}

/* Publishes at QoS 1 and waits for the PUBACK: the broker has routed the message (and queued
 * it to every subscriber) when this returns. */
static void pub(MQTTClient c, const char *topic, const char *payload)
{
	MQTTProperties none = MQTTProperties_initializer;
	MQTTClient_deliveryToken tok = 0;
	MQTTResponse r =
	        MQTTClient_publish5(c, topic, (int)strlen(payload), payload, 1, 0, &none, &tok);
	CHECK_EQ(r.reasonCode, 0);
	MQTTResponse_free(r);
	CHECK_EQ(MQTTClient_waitForCompletion(c, tok, ARRIVE_MS), MQTTCLIENT_SUCCESS);
}

/* ---- tests ------------------------------------------------------------------------------- */

/* Topic Alias Maximum 2, three topics: a topic's first PUBLISH carries it with a new alias,
 * later ones an empty topic and the alias; with both aliases taken the least recently used
 * one is given to the new topic, which is sent along (5.0 §3.3.2.3.4). Never alias 0 or
 * above 2 [MQTT-3.3.2-8], [MQTT-3.1.2-26]. */
static void test_alias_lru(void)
{
	struct raw_opts o = {.alias_max = 2, .problem = -1};
	MQTTClient p = paho_up("al-lru-pub", 0);
	int fd = raw_up("al-lru-sub", &o, NULL);
	struct rpkt k;
	struct rpub m;
	if (fd < 0 || !p)
		goto out;
	CHECK_EQ(raw_subscribe(fd, "al/lru/+", 1, &k, NULL), 1);
	static const struct {
		const char *topic; /* published on al/lru/<topic> */
		bool on_wire;      /* the topic goes along with the alias */
		int alias;
	} seq[] = {
	        {"a", true, 1},  {"a", false, 1}, {"b", true, 2},
	        {"b", false, 2}, {"c", true, 1}, /* both taken: a (alias 1) was used least recently */
	        {"b", false, 2}, {"a", true, 1}, /* a comes back: c (alias 1) is older than b */
	        {"c", true, 2},  {"a", false, 1},
	};
	for (size_t i = 0; i < sizeof(seq) / sizeof(seq[0]); i++) {
		char topic[32], payload[16];
		snprintf(topic, sizeof(topic), "al/lru/%s", seq[i].topic);
		snprintf(payload, sizeof(payload), "m%zu", i);
		pub(p, topic, payload);
		if (EXPECT_PUB(fd, seq[i].on_wire ? topic : NULL, seq[i].alias, payload, &m))
			raw_puback(fd, m.packet_id);
	}
	expect_silence(fd);
out:
	if (fd >= 0)
		close(fd);
	paho_down(&p);
}

/* No Topic Alias Maximum, or 0: no alias is ever sent [MQTT-3.1.2-27]. */
static void test_alias_not_allowed(void)
{
	MQTTClient p = paho_up("al-none-pub", 0);
	struct rpkt k;
	struct rpub m;
	for (int max = -1; max <= 0; max++) {
		struct raw_opts o = {.alias_max = max, .problem = -1};
		int fd = raw_up("al-none-sub", &o, NULL);
		if (fd < 0 || !p)
			break;
		CHECK_EQ(raw_subscribe(fd, "al/none", 0, &k, NULL), 0);
		pub(p, "al/none", "x");
		EXPECT_PUB(fd, "al/none", -1, "x", &m);
		pub(p, "al/none", "y");
		EXPECT_PUB(fd, "al/none", -1, "y", &m);
		close(fd);
	}
	paho_down(&p);
}

/* The alias map lives with the connection [MQTT-3.3.2-7]: a QoS 1 message in flight when the
 * client went away is resent with DUP and its topic (with a fresh alias, or none for a client
 * that now allows none); later messages start a new map. */
static void test_alias_reconnect(void)
{
	struct raw_opts o = {.alias_max = 5, .problem = -1, .expiry = 60};
	MQTTClient p = paho_up("al-re-pub", 0);
	bool present = false;
	struct rpkt k;
	struct rpub m;
	int fd = raw_up("al-re-sub", &o, NULL);
	if (fd < 0 || !p)
		goto out;
	CHECK_EQ(raw_subscribe(fd, "al/re/#", 1, &k, NULL), 1);
	pub(p, "al/re/x", "other"); /* takes alias 1: al/re/t gets 2 on this connection */
	if (EXPECT_PUB(fd, "al/re/x", 1, "other", &m))
		raw_puback(fd, m.packet_id);
	pub(p, "al/re/t", "one");
	if (EXPECT_PUB(fd, "al/re/t", 2, "one", &m))
		raw_puback(fd, m.packet_id);
	pub(p, "al/re/t", "two"); /* left unacknowledged */
	EXPECT_PUB(fd, NULL, 2, "two", &m);
	close(fd);

	o.resume = true;
	fd = raw_up("al-re-sub", &o, &present);
	if (fd < 0)
		goto out;
	CHECK(present);
	if (EXPECT_PUB(fd, "al/re/t", 1, "two", &m))
		CHECK(m.dup); /* [MQTT-3.3.1-1] */
	pub(p, "al/re/t", "three");
	if (EXPECT_PUB(fd, NULL, 1, "three", &m))
		raw_puback(fd, m.packet_id);
	close(fd); /* "two" still unacknowledged */

	o.alias_max = -1;
	fd = raw_up("al-re-sub", &o, &present);
	if (fd < 0)
		goto out;
	if (EXPECT_PUB(fd, "al/re/t", -1, "two", &m)) {
		CHECK(m.dup);
		raw_puback(fd, m.packet_id);
	}
	expect_silence(fd);
out:
	if (fd >= 0)
		close(fd);
	paho_down(&p);
}

/* What a Paho C application sees: Paho 1.3 does not resolve incoming aliases, so the first
 * message has the topic and the alias property, the next ones an empty topic name and the
 * same alias; an application allowing aliases maps them itself. */
static void test_alias_paho(void)
{
	MQTTClient p = paho_up("al-paho-pub", 0), s = paho_up("al-paho-sub", 4);
	char *resolved[5] = {0};
	int empty = 0;
	if (!p || !s)
		goto out;
	MQTTSubscribe_options so = MQTTSubscribe_options_initializer;
	MQTTProperties none = MQTTProperties_initializer;
	MQTTResponse r = MQTTClient_subscribe5(s, "al/paho/#", 1, &so, &none);
	CHECK_EQ(r.reasonCode, 1);
	MQTTResponse_free(r);
	static const char *const topics[] = {"al/paho/a", "al/paho/a", "al/paho/b", "al/paho/a"};
	for (size_t i = 0; i < 4; i++)
		pub(p, topics[i], "p");
	for (size_t i = 0; i < 4; i++) {
		char *topic = NULL;
		int tlen = 0;
		MQTTClient_message *m = NULL;
		int rc = MQTTClient_receive(s, &topic, &tlen, &m, ARRIVE_MS);
		CHECK(rc == MQTTCLIENT_SUCCESS && m != NULL);
		if (!m)
			break;
		int alias =
		        MQTTProperties_hasProperty(&m->properties, MQTTPROPERTY_CODE_TOPIC_ALIAS)
		                ? MQTTProperties_getNumericValue(&m->properties,
		                                                 MQTTPROPERTY_CODE_TOPIC_ALIAS)
		                : -1;
		CHECK(alias >= 1 && alias <= 4);
		if (alias >= 1 && alias <= 4) {
			/* tlen is set only for a topic with an embedded NUL. */
			size_t len = tlen ? (size_t)tlen : strlen(topic);
			if (len) { /* alias set: remember it, as an application has to */
				free(resolved[alias]);
				resolved[alias] = strndup(topic, len);
			} else {
				empty++;
			}
			const char *t = resolved[alias] ? resolved[alias] : "";
			CHECK_MEM(t, strlen(t), topics[i], strlen(topics[i]));
		}
		MQTTClient_freeMessage(&m);
		MQTTClient_free(topic);
	}
	printf("paho: %d of 4 messages came with an empty topic name and an alias\n", empty);
out:
	for (int i = 0; i < 5; i++)
		free(resolved[i]);
	paho_down(&s);
	paho_down(&p);
}

/* Expects a DISCONNECT with `reason` whose Reason String contains `text`. */
static void expect_disconnect(int fd, uint8_t reason, const char *text, int timeout_ms)
{
	struct rpkt k;
	size_t at = 1;
	CHECK_EQ(raw_read(fd, timeout_ms, &k), 1);
	CHECK_EQ(k.first, 0xE0);
	CHECK(k.len >= 1);
	if (k.first != 0xE0 || k.len < 1)
		return;
	CHECK_EQ(k.body[0], reason);
	struct rprops pr = parse_props(k.body, k.len, &at);
	CHECK(pr.ok);
	CHECK(pr.reason_len > 0);
	if (pr.reason_len > 0 && !memmem(pr.reason, (size_t)pr.reason_len, text, strlen(text))) {
		CHECK(0);
		fprintf(stderr, "    Reason String \"%.*s\" does not mention \"%s\"\n",
		        pr.reason_len, (const char *)pr.reason, text);
	}
}

/* Reason Strings on the packets that end or refuse a connection: a Topic Alias above the
 * server's maximum (0x94), a keep alive timeout (0x8D), a refused CONNECT (0x8C). They are
 * sent with Request Problem Information 0 too, which allows them on CONNACK and DISCONNECT
 * [MQTT-3.1.2-29]. */
static void test_reason_string_disconnect(void)
{
	for (int problem = -1; problem <= 0; problem++) {
		struct raw_opts o = {.alias_max = -1, .problem = problem};
		int fd = raw_up("rs-alias", &o, NULL);
		if (fd < 0)
			return;
		struct wbuf w = {.n = 0}, pr = {.n = 0};
		putstr(&w, "rs/x");
		put8(&pr, 0x23);
		put16(&pr, MAX_TOPIC_ALIAS + 1);
		putprops(&w, &pr);
		putbytes(&w, "x", 1);
		CHECK_EQ(raw_send(fd, 0x30, &w), 0);
		expect_disconnect(fd, 0x94, "topic alias", ARRIVE_MS);
		close(fd);
	}

	struct raw_opts o = {.alias_max = -1, .problem = -1, .keepalive = 1};
	int fd = raw_up("rs-keepalive", &o, NULL);
	if (fd >= 0) {
		expect_disconnect(fd, 0x8D, "keep alive", 4000);
		close(fd);
	}

	o = (struct raw_opts){.alias_max = -1, .problem = 0, .auth_method = "SCRAM-SHA-1"};
	fd = raw_connect_only("rs-auth", &o);
	CHECK(fd >= 0);
	if (fd >= 0) {
		struct rpkt k;
		size_t at = 2;
		CHECK_EQ(raw_read(fd, ARRIVE_MS, &k), 1);
		CHECK_EQ(k.first, 0x20);
		CHECK(k.len >= 3 && k.body[1] == 0x8C);
		struct rprops p = parse_props(k.body, k.len, &at);
		CHECK(p.ok && p.reason_len > 0);
		close(fd);
	}
}

/* Reason Strings on other packets only when the client asked for problem information
 * [MQTT-3.1.2-29]: PUBACK 0x97 for a payload over message_size_limit, SUBACK 0x8F. */
static void test_reason_string_acks(void)
{
	char big[SIZE_LIMIT + 50];
	memset(big, 'B', sizeof(big));
	for (int problem = -1; problem <= 0; problem++) {
		struct raw_opts o = {.alias_max = -1, .problem = problem};
		struct rpkt k;
		struct rprops pr;
		int fd = raw_up("rs-acks", &o, NULL);
		if (fd < 0)
			return;
		struct wbuf w = {.n = 0};
		putstr(&w, "rs/big");
		put16(&w, 7);
		putvar(&w, 0);
		putbytes(&w, big, sizeof(big));
		CHECK_EQ(raw_send(fd, 0x32, &w), 0);
		CHECK_EQ(raw_read(fd, ARRIVE_MS, &k), 1);
		CHECK_EQ(k.first, 0x40);
		if (k.first == 0x40 && k.len >= 3) {
			size_t at = 3;
			CHECK_EQ(k.body[2], 0x97);
			pr = k.len > 3 ? parse_props(k.body, k.len, &at)
			               : (struct rprops){.reason_len = -1, .ok = true};
			CHECK(pr.ok);
			if (problem)
				CHECK(pr.reason_len > 0);
			else
				CHECK_EQ(pr.reason_len, -1);
		}
		CHECK_EQ(raw_subscribe(fd, "rs/#/bad", 0, &k, &pr), 0x8F);
		CHECK(pr.ok);
		if (problem)
			CHECK(pr.reason_len > 0);
		else
			CHECK_EQ(pr.reason_len, -1);
		close(fd);
	}
}

int main(int argc, char **argv)
{
	const char *bin = broker_fixture_bin(argc, argv);
	struct broker_fixture f;
	if (!bin)
		return 2;
	setvbuf(stdout, NULL, _IONBF, 0);
	if (broker_fixture_start(&f, bin, PORT, BROKER_EXTRA) < 0)
		return 1;
	g_uri = f.uri;

	test_alias_lru();
	test_alias_not_allowed();
	test_alias_reconnect();
	test_alias_paho();
	test_reason_string_disconnect();
	test_reason_string_acks();

	CHECK_EQ(broker_fixture_stop(&f, check_state_.failed > 0), 0);
	return check_report();
}
