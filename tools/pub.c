/* pub.c - mqtt-fast-pub: publishes one message over MQTT 3.1.1/5 (TCP) or MQTT-SN 1.2 (UDP,
 * --sn) and exits; 0 once the message went through its QoS flow, 1 otherwise. */
#include "args.h"
#include "client_mqtt.h"
#include "client_sn.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

/* Checks the reason code of a PUBACK / PUBREC / PUBCOMP (MQTT 5; 0 in 3.1.1). */
static int check_ack(const struct mqtt_client *c, const struct mqtt_packet *ack)
{
	if (ack->ack.reason < 0x80)
		return 0;
	fprintf(stderr, "%s: publish refused by the server: %s (0x%02x)\n", c->prog,
	        mqtt_reason_name(ack->ack.reason), ack->ack.reason);
	return -ECONNREFUSED;
}

/* The QoS flow after PUBLISH [MQTT-4.3]: PUBACK, or PUBREC / PUBREL / PUBCOMP. */
static int publish_flow(struct mqtt_client *c, uint8_t qos, uint16_t mid)
{
	struct mqtt_packet ack, rel = {.type = MQTT_PUBREL, .ack = {.packet_id = mid}};
	int err;

	if (qos == 0)
		return 0;
	err = mc_wait_ack(c, qos == 1 ? MQTT_PUBACK : MQTT_PUBREC, mid, &ack);
	if (!err)
		err = check_ack(c, &ack);
	if (err || qos == 1)
		return err;
	err = mc_send(c, &rel);
	if (!err)
		err = mc_wait_ack(c, MQTT_PUBCOMP, mid, &ack);
	if (!err)
		err = check_ack(c, &ack);
	return err;
}

static int pub_mqtt(const struct cli_args *a)
{
	struct mqtt_client *c = calloc(1, sizeof(*c));
	struct mqtt_packet p = {.type = MQTT_PUBLISH};
	int err;

	if (!c)
		return -ENOMEM;
	err = mc_connect(c, a);
	if (err)
		goto out;
	p.publish.qos = (uint8_t)a->qos;
	p.publish.retain = a->retain;
	p.publish.topic =
	        (struct mqtt_str){(const uint8_t *)a->topics[0], (uint16_t)strlen(a->topics[0])};
	p.publish.payload = a->msg;
	p.publish.payload_len = (uint32_t)a->msg_len;
	if (a->qos)
		p.publish.packet_id = mc_next_mid(c);
	err = mc_send(c, &p);
	if (!err)
		err = publish_flow(c, p.publish.qos, p.publish.packet_id);
	if (!err || err == -ECONNREFUSED)
		mc_disconnect(c);
out:
	mc_close(c);
	free(c);
	return err;
}

static int pub_sn(const struct cli_args *a)
{
	struct sn_client *c = calloc(1, sizeof(*c));
	struct mqttsn_publish p = {.flags = {.qos = (int8_t)a->qos, .retain = a->retain}};
	const char *topic = a->ntopics ? a->topics[0] : NULL;
	bool connected = false;
	int err;

	if (!c)
		return -ENOMEM;
	p.data = (struct mqtt_str){a->msg, (uint16_t)a->msg_len};
	if (!topic) {
		p.flags.topic_id_type = MQTTSN_TOPIC_PREDEFINED;
		p.topic_id = (uint16_t)a->sn_topic_id;
	} else if (strlen(topic) == 2) { /* §3.2: a short topic name needs no REGISTER */
		p.flags.topic_id_type = MQTTSN_TOPIC_SHORT;
		p.topic_id = MQTTSN_SHORT_TOPIC(topic[0], topic[1]);
	}
	err = sn_open(c, a, NULL, NULL);
	if (!err && a->qos != MQTTSN_QOS_M1) { /* §6.8: QoS -1 needs no connection */
		err = sn_connect(c, a);
		connected = !err;
	}
	if (!err && p.flags.topic_id_type == MQTTSN_TOPIC_NORMAL)
		err = sn_register(c, topic, &p.topic_id);
	if (!err)
		err = sn_publish(c, &p);
	if (connected && (!err || err == -ECONNREFUSED)) {
		int derr = sn_disconnect(c, 0);
		err = err ? err : derr;
	}
	sn_close(c);
	free(c);
	return err;
}

int main(int argc, char **argv)
{
	struct cli_args a;
	int err = cli_args_parse(&a, CLI_PUB, argc, argv);

	if (err)
		return err > 0 ? CLI_EXIT_OK : CLI_EXIT_ERROR;
	err = a.sn ? pub_sn(&a) : pub_mqtt(&a);
	if (err == -ENOMEM)
		fprintf(stderr, "%s: out of memory\n", a.prog);
	cli_args_free(&a);
	return err ? CLI_EXIT_ERROR : CLI_EXIT_OK;
}
