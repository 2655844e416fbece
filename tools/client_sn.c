/* client_sn.c - the UDP session of mqtt-fast-pub --sn / mqtt-fast-sub --sn (MQTT-SN 1.2):
 * requests retransmitted after Tretry up to Nretry times (§6.13), the gateway's REGISTER
 * answered and remembered so that PUBLISH topic ids print as names, incoming QoS 1/2 acked
 * (QoS 2 delivered once per MsgId until its PUBREL), PINGREQ for keep-alive and wake-up. */
#include "client_sn.h"

#include <errno.h>
#include <netdb.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define TYPE_BIT(t) (1u << (t)) /* MsgTypes below 32 */

static const char *rc_name(uint8_t code)
{
	static const char *const names[] = {"accepted", "rejected: congestion",
	                                    "rejected: invalid topic ID",
	                                    "rejected: not supported"};

	return code < 4 ? names[code] : "reserved return code";
}

/* The topic of a PUBLISH or SUBSCRIBE for debug lines. */
static void debug_topic(uint8_t type, uint16_t id, struct mqtt_str name)
{
	if (type == MQTTSN_TOPIC_SHORT)
		fprintf(stderr, "'%c%c'", id >> 8, id & 0xff);
	else if (type == MQTTSN_TOPIC_PREDEFINED)
		fprintf(stderr, "predefined %u", id);
	else if (name.len)
		fprintf(stderr, "'%.*s'", (int)name.len, (const char *)name.p);
	else
		fprintf(stderr, "id %u", id);
}

static void debug_msg(const struct sn_client *c, const char *dir, const struct mqttsn_msg *m)
{
	const struct mqttsn_publish *p = &m->publish;
	const struct mqttsn_subscribe *s = &m->subscribe;

	fprintf(stderr, "Client %s %s %s", c->id, dir, mqttsn_type_name(m->type));
	switch (m->type) {
	case MQTTSN_PUBLISH:
		fprintf(stderr, " (d%d, q%d, r%d, m%u, ", p->flags.dup, p->flags.qos,
		        p->flags.retain, p->msg_id);
		debug_topic(p->flags.topic_id_type, p->topic_id, (struct mqtt_str){0});
		fprintf(stderr, ", ... (%u bytes))", p->data.len);
		break;
	case MQTTSN_SUBSCRIBE:
		fprintf(stderr, " (Mid: %u, QoS: %d, Topic: ", s->msg_id, s->flags.qos);
		debug_topic(s->flags.topic_id_type, s->topic_id, s->topic_name);
		fprintf(stderr, ")");
		break;
	case MQTTSN_REGISTER:
		fprintf(stderr, " (TopicId: %u, Mid: %u, '%.*s')", m->reg.topic_id, m->reg.msg_id,
		        (int)m->reg.topic_name.len, (const char *)m->reg.topic_name.p);
		break;
	case MQTTSN_REGACK:
	case MQTTSN_PUBACK:
		fprintf(stderr, " (TopicId: %u, Mid: %u, RC: %u)", m->topic_ack.topic_id,
		        m->topic_ack.msg_id, m->topic_ack.code);
		break;
	case MQTTSN_SUBACK:
		fprintf(stderr, " (TopicId: %u, Mid: %u, QoS: %d, RC: %u)", m->suback.topic_id,
		        m->suback.msg_id, m->suback.flags.qos, m->suback.code);
		break;
	case MQTTSN_PUBREC:
	case MQTTSN_PUBREL:
	case MQTTSN_PUBCOMP:
		fprintf(stderr, " (Mid: %u)", m->msg_id.msg_id);
		break;
	case MQTTSN_CONNACK:
		fprintf(stderr, " (%u)", m->ret.code);
		break;
	case MQTTSN_DISCONNECT:
		if (m->disconnect.has_duration)
			fprintf(stderr, " (Duration: %u)", m->disconnect.duration);
		break;
	default:
		break;
	}
	fprintf(stderr, "\n");
}

