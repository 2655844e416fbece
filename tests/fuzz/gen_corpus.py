#!/usr/bin/env python3
"""gen_corpus.py - writes the seed corpora of fuzz_mqtt and fuzz_stream from readable vectors.

fuzz_mqtt input:   [version byte: 3, 4 or 5] [one packet]
fuzz_stream input: [mode byte] [3 chunk-size bytes] [stream bytes]   (see fuzz_stream.c)
Run from anywhere: python3 tests/fuzz/gen_corpus.py
"""
import os
import struct

HERE = os.path.dirname(os.path.abspath(__file__))


def varint(n):
    out = bytearray()
    while True:
        b = n & 0x7F
        n >>= 7
        out.append(b | (0x80 if n else 0))
        if not n:
            return bytes(out)


def s(text):
    """Two-byte length prefixed string or binary."""
    b = text.encode() if isinstance(text, str) else text
    return struct.pack(">H", len(b)) + b


def u16(n):
    return struct.pack(">H", n)


def u32(n):
    return struct.pack(">I", n)


def props(*items):
    body = b"".join(items)
    return varint(len(body)) + body


def pkt(first, *parts):
    body = b"".join(parts)
    return bytes([first]) + varint(len(body)) + body


def p_user(k, v):
    return b"\x26" + s(k) + s(v)


MQTT = {
    # CONNECT, one per level, with and without will / credentials.
    "connect_v3": (3, pkt(0x10, s("MQIsdp"), b"\x03\x02", u16(60), s("client"))),
    "connect_v4": (4, pkt(0x10, s("MQTT"), b"\x04\x02", u16(60), s("test"))),
    "connect_v4_will_auth": (4, pkt(0x10, s("MQTT"), b"\x04\xee", u16(30), s("cid"),
                                    s("will/t"), s("bye"), s("user"), s("pass"))),
    "connect_v4_empty_id": (4, pkt(0x10, s("MQTT"), b"\x04\x02", u16(0), s(""))),
    "connect_v5": (5, pkt(0x10, s("MQTT"), b"\x05\xce", u16(10),
                          props(b"\x11" + u32(10), b"\x21" + u16(20), b"\x22" + u16(5),
                                b"\x27" + u32(4096), p_user("k", "v")),
                          s("cid5"),
                          props(b"\x18" + u32(5), b"\x03" + s("text"), b"\x01\x01"),
                          s("w/t"), s("bye"), s("u"), s("p"))),
    "connect_v5_auth": (5, pkt(0x10, s("MQTT"), b"\x05\x02", u16(0),
                               props(b"\x15" + s("SCRAM-SHA-1"), b"\x16" + s(b"\x01\x02"),
                                     b"\x17\x01", b"\x19\x01"), s(""))),
    # CONNACK
    "connack_v4": (4, pkt(0x20, b"\x00\x00")),
    "connack_v4_refused": (4, pkt(0x20, b"\x00\x05")),
    "connack_v5": (5, pkt(0x20, b"\x01\x00",
                          props(b"\x21" + u16(10), b"\x12" + s("abc"), b"\x22" + u16(5),
                                b"\x24\x01", b"\x25\x00", b"\x28\x01", b"\x29\x01", b"\x2a\x00",
                                b"\x13" + u16(30), b"\x1f" + s("ok")))),
    # PUBLISH
    "publish_v4_qos0": (4, pkt(0x30, s("a/b"), b"hello")),
    "publish_v4_qos1_dup_retain": (4, pkt(0x3B, s("sport/tennis"), u16(7), b"payload")),
    "publish_v3_qos2": (3, pkt(0x34, s("x"), u16(65535), b"")),
    "publish_v5_qos1_props": (5, pkt(0x32, s("a/b"), u16(1),
                                     props(b"\x01\x01", b"\x02" + u32(60), b"\x23" + u16(1),
                                           b"\x08" + s("resp/t"), b"\x09" + s(b"\xde\xad"),
                                           p_user("a", "b"), b"\x0b\x05",
                                           b"\x03" + s("json")),
                                     b'{"x":1}')),
    "publish_v5_alias_empty_topic": (5, pkt(0x30, s(""), props(b"\x23" + u16(3)), b"z")),
    # PUBACK family
    "puback_v4": (4, pkt(0x40, u16(1))),
    "puback_v5_reason_props": (5, pkt(0x40, u16(1), b"\x10", props(b"\x1f" + s("none")))),
    "pubrec_v5_reason": (5, pkt(0x50, u16(2), b"\x80")),
    "pubrel_v4": (4, pkt(0x62, u16(3))),
    "pubrel_v5_reason_props": (5, pkt(0x62, u16(3), b"\x92", props(p_user("k", "v")))),
    "pubcomp_v3": (3, pkt(0x70, u16(4))),
    # SUBSCRIBE / SUBACK
    "subscribe_v4": (4, pkt(0x82, u16(1), s("a/b"), b"\x01", s("c/#"), b"\x02")),
    "subscribe_v3": (3, pkt(0x82, u16(9), s("+/x"), b"\x00")),
    "subscribe_v5": (5, pkt(0x82, u16(2), props(b"\x0b\x05", p_user("k", "v")),
                            s("$share/g/a/+"), b"\x2d", s("#"), b"\x00")),
    "suback_v4": (4, pkt(0x90, u16(1), b"\x01\x80")),
    "suback_v5": (5, pkt(0x90, u16(1), props(b"\x1f" + s("r")), b"\x00\x01\x02\x8f")),
    # UNSUBSCRIBE / UNSUBACK
    "unsubscribe_v4": (4, pkt(0xA2, u16(2), s("a/b"), s("c/#"))),
    "unsubscribe_v5": (5, pkt(0xA2, u16(2), props(p_user("k", "v")), s("a/b"))),
    "unsuback_v4": (4, pkt(0xB0, u16(2))),
    "unsuback_v5": (5, pkt(0xB0, u16(2), props(), b"\x00\x11")),
    # PING, DISCONNECT, AUTH
    "pingreq_v4": (4, pkt(0xC0)),
    "pingresp_v5": (5, pkt(0xD0)),
    "disconnect_v4": (4, pkt(0xE0)),
    "disconnect_v5_empty": (5, pkt(0xE0)),
    "disconnect_v5_reason": (5, pkt(0xE0, b"\x04",
                                    props(b"\x11" + u32(0), b"\x1f" + s("bye"),
                                          b"\x1c" + s("other:1883")))),
    "auth_v5": (5, pkt(0xF0, b"\x18", props(b"\x15" + s("SCRAM"), b"\x16" + s(b"\x00\x01")))),
    "auth_v5_empty": (5, pkt(0xF0)),
}

