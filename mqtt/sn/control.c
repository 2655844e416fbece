/* control.c - MQTT-SN gateway discovery and link control: ADVERTISE, SEARCHGW, GWINFO, PINGREQ,
 * PINGRESP, DISCONNECT, and the Forwarder Encapsulation (MQTT-SN 1.2 §5.4.1-3, §5.4.19-21, §5.5). */
#include "sncodec.h"

#include <errno.h>

int mqttsn_control_decode(uint8_t type, struct mqtt_reader *r, struct mqttsn_msg *out)
{
	int err = 0;

	switch (type) {
	case MQTTSN_ADVERTISE: /* §5.4.1: GwId, Duration */
		err = mqtt_read_u8(r, &out->advertise.gw_id);
		if (!err)
			err = mqtt_read_u16(r, &out->advertise.duration);
		break;
	case MQTTSN_SEARCHGW: /* §5.4.2: Radius */
		err = mqtt_read_u8(r, &out->searchgw.radius);
		break;
	case MQTTSN_GWINFO: /* §5.4.3: GwId, GwAdd (only when sent by a client) */
		err = mqtt_read_u8(r, &out->gwinfo.gw_id);
		if (!err)
			mqttsn_read_rest(r, &out->gwinfo.gw_add);
		break;
	case MQTTSN_PINGREQ: /* §5.4.19: ClientId optional */
		mqttsn_read_rest(r, &out->pingreq.client_id);
		break;
	case MQTTSN_PINGRESP: /* §5.4.20: no body */
		break;
	case MQTTSN_DISCONNECT: /* §5.4.21: Duration optional (sleeping client) */
		if (mqtt_reader_left(r) == 0)
			break;
		out->disconnect.has_duration = true;
		err = mqtt_read_u16(r, &out->disconnect.duration);
		break;
	default:
		err = -ENOTSUP;
		break;
	}
	return err;
}

long mqttsn_control_body_size(const struct mqttsn_msg *m)
{
	switch (m->type) {
	case MQTTSN_ADVERTISE:
		return 3;
	case MQTTSN_SEARCHGW:
		return 1;
	case MQTTSN_GWINFO:
		if (!mqttsn_view_ok(m->gwinfo.gw_add))
			return -EINVAL;
		return 1 + (long)m->gwinfo.gw_add.len;
	case MQTTSN_PINGREQ:
		if (!mqttsn_view_ok(m->pingreq.client_id))
			return -EINVAL;
		return m->pingreq.client_id.len;
	case MQTTSN_PINGRESP:
		return 0;
	case MQTTSN_DISCONNECT:
		return m->disconnect.has_duration ? 2 : 0;
	default:
		return -EINVAL;
	}
}

void mqttsn_control_body_write(struct mqtt_writer *w, const struct mqttsn_msg *m)
{
	switch (m->type) {
	case MQTTSN_ADVERTISE:
		mqtt_write_u8(w, m->advertise.gw_id);
		mqtt_write_u16(w, m->advertise.duration);
		break;
	case MQTTSN_SEARCHGW:
		mqtt_write_u8(w, m->searchgw.radius);
		break;
	case MQTTSN_GWINFO:
		mqtt_write_u8(w, m->gwinfo.gw_id);
		mqtt_write_bytes(w, m->gwinfo.gw_add.p, m->gwinfo.gw_add.len);
		break;
	case MQTTSN_PINGREQ:
		mqtt_write_bytes(w, m->pingreq.client_id.p, m->pingreq.client_id.len);
		break;
	case MQTTSN_DISCONNECT:
		if (m->disconnect.has_duration)
			mqtt_write_u16(w, m->disconnect.duration);
		break;
	default: /* PINGRESP: no body */
		break;
	}
}

int mqttsn_encap_decode(const uint8_t *d, size_t len, struct mqttsn_encap *out)
{
	/* §5.5: Length (1 octet) counts the octets up to the end of the Wireless Node Id, itself
	 * included: Length, MsgType and Ctrl make 3. The encapsulated message follows. */
	size_t hdr = d[0];

	if (hdr < 3 || hdr > len)
		return -EBADMSG;
	size_t inner = len - hdr;
	if (inner < 2 || inner > MQTTSN_MAX_LEN)
		return -EBADMSG; /* §5.5: one whole MQTT-SN message follows */
	out->ctrl = d[2];
	out->node_id.p = d + 3;
	out->node_id.len = (uint16_t)(hdr - 3);
	out->inner.p = d + hdr;
	out->inner.len = (uint16_t)inner;
	return 0;
}

long mqttsn_encap_size(const struct mqttsn_encap *e)
{
	if (!mqttsn_view_ok(e->node_id) || !mqttsn_view_ok(e->inner))
		return -EINVAL;
	if (3 + (long)e->node_id.len > 255 || e->inner.len < 2)
		return -EINVAL; /* §5.5: one-octet Length; a whole message inside */
	return 3 + (long)e->node_id.len + e->inner.len;
}

void mqttsn_encap_write(struct mqtt_writer *w, const struct mqttsn_encap *e)
{
	mqtt_write_u8(w, (uint8_t)(3 + e->node_id.len));
	mqtt_write_u8(w, MQTTSN_ENCAPSULATED);
	mqtt_write_u8(w, e->ctrl);
	mqtt_write_bytes(w, e->node_id.p, e->node_id.len);
	mqtt_write_bytes(w, e->inner.p, e->inner.len);
}