static const char *name_find(const struct sn_client *c, uint16_t id)
{
	for (size_t i = 0; i < c->nnames; i++)
		if (c->names[i].id == id)
			return c->names[i].name;
	return NULL;
}

/* Remembers topic id -> name (replacing an older mapping). */
static int name_add(struct sn_client *c, uint16_t id, const uint8_t *name, size_t len)
{
	char *copy = strndup((const char *)name, len);
	size_t i;

	if (!copy)
		return -ENOMEM;
	for (i = 0; i < c->nnames && c->names[i].id != id; i++)
		;
	if (i == c->nnames) {
		struct sn_topic_name *n = realloc(c->names, (c->nnames + 1) * sizeof(*n));
		if (!n) {
			free(copy);
			return -ENOMEM;
		}
		c->names = n;
		c->nnames++;
	} else {
		free(c->names[i].name);
	}
	c->names[i] = (struct sn_topic_name){id, copy};
	return 0;
}

/* Connects a UDP socket, IPv4 addresses first: an unanswered datagram to ::1 while the gateway
 * listens on 127.0.0.1 only would cost the whole retry budget. */
static int udp_open(struct sn_client *c, const char *host, int port)
{
	struct addrinfo hints = {.ai_family = AF_UNSPEC, .ai_socktype = SOCK_DGRAM};
	struct addrinfo *res, *ai;
	char service[8];
	int fd = -1, gai;

	snprintf(service, sizeof(service), "%d", port);
	gai = getaddrinfo(host, service, &hints, &res);
	if (gai) {
		fprintf(stderr, "%s: cannot resolve '%s': %s\n", c->prog, host, gai_strerror(gai));
		return -EHOSTUNREACH;
	}
	for (int pass = 0; pass < 2 && fd < 0; pass++) {
		for (ai = res; ai && fd < 0; ai = ai->ai_next) {
			if ((ai->ai_family == AF_INET) != (pass == 0))
				continue;
			fd = socket(ai->ai_family, SOCK_DGRAM | SOCK_CLOEXEC, 0);
			if (fd >= 0 && connect(fd, ai->ai_addr, ai->ai_addrlen) < 0) {
				close(fd);
				fd = -1;
			}
		}
	}
	freeaddrinfo(res);
	if (fd < 0) {
		fprintf(stderr, "%s: cannot open a UDP socket to %s port %d\n", c->prog, host,
		        port);
		return -EHOSTUNREACH;
	}
	c->fd = fd;
	return 0;
}

int sn_open(struct sn_client *c, const struct cli_args *a, sn_deliver_fn deliver, void *ctx)
{
	c->fd = -1;
	c->prog = a->prog;
	c->id = a->id;
	c->debug = a->debug;
	c->last_mid = 0;
	c->deliver = deliver;
	c->deliver_ctx = ctx;
	c->names = NULL;
	c->nnames = 0;
	c->nqos2_in = 0;
	return udp_open(c, a->host, a->port);
}

void sn_close(struct sn_client *c)
{
	for (size_t i = 0; i < c->nnames; i++)
		free(c->names[i].name);
	free(c->names);
	c->names = NULL;
	c->nnames = 0;
	if (c->fd >= 0)
		close(c->fd);
	c->fd = -1;
}

static uint16_t next_mid(struct sn_client *c)
{
	if (++c->last_mid == 0)
		c->last_mid = 1;
	return c->last_mid;
}

