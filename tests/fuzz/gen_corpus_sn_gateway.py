#!/usr/bin/env python3
"""gen_corpus_sn_gateway.py - writes the seed corpus of fuzz_sn_gateway from readable sequences.

fuzz_sn_gateway input: records [len][ctl][len bytes] ([0xff][len hi][len lo][ctl][...] for
longer ones); ctl bits 0-1 = source address, bits 2-4 = fake clock step before the record
(1 s, 3 s, 10 s, 30 s, 100 s, 1000 s, 70000 s), bit 5 = bytes for the MQTT 5 client "p" over TCP
(see fuzz_sn_gateway.c). The broker predefines topic ids 1 a/b, 2 sensors/temp, 65534 x.
Run from anywhere: python3 tests/fuzz/gen_corpus_sn_gateway.py
"""
import os
import struct

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, "corpus", "fuzz_sn_gateway")

# MQTT-SN 1.2 flags (§5.3.4)
DUP, RETAIN, WILL, CLEAN = 0x80, 0x10, 0x08, 0x04
QOS = {0: 0x00, 1: 0x20, 2: 0x40, -1: 0x60}
NORMAL, PREDEF, SHORT = 0, 1, 2


def u16(n):
    return struct.pack(">H", n)


def sn(msg_type, body=b""):
    n = len(body) + 2
    if n < 256:
        return bytes([n, msg_type]) + body
    return b"\x01" + u16(n + 2) + bytes([msg_type]) + body


def connect(cid, duration=60, clean=True, will=False):
    flags = (CLEAN if clean else 0) | (WILL if will else 0)
    return sn(0x04, bytes([flags, 0x01]) + u16(duration) + cid.encode())


def register(topic, msg_id, topic_id=0):
    return sn(0x0A, u16(topic_id) + u16(msg_id) + topic.encode())


def regack(topic_id, msg_id, code=0):
    return sn(0x0B, u16(topic_id) + u16(msg_id) + bytes([code]))


def publish(topic_id, data, qos=0, msg_id=0, id_type=NORMAL, retain=False, dup=False):
    flags = QOS[qos] | id_type | (RETAIN if retain else 0) | (DUP if dup else 0)
    return sn(0x0C, bytes([flags]) + u16(topic_id) + u16(msg_id) + data)


def puback(topic_id, msg_id, code=0):
    return sn(0x0D, u16(topic_id) + u16(msg_id) + bytes([code]))


def pubrec(msg_id):
    return sn(0x0F, u16(msg_id))


def pubrel(msg_id):
    return sn(0x10, u16(msg_id))


def pubcomp(msg_id):
    return sn(0x0E, u16(msg_id))


def subscribe(topic, msg_id, qos=0, id_type=NORMAL, unsubscribe=False):
    what = topic.encode() if isinstance(topic, str) else u16(topic)
    return sn(0x14 if unsubscribe else 0x12, bytes([QOS[qos] | id_type]) + u16(msg_id) + what)


def pingreq(cid=""):
    return sn(0x16, cid.encode())


def disconnect(duration=None):
    return sn(0x18, b"" if duration is None else u16(duration))


def willtopic(topic, qos=0, retain=False, update=False):
    body = b"" if topic is None else bytes([QOS[qos] | (RETAIN if retain else 0)]) + topic.encode()
    return sn(0x1A if update else 0x07, body)


def willmsg(data, update=False):
    return sn(0x1C if update else 0x09, data)


def encapsulated(node, inner):
    return bytes([3 + len(node), 0xFE, 0x00]) + node + inner


def mqtt_publish(topic, payload, qos=0, packet_id=1, retain=False):
    """MQTT 5 PUBLISH from the TCP client "p"."""
    body = u16(len(topic)) + topic.encode() + (u16(packet_id) if qos else b"") + b"\x00" + payload
    assert len(body) < 128
    return bytes([0x30 | qos << 1 | (1 if retain else 0), len(body)]) + body


def rec(data, src=0, step=0, tcp=False):
    ctl = (src & 3) | (step & 7) << 2 | (0x20 if tcp else 0)
    if len(data) < 255:
        return bytes([len(data), ctl]) + data
    return b"\xff" + u16(len(data)) + bytes([ctl]) + data


def seq(*records):
    return b"".join(records)