# Streams: mode byte (bit 0: version 5, else 4; bits 1..7: max_packet selector), then three
# chunk sizes cycled over the stream.
STREAM = {
    "v4_session": (0x10, b"\x01\x03\x07",
                   MQTT["connect_v4"][1] + MQTT["subscribe_v4"][1] + MQTT["publish_v4_qos0"][1]
                   + MQTT["puback_v4"][1] + MQTT["pingreq_v4"][1] + MQTT["disconnect_v4"][1]),
    "v5_session": (0x21, b"\x05\x02\x40",
                   MQTT["connect_v5"][1] + MQTT["subscribe_v5"][1]
                   + MQTT["publish_v5_qos1_props"][1] + MQTT["pubrel_v5_reason_props"][1]
                   + MQTT["auth_v5"][1] + MQTT["disconnect_v5_reason"][1]),
    "v5_byte_at_a_time": (0x01, b"\x01\x01\x01",
                          MQTT["publish_v5_alias_empty_topic"][1] * 3 + MQTT["pingresp_v5"][1]),
    "v4_whole": (0xFE, b"\xff\xff\xff",
                 MQTT["publish_v4_qos1_dup_retain"][1] + MQTT["unsubscribe_v4"][1]
                 + MQTT["pubrel_v4"][1]),
    "v4_too_big": (0x00, b"\x02\x02\x02", pkt(0x30, s("t"), b"x" * 40)),
    "v5_4byte_varint": (0x01, b"\x03\x01\x08", b"\x30\x82\x80\x80\x00\x00\x00"
                        + MQTT["pingreq_v4"][1]),
    "bad_varint": (0x00, b"\x01\x00\x04", b"\xc0\x00\x30\xff\xff\xff\xff\x7f"),
}


def write(corpus, name, data):
    d = os.path.join(HERE, "corpus", corpus)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, name), "wb") as f:
        f.write(data)


def main():
    for name, (version, packet) in MQTT.items():
        write("fuzz_mqtt", name, bytes([version]) + packet)
    for name, (mode, chunks, stream) in STREAM.items():
        write("fuzz_stream", name, bytes([mode]) + chunks + stream)
    print(f"{len(MQTT)} fuzz_mqtt seeds, {len(STREAM)} fuzz_stream seeds")


if __name__ == "__main__":
    main()