int sn_send(struct sn_client *c, const struct mqttsn_msg *m)
{
	long size = mqttsn_encoded_size(m);
	uint8_t *buf = NULL;
	int err = 0;

	if (size < 0) {
		err = (int)size;
		goto out;
	}
	buf = malloc((size_t)size);
	if (!buf) {
		err = -ENOMEM;
		goto out;
	}
	if (c->debug)
		debug_msg(c, "sending", m);
	size = mqttsn_encode(m, buf, (size_t)size);
	if (size < 0)
		err = (int)size;
	else if (send(c->fd, buf, (size_t)size, 0) < 0)
		err = errno == ECONNREFUSED ? -EHOSTUNREACH : -errno; /* an earlier ICMP */
	c->last_tx_ms = cli_now_ms();
out:
	if (err)
		fprintf(stderr, "%s: sending %s failed: %s\n", c->prog, mqttsn_type_name(m->type),
		        strerror(-err));
	free(buf);
	return err;
}

/* Waits until `deadline` for one well-formed datagram (malformed ones are skipped). 1 with
 * *out viewing c->rx, 0 on timeout, or a negative errno (-EHOSTUNREACH: nothing listens). */
static int recv_one(struct sn_client *c, struct mqttsn_msg *out, long long deadline)
{
	for (;;) {
		struct pollfd pfd = {.fd = c->fd, .events = POLLIN};
		int r = poll(&pfd, 1, cli_ms_left(deadline));

		if (r < 0)
			return -errno;
		if (r == 0)
			return 0;
		ssize_t n = recv(c->fd, c->rx, sizeof(c->rx), 0);
		if (n < 0 && errno == ECONNREFUSED) {
			fprintf(stderr,
			        "%s: no MQTT-SN gateway at the address (port unreachable)\n",
			        c->prog);
			return -EHOSTUNREACH;
		}
		if (n < 0)
			return errno == EAGAIN ? 0 : -errno;
		r = mqttsn_decode(c->rx, (size_t)n, out);
		if (r == 0 && out->type != MQTTSN_ENCAPSULATED) {
			if (c->debug)
				debug_msg(c, "received", out);
			return 1;
		}
		if (c->debug)
			fprintf(stderr, "Client %s ignoring a %zd-byte datagram (%s)\n", c->id, n,
			        r ? strerror(-r) : "encapsulated");
	}
}

static int send_topic_ack(struct sn_client *c, uint8_t type, uint16_t topic_id, uint16_t mid,
                          uint8_t code)
{
	struct mqttsn_msg m = {.type = type, .topic_ack = {topic_id, mid, code}};

	return sn_send(c, &m);
}

static int send_mid(struct sn_client *c, uint8_t type, uint16_t mid)
{
	struct mqttsn_msg m = {.type = type, .msg_id = {mid}};

	return sn_send(c, &m);
}

static int qos2_find(const struct sn_client *c, uint16_t mid)
{
	for (unsigned i = 0; i < c->nqos2_in; i++)
		if (c->qos2_in[i] == mid)
			return (int)i;
	return -1;
}

/* An incoming PUBLISH (§6.8): resolve the topic, deliver, ack. */
static int on_publish(struct sn_client *c, const struct mqttsn_publish *p)
{
	char num[8];
	const char *name = NULL;
	bool dup2 = p->flags.qos == 2 && qos2_find(c, p->msg_id) >= 0;

	if (p->flags.topic_id_type == MQTTSN_TOPIC_SHORT) {
		num[0] = (char)(p->topic_id >> 8);
		num[1] = (char)(p->topic_id & 0xff);
		num[2] = 0;
		name = num;
	} else if (p->flags.topic_id_type == MQTTSN_TOPIC_PREDEFINED) {
		/* Predefined ids are a space of their own (§3), apart from the ids the gateway
		 * REGISTERed: the client knows no names for them, it shows the number. */
		snprintf(num, sizeof(num), "%u", p->topic_id);
		name = num;
	} else {
		name = name_find(c, p->topic_id);
	}
	if (!name) /* §6.10: an unknown topic id is refused with "invalid topic ID" */
		return send_topic_ack(c, MQTTSN_PUBACK, p->topic_id, p->msg_id,
		                      MQTTSN_RC_INVALID_TOPIC_ID);
	if (!dup2 && c->deliver)
		c->deliver(c->deliver_ctx, name,
		           p->flags.topic_id_type == MQTTSN_TOPIC_SHORT ? 2 : strlen(name),
		           p->data.p, p->data.len);
	if (p->flags.qos == 1)
		return send_topic_ack(c, MQTTSN_PUBACK, p->topic_id, p->msg_id, MQTTSN_RC_ACCEPTED);
	if (p->flags.qos != 2)
		return 0;
	if (!dup2 && c->nqos2_in < SN_QOS2_IN)
		c->qos2_in[c->nqos2_in++] = p->msg_id;
	return send_mid(c, MQTTSN_PUBREC, p->msg_id);
}

