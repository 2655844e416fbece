#!/usr/bin/env python3
"""sn_client.py - a raw MQTT-SN 1.2 subscriber for tests/fastpath/e2e.sh: CONNECT, SUBSCRIBE
to a topic name, then one scenario, printing one line per event so the shell test can follow.

  sn_client.py HOST PORT CLIENT_ID TOPIC COUNT ACTION SECONDS

Prints "ready TOPICID" after SUBACK and "msg TOPICID PAYLOAD" for each PUBLISH (answering a
REGISTER with REGACK accepted). After COUNT messages:
  unsub  UNSUBSCRIBE; prints "unsubscribed" at UNSUBACK, then "late ..." for any PUBLISH
         received within SECONDS (there must be none).
  sleep  DISCONNECT with a sleep duration; prints "asleep", then "late ..." for any PUBLISH
         in the next SECONDS; then wakes (PINGREQ) and prints "woken ..." for each buffered
         PUBLISH until PINGRESP, then "awake".
  stay   keeps printing "msg ..." lines for SECONDS.
Ends with DISCONNECT; exit 0, or 1 on a timeout / protocol error (message on stderr)."""
import socket
import struct
import sys
import time


def frame(msg_type, body):
    return struct.pack("!BB", len(body) + 2, msg_type) + body


class Client:
    def __init__(self, host, port):
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.connect((host, port))

    def send(self, msg_type, body=b""):
        self.sock.send(frame(msg_type, body))

    def recv(self, deadline):
        """The next (type, body) before `deadline`, or None."""
        left = deadline - time.monotonic()
        if left <= 0:
            return None
        self.sock.settimeout(left)
        try:
            d = self.sock.recv(2048)
        except socket.timeout:
            return None
        if d[0] == 1:  # 3-octet Length (MQTT-SN 1.2 §5.2.1)
            return d[3], d[4:]
        return d[1], d[2:]


PUBLISH, REGISTER, REGACK, SUBSCRIBE, SUBACK = 0x0C, 0x0A, 0x0B, 0x12, 0x13
UNSUBSCRIBE, UNSUBACK, PINGREQ, PINGRESP, DISCONNECT, CONNECT, CONNACK = (
    0x14, 0x15, 0x16, 0x17, 0x18, 0x04, 0x05)


def out(line):
    print(line, flush=True)


def handle(c, t, body, prefix):
    """Prints a PUBLISH, acknowledges a REGISTER. True when it was a PUBLISH."""
    if t == REGISTER:
        topic_id, msg_id = struct.unpack("!HH", body[:4])
        c.send(REGACK, struct.pack("!HHB", topic_id, msg_id, 0))
        return False
    if t == PUBLISH:
        flags, topic_id, _msg_id = struct.unpack("!BHH", body[:5])
        out("%s %d %s" % (prefix, topic_id, body[5:].decode()))
        return True
    return False


def expect(c, want, deadline, prefix="msg"):
    while True:
        r = c.recv(deadline)
        if r is None:
            sys.exit("sn_client: timed out waiting for message type 0x%02x" % want)
        if r[0] == want:
            return r[1]
        handle(c, r[0], r[1], prefix)


def main():
    host, port, cid, topic, count, action, seconds = sys.argv[1:8]
    port, count, seconds = int(port), int(count), float(seconds)
    c = Client(host, port)
    limit = time.monotonic() + 20
    c.send(CONNECT, struct.pack("!BBH", 0x04, 0x01, 60) + cid.encode())
    if expect(c, CONNACK, limit)[0] != 0:
        sys.exit("sn_client: CONNACK refused")
    c.send(SUBSCRIBE, struct.pack("!BH", 0x00, 1) + topic.encode())
    suback = expect(c, SUBACK, limit)
    _flags, topic_id, _mid, rc = struct.unpack("!BHHB", suback[:6])
    if rc != 0:
        sys.exit("sn_client: SUBACK refused")
    out("ready %d" % topic_id)
    got = 0
    while got < count:
        r = c.recv(limit)
        if r is None:
            sys.exit("sn_client: got %d of %d messages" % (got, count))
        got += handle(c, r[0], r[1], "msg")
    if action == "unsub":
        c.send(UNSUBSCRIBE, struct.pack("!BH", 0x00, 2) + topic.encode())
        expect(c, UNSUBACK, limit, prefix="late")
        out("unsubscribed")
        end = time.monotonic() + seconds
        while (r := c.recv(end)) is not None:
            handle(c, r[0], r[1], "late")
    elif action == "sleep":
        c.send(DISCONNECT, struct.pack("!H", 60))
        expect(c, DISCONNECT, limit, prefix="late")
        out("asleep")
        end = time.monotonic() + seconds
        while (r := c.recv(end)) is not None:
            handle(c, r[0], r[1], "late")
        c.send(PINGREQ, cid.encode())
        expect(c, PINGRESP, limit, prefix="woken")
        out("awake")
    else:
        end = time.monotonic() + seconds
        while (r := c.recv(end)) is not None:
            handle(c, r[0], r[1], "msg")
    c.send(DISCONNECT)
    return 0


if __name__ == "__main__":
    sys.exit(main())
