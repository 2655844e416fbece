/* control.c - DISCONNECT and AUTH bodies: a reason code and properties, both optional. */
#include "codec.h"

#include <errno.h>
#include <string.h>

/* MQTT 5.0 §3.14.2.1: Disconnect Reason Codes. */
static const uint8_t disconnect_codes[] = {
        0x00, 0x04, 0x80, 0x81, 0x82, 0x83, 0x87, 0x89, 0x8B, 0x8D, 0x8E, 0x8F, 0x90, 0x93, 0x94,
        0x95, 0x96, 0x97, 0x98, 0x99, 0x9A, 0x9B, 0x9C, 0x9D, 0x9E, 0x9F, 0xA0, 0xA1, 0xA2,
};
/* MQTT 5.0 §3.15.2.1: Authenticate Reason Codes. */
static const uint8_t auth_codes[] = {0x00, 0x18, 0x19};

/* What a DISCONNECT or an AUTH body may hold. */
struct reason_only_kind {
	enum mqtt_prop_ctx ctx;
	const uint8_t *codes;
	size_t n;
};

static int kind_for(uint8_t type, struct reason_only_kind *k)
{
	if (type == MQTT_DISCONNECT)
		*k = (struct reason_only_kind){MQTT_PCTX_DISCONNECT, disconnect_codes,
		                               sizeof(disconnect_codes)};
	else if (type == MQTT_AUTH)
		*k = (struct reason_only_kind){MQTT_PCTX_AUTH, auth_codes, sizeof(auth_codes)};
	else
		return -EINVAL;
	return 0;
}

static bool reason_valid(const struct reason_only_kind *k, uint8_t reason)
{
	return memchr(k->codes, reason, k->n) != NULL;
}

/* Contract in codec.h. Views in out->props borrow r's input. -EBADMSG: a body in 3.1/3.1.1, AUTH
 * before MQTT 5, a bad property block or bytes after it; -EPROTO: a reason code not valid for
 * the type, an AUTH with a body but no Authentication Method. */
int mqtt_reason_only_decode(struct mqtt_reader *r, uint8_t type, uint8_t version,
                            struct mqtt_reason_only *out)
{
	struct reason_only_kind k;
	int err;

	memset(out, 0, sizeof(*out));
	err = kind_for(type, &k);
	if (err < 0)
		return err;
	if (version < MQTT_V5) {
		/* AUTH is reserved before MQTT 5 (3.1.1 §2.2.1); DISCONNECT has no variable header
		 * and no payload (3.1.1 §3.14). */
		if (type == MQTT_AUTH)
			return -EBADMSG;
		return mqtt_reader_left(r) == 0 ? 0 : -EBADMSG;
	}
	/* MQTT 5.0 §3.14.2.1, §3.15.2.1: Remaining Length 0 means reason 0x00, no properties. */
	if (mqtt_reader_left(r) == 0)
		return 0;
	err = mqtt_read_u8(r, &out->reason);
	if (err < 0)
		return err;
	if (!reason_valid(&k, out->reason))
		return -EPROTO;
	/* MQTT 5.0 §3.14.2.2.1: with a Remaining Length under 2 the Property Length is 0. */
	if (mqtt_reader_left(r) > 0) {
		err = mqtt_props_decode(r, k.ctx, &out->props);
		if (err < 0)
			return err;
		if (mqtt_reader_left(r) > 0)
			return -EBADMSG; /* bytes after the property block */
	}
	/* MQTT 5.0 §3.15.2.2.2: an AUTH that is not the empty Success form names its method;
	 * "It is a Protocol Error to omit the Authentication Method". */
	if (type == MQTT_AUTH && !mqtt_props_has(&out->props, MQTT_PROP_AUTH_METHOD))
		return -EPROTO;
	return 0;
}

/* Exact body size in the shortest form (0: reason 0 and no properties; 1: reason alone), or
 * -EINVAL: anything but an empty DISCONNECT before MQTT 5, an invalid reason code or property,
 * an AUTH with a body but no Authentication Method. Borrows d. */
long mqtt_reason_only_body_size(const struct mqtt_reason_only *d, uint8_t type, uint8_t version)
{
	struct reason_only_kind k;
	int err = kind_for(type, &k);
	if (err < 0)
		return err;
	long props = mqtt_props_size(&d->props, k.ctx);
	if (props < 0)
		return props;
	bool no_props = props == 1; /* the block would be its zero Property Length alone */

	if (version < MQTT_V5) /* 3.1.1 §3.14: an empty DISCONNECT; no AUTH */
		return type == MQTT_DISCONNECT && d->reason == 0 && no_props ? 0 : -EINVAL;
	if (!reason_valid(&k, d->reason))
		return -EINVAL;
	if (d->reason == 0 && no_props)
		return 0; /* shortest form, MQTT 5.0 §3.14.2.1 / §3.15.2.1 */
	if (type == MQTT_AUTH && !mqtt_props_has(&d->props, MQTT_PROP_AUTH_METHOD))
		return -EINVAL; /* MQTT 5.0 §3.15.2.2.2 */
	if (no_props)
		return 1; /* MQTT 5.0 §3.14.2.2.1 */
	return 1 + props;
}

/* Writes the body sized by mqtt_reason_only_body_size (which must have succeeded). */
void mqtt_reason_only_body_write(struct mqtt_writer *w, const struct mqtt_reason_only *d,
                                 uint8_t type, uint8_t version)
{
	struct reason_only_kind k;

	if (version < MQTT_V5 || kind_for(type, &k) < 0)
		return;
	bool no_props = mqtt_props_size(&d->props, k.ctx) == 1;
	if (d->reason == 0 && no_props)
		return;
	mqtt_write_u8(w, d->reason);
	if (!no_props)
		mqtt_props_write(w, &d->props, k.ctx);
}