/* What the gateway may send at any time. */
static int handle(struct sn_client *c, const struct mqttsn_msg *m)
{
	int i;

	switch (m->type) {
	case MQTTSN_REGISTER: /* §6.10: the gateway tells us a topic id before using it */
	{
		int err = name_add(c, m->reg.topic_id, m->reg.topic_name.p, m->reg.topic_name.len);
		return err ? err
		           : send_topic_ack(c, MQTTSN_REGACK, m->reg.topic_id, m->reg.msg_id,
		                            MQTTSN_RC_ACCEPTED);
	}
	case MQTTSN_PUBLISH:
		return on_publish(c, &m->publish);
	case MQTTSN_PUBREL:
		i = qos2_find(c, m->msg_id.msg_id);
		if (i >= 0)
			c->qos2_in[i] = c->qos2_in[--c->nqos2_in];
		return send_mid(c, MQTTSN_PUBCOMP, m->msg_id.msg_id);
	case MQTTSN_PINGREQ: {
		struct mqttsn_msg resp = {.type = MQTTSN_PINGRESP};
		return sn_send(c, &resp);
	}
	case MQTTSN_DISCONNECT:
		fprintf(stderr, "%s: the gateway disconnected\n", c->prog);
		return -ECONNRESET;
	default:
		return 0; /* ADVERTISE, GWINFO, stray acks */
	}
}

/* The MsgId of a reply, 0 for types without one. */
static uint16_t reply_mid(const struct mqttsn_msg *m)
{
	switch (m->type) {
	case MQTTSN_REGACK:
	case MQTTSN_PUBACK:
		return m->topic_ack.msg_id;
	case MQTTSN_PUBREC:
	case MQTTSN_PUBCOMP:
	case MQTTSN_UNSUBACK:
		return m->msg_id.msg_id;
	case MQTTSN_SUBACK:
		return m->suback.msg_id;
	default:
		return 0;
	}
}

/* Sends `req` and waits for a reply whose type is in `want` (TYPE_BIT mask) with MsgId `mid`
 * (0: any), handling everything else; retransmits after SN_TRETRY_MS, SN_NRETRY times, a
 * PUBLISH with DUP set (§6.13). 0 with *reply set, or a negative errno. */
static int transact(struct sn_client *c, struct mqttsn_msg *req, uint32_t want, uint16_t mid,
                    struct mqttsn_msg *reply)
{
	int r = 0;

	for (int attempt = 0; attempt <= SN_NRETRY; attempt++) {
		if (attempt && req->type == MQTTSN_PUBLISH)
			req->publish.flags.dup = true;
		r = sn_send(c, req);
		if (r)
			return r;
		long long deadline = cli_now_ms() + SN_TRETRY_MS;
		while ((r = recv_one(c, reply, deadline)) > 0) {
			if (reply->type < 32 && (want & TYPE_BIT(reply->type)) &&
			    (!mid || reply_mid(reply) == mid))
				return 0;
			r = handle(c, reply);
			if (r)
				return r;
		}
		if (r < 0)
			return r;
	}
	fprintf(stderr, "%s: no answer to %s from the gateway (%d attempts, %d s apart)\n", c->prog,
	        mqttsn_type_name(req->type), SN_NRETRY + 1, SN_TRETRY_MS / 1000);
	return -ETIMEDOUT;
}