SEEDS = {
    # CONNECT, REGISTER, PUBLISH at each QoS, DISCONNECT.
    "publish-qos0": seq(rec(connect("dev1")), rec(register("sensors/kitchen", 1)),
                        rec(publish(1, b"21.5")), rec(disconnect())),
    "publish-qos1": seq(rec(connect("dev1")), rec(register("sensors/kitchen", 1)),
                        rec(publish(1, b"21.5", qos=1, msg_id=2)),
                        rec(publish(1, b"21.5", qos=1, msg_id=2, dup=True)), rec(disconnect())),
    "publish-qos2": seq(rec(connect("dev1")), rec(register("sensors/kitchen", 1)),
                        rec(publish(1, b"21.5", qos=2, msg_id=3)),
                        rec(publish(1, b"21.5", qos=2, msg_id=3, dup=True)), rec(pubrel(3)),
                        rec(publish(2, b"7", qos=2, msg_id=4, id_type=PREDEF)), rec(pubrel(4)),
                        rec(publish(0x6162, b"short", qos=1, msg_id=5, id_type=SHORT)),
                        rec(publish(99, b"unknown id", qos=1, msg_id=6))),
    # The will dialogue, its updates, then a keep alive timeout that publishes the will.
    "will-dialogue": seq(rec(connect("willy", duration=10, will=True)),
                         rec(willtopic("dev/willy/status", qos=1, retain=True)),
                         rec(willmsg(b"offline")),
                         rec(willtopic("dev/willy/lwt", qos=2, update=True)),
                         rec(willmsg(b"gone", update=True)), rec(pingreq()),
                         rec(pingreq(), step=4)),
    "will-empty-and-refused": seq(rec(connect("w1", will=True)), rec(willtopic(None)),
                                  rec(connect("w2", will=True), src=1),
                                  rec(willtopic("bad/#/topic"), src=1),
                                  rec(connect("w3", will=True), src=2),
                                  rec(willtopic("w3/t"), src=2), rec(publish(1, b"x"), src=2),
                                  rec(pingreq(), src=2, step=5)),
    # A wildcard subscriber gets REGISTER before the first PUBLISH of a topic, answers REGACK
    # then PUBACK; a second subscriber rejects the REGISTER.
    "subscribe-wildcard-regack": seq(
        rec(connect("subA")), rec(subscribe("sensors/#", 1, qos=1)),
        rec(connect("subR"), src=2), rec(subscribe("sensors/+", 1, qos=1), src=2),
        rec(connect("pubB"), src=1), rec(register("sensors/x", 1), src=1),
        rec(publish(1, b"42", qos=1, msg_id=2), src=1),
        rec(regack(1, 1)), rec(puback(1, 1)),
        rec(regack(1, 1, code=0x02), src=2),
        rec(publish(1, b"43", qos=1, msg_id=3), src=1), rec(puback(1, 2)),
        rec(subscribe("sensors/#", 2, unsubscribe=True))),
    # Sleep: messages are buffered; PINGREQ with the client id from a new address (NAT
    # rebinding) wakes it, the buffered messages follow, then PINGRESP.
    "sleep-ping-rebind": seq(
        rec(connect("sleeper", duration=30, clean=False)), rec(subscribe("t/+", 1, qos=1)),
        rec(disconnect(60)),
        rec(connect("waker"), src=1), rec(register("t/1", 1), src=1),
        rec(publish(1, b"while asleep", qos=1, msg_id=2), src=1),
        rec(publish(1, b"qos0 asleep", qos=0), src=1),
        rec(pingreq("sleeper"), src=2, step=3), rec(regack(1, 1), src=2),
        rec(puback(1, 1), src=2), rec(pingreq("sleeper"), src=2),
        rec(pingreq("sleeper"), src=3, step=6)),
    # A forwarder at one address carrying two wireless nodes.
    "encapsulated": seq(rec(encapsulated(b"\x01\x02", connect("node1"))),
                        rec(encapsulated(b"\x09", connect("node2"))),
                        rec(encapsulated(b"\x09", subscribe("n/#", 1, qos=1))),
                        rec(encapsulated(b"\x01\x02", register("n/1", 1))),
                        rec(encapsulated(b"\x01\x02", publish(1, b"hi", qos=1, msg_id=2))),
                        rec(encapsulated(b"\x09", regack(1, 1))),
                        rec(encapsulated(b"\x09", puback(1, 1))),
                        rec(encapsulated(b"\x01\x02", sn(0x01, b"\x01"))),
                        rec(encapsulated(b"\x01\x02", disconnect()))),
    # QoS -1 needs no connection: predefined id and short name go through, a normal id is
    # dropped.
    "qos-m1": seq(rec(publish(1, b"predefined", qos=-1, id_type=PREDEF)),
                  rec(publish(0x6162, b"short", qos=-1, id_type=SHORT, retain=True), src=1),
                  rec(publish(1, b"normal", qos=-1), src=2),
                  rec(publish(77, b"unknown", qos=-1, id_type=PREDEF), src=3),
                  rec(encapsulated(b"\x05", publish(65534, b"x", qos=-1, id_type=PREDEF)))),
    "searchgw-advertise": seq(rec(sn(0x01, b"\x01")), rec(sn(0x00, b"\x07" + u16(900)), src=1),
                              rec(sn(0x02, b"\x07"), src=2), rec(sn(0x01, b"\x00"), step=3),
                              rec(sn(0x01, b"\x02"), src=3, step=2)),
    # One client id from several addresses, and an SN client taking over the TCP subscriber's
    # session ("s").
    "takeover": seq(rec(connect("dev", clean=False)), rec(subscribe("d/#", 1, qos=2)),
                    rec(connect("dev", clean=False), src=1),
                    rec(register("d/1", 1), src=1), rec(publish(1, b"x", qos=2, msg_id=9), src=1),
                    rec(publish(1, b"y", qos=1, msg_id=10)),
                    rec(connect("s", clean=False), src=2), rec(subscribe("#", 1, qos=2), src=2),
                    rec(connect("dev", clean=True), src=3), rec(pingreq(), src=1)),
    # MQTT over TCP to an SN subscriber at QoS 2: REGISTER, PUBLISH, PUBREC, PUBREL, PUBCOMP.
    "mqtt-to-sn-qos2": seq(rec(connect("snsub")), rec(subscribe("m/#", 1, qos=2)),
                           rec(mqtt_publish("m/x", b"from tcp", qos=2, packet_id=1), tcp=True),
                           rec(regack(1, 1)), rec(pubrec(1)), rec(pubcomp(1)),
                           rec(mqtt_publish("m/y", b"retained", qos=1, packet_id=2,
                                            retain=True), tcp=True),
                           rec(regack(2, 2)), rec(puback(2, 2)),
                           rec(mqtt_publish("ab", b"short", qos=0), tcp=True),
                           rec(mqtt_publish("a/b", b"predef", qos=1, packet_id=3), tcp=True)),
    # A subscriber that never acknowledges: retransmission with DUP, then the client is lost.
    "retransmit-lost": seq(rec(connect("quiet", duration=0)), rec(subscribe("q/#", 1, qos=1)),
                           rec(connect("talker"), src=1), rec(register("q/1", 1), src=1),
                           rec(publish(1, b"1", qos=1, msg_id=2), src=1),
                           rec(regack(1, 1)), rec(pingreq(), step=2), rec(pingreq(), step=2),
                           rec(pingreq(), step=2), rec(pingreq(), step=2)),
    # Subscriptions by predefined id and short name, retained messages on SUBSCRIBE.
    "predefined-short-retained": seq(
        rec(mqtt_publish("r/1", b"kept", qos=1, packet_id=1, retain=True), tcp=True),
        rec(connect("ps")), rec(subscribe(2, 1, qos=1, id_type=PREDEF)),
        rec(subscribe(0x6162, 2, qos=1, id_type=SHORT)), rec(subscribe("r/#", 3, qos=1)),
        rec(regack(1, 1)), rec(puback(1, 1)),
        rec(publish(2, b"19.0", qos=1, msg_id=4, id_type=PREDEF)), rec(puback(2, 2)),
        rec(subscribe(2, 5, id_type=PREDEF, unsubscribe=True)),
        rec(subscribe(999, 6, id_type=PREDEF)), rec(subscribe("$SYS/#", 7))),
    # Malformed and unexpected datagrams: bad lengths, 3-byte length form, reserved types,
    # messages from unknown clients, gateway-only messages from a client, bad client ids.
    "malformed-mix": seq(rec(b"\x05\x0c\x00"), rec(b"\x01\x00\x07\x16ab"),
                         rec(b"\x01\x00\x04\x16"), rec(b"\x02\x03"), rec(b"\x03\x1f\x00"),
                         rec(b""), rec(b"\xfe\xfe"), rec(register("a/b", 1), src=1),
                         rec(connect("")), rec(connect("x" * 24)), rec(sn(0x04, bytes([CLEAN, 1]) + u16(60) + b"\xff")),
                         rec(connect("ok")), rec(sn(0x05, b"\x00")), rec(sn(0x13, b"\x00" * 5)),
                         rec(register("bad/+/name", 2)), rec(pubrel(77)), rec(pubcomp(78)),
                         rec(encapsulated(b"", connect("e"))),
                         rec(sn(0x04, b"\x04\x02\x00\x3cbadproto"), src=2),
                         rec(sn(0x0C, b"\x60\x00\x01\x00\x00" + b"L" * 300), src=3)),
    # A persistent SN session keeps its subscription and queue across a reconnect.
    "persistent-session": seq(rec(connect("keep", clean=False)), rec(subscribe("k/#", 1, qos=1)),
                              rec(disconnect()),
                              rec(mqtt_publish("k/1", b"queued", qos=1, packet_id=1), tcp=True),
                              rec(connect("keep", clean=False), src=1), rec(regack(1, 1), src=1),
                              rec(puback(1, 1), src=1), rec(disconnect(), src=1),
                              rec(connect("keep", clean=True), src=2)),
}


def main():
    os.makedirs(OUT, exist_ok=True)
    for name, data in SEEDS.items():
        with open(os.path.join(OUT, name), "wb") as f:
            f.write(data)
    print(f"{len(SEEDS)} seeds in {OUT}")


if __name__ == "__main__":
    main()
