/* test_malformed.c - the malformed-input table: hostile or broken packets of every MQTT packet
 * type and version, each with the exact errno mqtt_decode must return and the MQTT 5 reason code
 * it maps to (0x81 Malformed Packet, 0x82 Protocol Error, 0x84 Unsupported Protocol Version).
 * Each input is also decoded from an exact-size heap copy so ASan catches any read past it. */
#include <errno.h>
#include <stdlib.h>

#include "check.h"
#include "mqtt.h"

struct malformed_case {
	const char *name;
	uint8_t version;
	const char *bytes; /* hex() syntax */
	int err;
};

static const struct malformed_case cases[] = {
        /* Fixed header and framing (MQTT 5.0 §2.1, §1.5.5). */
        {"empty input", 4, "", -EBADMSG},
        {"no remaining length", 4, "10", -EBADMSG},
        {"remaining length past the data", 4, "30 05 00 01 'a'", -EBADMSG},
        {"data past the remaining length", 4, "c0 00 00", -EBADMSG},
        {"5-byte remaining length [MQTT-1.5.5]", 5, "30 ff ff ff ff 01", -EBADMSG},
        {"truncated remaining length", 4, "30 ff", -EBADMSG},
        {"reserved type 0", 4, "00 00", -EBADMSG},
        {"AUTH before MQTT 5", 4, "f0 00", -EBADMSG},
        {"AUTH in MQTT 3.1", 3, "f0 00", -EBADMSG},
        {"PINGREQ with flags [MQTT-2.2.2-2]", 4, "c1 00", -EBADMSG},
        {"PINGREQ with a body", 4, "c0 01 00", -EBADMSG},
        {"PINGRESP with a body", 5, "d0 01 00", -EBADMSG},
        {"SUBSCRIBE flags 0 [MQTT-3.8.1-1]", 4, "80 06 00 01 00 01 'a' 00", -EBADMSG},
        {"SUBSCRIBE DUP flags in 3.1.1", 4, "8a 06 00 01 00 01 'a' 00", -EBADMSG},
        {"PUBREL flags 0 [MQTT-3.6.1-1]", 4, "60 02 00 01", -EBADMSG},
        {"UNSUBSCRIBE flags 0 [MQTT-3.10.1-1]", 4, "a0 05 00 01 00 01 'a'", -EBADMSG},
        {"CONNACK with flags", 4, "21 02 00 00", -EBADMSG},
        {"PUBACK with flags", 4, "41 02 00 01", -EBADMSG},

        /* CONNECT (§3.1). */
        {"CONNECT level 6", 5, "10 0c 00 04 'MQTT' 06 02 00 3c 00 00", -EPROTONOSUPPORT},
        {"CONNECT level 2", 4, "10 0c 00 04 'MQTT' 02 02 00 3c 00 00", -EPROTONOSUPPORT},
        {"CONNECT reserved flag [MQTT-3.1.2-3]", 4, "10 0c 00 04 'MQTT' 04 03 00 3c 00 00",
         -EBADMSG},
        {"CONNECT will QoS 3", 4, "10 12 00 04 'MQTT' 04 1e 00 3c 00 00 00 01 't' 00 01 'm'",
         -EBADMSG},
        {"CONNECT truncated before keep alive", 4, "10 08 00 04 'MQTT' 04 02", -EBADMSG},
        {"CONNECT truncated protocol name", 4, "10 04 00 04 'MQ'", -EBADMSG},
        {"CONNECT client id past the end", 4, "10 0e 00 04 'MQTT' 04 02 00 3c 00 05 'ab'",
         -EBADMSG},
        {"CONNECT overlong UTF-8 client id [MQTT-1.5.4-1]", 4,
         "10 0e 00 04 'MQTT' 04 02 00 3c 00 02 c0 80", -EBADMSG},
        {"CONNECT surrogate in client id [MQTT-1.5.4-1]", 4,
         "10 0f 00 04 'MQTT' 04 02 00 3c 00 03 ed a0 80", -EBADMSG},
        {"CONNECT U+0000 in client id [MQTT-1.5.4-2]", 4,
         "10 0e 00 04 'MQTT' 04 02 00 3c 00 02 'a' 00", -EBADMSG},
        {"CONNECT username flag, no username", 4, "10 0e 00 04 'MQTT' 04 82 00 3c 00 02 'id'",
         -EBADMSG},
        {"CONNECT will flag, no will topic", 4, "10 0e 00 04 'MQTT' 04 06 00 3c 00 02 'id'",
         -EBADMSG},
        {"CONNECT trailing byte", 4, "10 0d 00 04 'MQTT' 04 02 00 3c 00 00 00", -EBADMSG},
        {"CONNECT v5 Topic Alias not allowed", 5,
         "10 10 00 04 'MQTT' 05 02 00 3c 03 23 00 01 00 00", -EBADMSG},
        {"CONNECT v5 duplicate Session Expiry", 5,
         "10 17 00 04 'MQTT' 05 02 00 3c 0a 11 00 00 00 01 11 00 00 00 02 00 00", -EPROTO},
        {"CONNECT v5 Receive Maximum 0", 5, "10 10 00 04 'MQTT' 05 02 00 3c 03 21 00 00 00 00",
         -EPROTO},
        {"CONNECT v5 property length past the end", 5, "10 0e 00 04 'MQTT' 05 02 00 3c 09 11 00 00",
         -EBADMSG},
        {"CONNECT v5 unknown property 0x7f", 5, "10 0f 00 04 'MQTT' 05 02 00 3c 02 7f 00 00 00",
         -EBADMSG},
        {"CONNACK reserved ack flags", 4, "20 02 02 00", -EBADMSG},
        {"CONNACK 3.1.1 three bytes", 4, "20 03 00 00 00", -EBADMSG},
        {"CONNACK one byte", 4, "20 01 00", -EBADMSG},
        {"CONNACK v5 truncated properties", 5, "20 03 00 00 05", -EBADMSG},

        /* PUBLISH (§3.3). */
        {"PUBLISH QoS 3 [MQTT-3.3.1-4]", 4, "36 05 00 01 'a' 00 01", -EBADMSG},
        {"PUBLISH QoS 1 packet id 0 [MQTT-2.2.1-3]", 4, "32 05 00 01 'a' 00 00", -EPROTO},
        {"PUBLISH QoS 1 truncated packet id", 4, "32 04 00 01 'a' 00", -EBADMSG},
        {"PUBLISH topic past the end", 4, "30 03 00 05 'a'", -EBADMSG},
        {"PUBLISH topic invalid UTF-8", 4, "30 03 00 01 ff", -EBADMSG},
        {"PUBLISH topic with U+0000", 4, "30 04 00 02 'a' 00", -EBADMSG},
        {"PUBLISH v5 property length past the end", 5, "30 05 00 01 'a' 05 01", -EBADMSG},
        {"PUBLISH v5 Session Expiry not allowed", 5, "30 09 00 01 'a' 05 11 00 00 00 01", -EBADMSG},
        {"PUBLISH v5 Payload Format 2", 5, "30 06 00 01 'a' 02 01 02", -EPROTO},
        {"PUBLISH v5 Subscription Identifier 0", 5, "30 06 00 01 'a' 02 0b 00", -EPROTO},
        {"PUBLISH v5 Topic Alias 0", 5, "30 07 00 01 'a' 03 23 00 00", -ERANGE},
        {"PUBLISH v5 duplicate Topic Alias", 5, "30 0a 00 01 'a' 06 23 00 01 23 00 02", -EPROTO},
        {"PUBLISH v5 empty topic, no alias", 5, "30 03 00 00 00", -EPROTO},

        /* PUBACK, PUBREC, PUBREL, PUBCOMP (§3.4-3.7). */
        {"PUBACK one byte", 4, "40 01 00", -EBADMSG},
        {"PUBACK 3.1.1 three bytes", 4, "40 03 00 01 00", -EBADMSG},
        {"PUBREC packet id 0", 4, "50 02 00 00", -EPROTO},
        {"PUBACK v5 reason 0x92 not for PUBACK", 5, "40 03 00 01 92", -EPROTO},
        {"PUBREL v5 reason 0x10 not for PUBREL", 5, "62 03 00 01 10", -EPROTO},
        {"PUBCOMP v5 property length past the end", 5, "70 04 00 01 00 05", -EBADMSG},
        {"PUBACK v5 Topic Alias not allowed", 5, "40 07 00 01 00 03 23 00 01", -EBADMSG},

        /* SUBSCRIBE, SUBACK (§3.8, §3.9). */
        {"SUBSCRIBE no entries [MQTT-3.8.3-3]", 4, "82 02 00 01", -EPROTO},
        {"SUBSCRIBE packet id 0", 4, "82 06 00 00 00 01 'a' 00", -EPROTO},
        {"SUBSCRIBE QoS 3", 4, "82 06 00 01 00 01 'a' 03", -EBADMSG},
        {"SUBSCRIBE 3.1.1 reserved option bits [MQTT-3-8.3-4]", 4, "82 06 00 01 00 01 'a' 04",
         -EBADMSG},
        {"SUBSCRIBE v5 Retain Handling 3", 5, "82 07 00 01 00 00 01 'a' 30", -EPROTO},
        {"SUBSCRIBE v5 reserved option bits", 5, "82 07 00 01 00 00 01 'a' c0", -EBADMSG},
        {"SUBSCRIBE filter past the end", 4, "82 05 00 01 00 05 'a'", -EBADMSG},
        {"SUBSCRIBE missing options byte", 4, "82 05 00 01 00 01 'a'", -EBADMSG},
        {"SUBSCRIBE filter invalid UTF-8", 4, "82 06 00 01 00 01 80 00", -EBADMSG},
        {"SUBSCRIBE v5 Subscription Identifier 0", 5, "82 09 00 01 02 0b 00 00 01 'a' 00", -EPROTO},
        {"SUBACK 3.1.1 return code 3", 4, "90 03 00 01 03", -EPROTO},
        {"SUBACK v5 reason 0x92", 5, "90 04 00 01 00 92", -EPROTO},
        {"SUBACK no return codes", 4, "90 02 00 01", -EPROTO},

        /* UNSUBSCRIBE, UNSUBACK (§3.10, §3.11). */
        {"UNSUBSCRIBE no filters [MQTT-3.10.3-2]", 4, "a2 02 00 01", -EPROTO},
        {"UNSUBSCRIBE filter past the end", 4, "a2 05 00 01 00 09 'a'", -EBADMSG},
        {"UNSUBSCRIBE filter with U+0000", 5, "a2 07 00 01 00 00 02 'a' 00", -EBADMSG},
        {"UNSUBACK 3.1.1 extra byte", 4, "b0 03 00 01 00", -EBADMSG},
        {"UNSUBACK v5 reason 0x02", 5, "b0 04 00 01 00 02", -EPROTO},

        /* DISCONNECT, AUTH (§3.14, §3.15). */
        {"DISCONNECT 3.1.1 with a body", 4, "e0 01 00", -EBADMSG},
        {"DISCONNECT v5 reason 0x01", 5, "e0 01 01", -EPROTO},
        {"DISCONNECT v5 Topic Alias not allowed", 5, "e0 05 00 03 23 00 01", -EBADMSG},
        {"DISCONNECT v5 property length past the end", 5, "e0 02 00 04", -EBADMSG},
        {"AUTH v5 reason 0x01", 5, "f0 01 01", -EPROTO},
        {"AUTH v5 property length past the end", 5, "f0 02 18 05", -EBADMSG},
        {"AUTH v5 duplicate Authentication Method", 5, "f0 0a 18 08 15 00 01 'a' 15 00 01 'b'",
         -EPROTO},
};

int main(void)
{
	size_t ncases = sizeof(cases) / sizeof(cases[0]);

	for (size_t i = 0; i < ncases; i++) {
		const struct malformed_case *c = &cases[i];
		uint8_t bytes[256];
		size_t n = hex(c->bytes, bytes, sizeof(bytes));
		/* An exact-size heap copy: any read past the input is an ASan error. */
		uint8_t *copy = malloc(n ? n : 1);
		if (n)
			memcpy(copy, bytes, n);

		struct mqtt_packet pkt;
		uint8_t reason = 0xff;
		int err = mqtt_decode(copy, n, c->version, &pkt, &reason);
		if (err != c->err || reason != mqtt_reason_for_errno(c->err))
			fprintf(stderr, "case \"%s\": got %d reason 0x%02x, want %d\n", c->name,
			        err, reason, c->err);
		CHECK_EQ(err, c->err);
		CHECK_EQ(reason, mqtt_reason_for_errno(c->err));
		free(copy);
	}
	printf("%zu malformed cases\n", ncases);
	CHECK(ncases >= 60);
	return check_report();
}