/* WILLTOPICREQ / WILLMSGREQ (§6.3) until CONNACK. */
static int will_exchange(struct sn_client *c, const struct cli_args *a, struct mqttsn_msg *reply)
{
	struct mqttsn_msg m = {.type = MQTTSN_WILLTOPIC};
	const uint32_t want = TYPE_BIT(MQTTSN_CONNACK) | TYPE_BIT(MQTTSN_WILLMSGREQ);
	int err = 0;

	if (reply->type == MQTTSN_WILLTOPICREQ) {
		m.willtopic.flags.qos = (int8_t)a->will_qos;
		m.willtopic.flags.retain = a->will_retain;
		m.willtopic.topic = (struct mqtt_str){(const uint8_t *)a->will_topic,
		                                      (uint16_t)strlen(a->will_topic)};
		err = transact(c, &m, want, 0, reply);
	}
	if (!err && reply->type == MQTTSN_WILLMSGREQ) {
		const char *msg = a->will_payload ? a->will_payload : "";

		m = (struct mqttsn_msg){.type = MQTTSN_WILLMSG};
		m.willmsg.msg = (struct mqtt_str){(const uint8_t *)msg, (uint16_t)strlen(msg)};
		err = transact(c, &m, TYPE_BIT(MQTTSN_CONNACK), 0, reply);
	}
	return err;
}

int sn_connect(struct sn_client *c, const struct cli_args *a)
{
	struct mqttsn_msg m = {.type = MQTTSN_CONNECT}, reply;
	int err;

	m.connect.flags.clean_session = a->clean;
	m.connect.flags.will = a->will_topic != NULL;
	m.connect.duration = (uint16_t)a->keepalive;
	m.connect.client_id = (struct mqtt_str){(const uint8_t *)a->id, (uint16_t)strlen(a->id)};
	err = transact(c, &m, TYPE_BIT(MQTTSN_CONNACK) | TYPE_BIT(MQTTSN_WILLTOPICREQ), 0, &reply);
	if (!err && reply.type != MQTTSN_CONNACK)
		err = will_exchange(c, a, &reply);
	if (!err && reply.ret.code != MQTTSN_RC_ACCEPTED) {
		fprintf(stderr, "%s: Connection Refused: %s (return code %u)\n", c->prog,
		        rc_name(reply.ret.code), reply.ret.code);
		err = -ECONNREFUSED;
	}
	return err;
}

int sn_register(struct sn_client *c, const char *topic, uint16_t *topic_id)
{
	struct mqttsn_msg m = {.type = MQTTSN_REGISTER}, reply;
	uint16_t mid = next_mid(c);
	int err;

	m.reg.msg_id = mid;
	m.reg.topic_name = (struct mqtt_str){(const uint8_t *)topic, (uint16_t)strlen(topic)};
	err = transact(c, &m, TYPE_BIT(MQTTSN_REGACK), mid, &reply);
	if (err)
		return err;
	if (reply.topic_ack.code != MQTTSN_RC_ACCEPTED) {
		fprintf(stderr, "%s: REGISTER '%s' %s\n", c->prog, topic,
		        rc_name(reply.topic_ack.code));
		return -ECONNREFUSED;
	}
	*topic_id = reply.topic_ack.topic_id;
	return name_add(c, *topic_id, (const uint8_t *)topic, strlen(topic));
}

int sn_publish(struct sn_client *c, const struct mqttsn_publish *p)
{
	struct mqttsn_msg m = {.type = MQTTSN_PUBLISH, .publish = *p}, reply;
	const uint32_t want2 = TYPE_BIT(MQTTSN_PUBREC) | TYPE_BIT(MQTTSN_PUBACK);
	uint16_t mid = 0;
	int err;

	if (p->flags.qos <= 0)
		return sn_send(c, &m); /* QoS 0 and -1: no ack, MsgId 0x0000 (§5.4.12) */
	mid = next_mid(c);
	m.publish.msg_id = mid;
	err = transact(c, &m, p->flags.qos == 1 ? TYPE_BIT(MQTTSN_PUBACK) : want2, mid, &reply);
	if (err)
		return err;
	if (reply.type == MQTTSN_PUBACK && reply.topic_ack.code != MQTTSN_RC_ACCEPTED) {
		fprintf(stderr, "%s: PUBLISH %s\n", c->prog, rc_name(reply.topic_ack.code));
		return -ECONNREFUSED;
	}
	if (reply.type == MQTTSN_PUBACK && p->flags.qos == 2) {
		fprintf(stderr, "%s: PUBACK where PUBREC was expected\n", c->prog);
		return -EPROTO;
	}
	if (p->flags.qos == 1)
		return 0;
	m = (struct mqttsn_msg){.type = MQTTSN_PUBREL, .msg_id = {mid}};
	return transact(c, &m, TYPE_BIT(MQTTSN_PUBCOMP), mid, &reply);
}

int sn_subscribe(struct sn_client *c, const char *topic, uint16_t predefined, int qos)
{
	struct mqttsn_msg m = {.type = MQTTSN_SUBSCRIBE}, reply;
	struct mqttsn_subscribe *s = &m.subscribe;
	size_t len = topic ? strlen(topic) : 0;
	bool wild = topic && strpbrk(topic, "+#");
	int err;

	s->flags.qos = (int8_t)qos;
	s->msg_id = next_mid(c);
	if (!topic) {
		s->flags.topic_id_type = MQTTSN_TOPIC_PREDEFINED;
		s->topic_id = predefined;
	} else if (len == 2 && !wild) {
		s->flags.topic_id_type = MQTTSN_TOPIC_SHORT;
		s->topic_id = MQTTSN_SHORT_TOPIC(topic[0], topic[1]);
	} else {
		s->topic_name = (struct mqtt_str){(const uint8_t *)topic, (uint16_t)len};
	}
	err = transact(c, &m, TYPE_BIT(MQTTSN_SUBACK), s->msg_id, &reply);
	if (err)
		return err;
	if (reply.suback.code != MQTTSN_RC_ACCEPTED) {
		if (topic)
			fprintf(stderr, "%s: SUBSCRIBE '%s' %s\n", c->prog, topic,
			        rc_name(reply.suback.code));
		else
			fprintf(stderr, "%s: SUBSCRIBE predefined id %u %s\n", c->prog, predefined,
			        rc_name(reply.suback.code));
		return -ECONNREFUSED;
	}
	/* §6.9: a name without wildcards gets its topic id in SUBACK. */
	if (topic && len != 2 && !wild && reply.suback.topic_id)
		return name_add(c, reply.suback.topic_id, (const uint8_t *)topic, len);
	return 0;
}

int sn_ping(struct sn_client *c, bool wake)
{
	struct mqttsn_msg m = {.type = MQTTSN_PINGREQ}, reply;

	if (wake)
		m.pingreq.client_id =
		        (struct mqtt_str){(const uint8_t *)c->id, (uint16_t)strlen(c->id)};
	return transact(c, &m, TYPE_BIT(MQTTSN_PINGRESP), 0, &reply);
}

int sn_disconnect(struct sn_client *c, long duration)
{
	struct mqttsn_msg m = {.type = MQTTSN_DISCONNECT}, reply;

	m.disconnect.has_duration = duration > 0;
	m.disconnect.duration = (uint16_t)(duration > 0 ? duration : 0);
	return transact(c, &m, TYPE_BIT(MQTTSN_DISCONNECT), 0, &reply);
}

int sn_poll(struct sn_client *c, long long deadline)
{
	struct mqttsn_msg m;
	int r = recv_one(c, &m, deadline);

	if (r <= 0)
		return r;
	r = handle(c, &m);
	return r ? r : 1;
}
