#!/usr/bin/python3
"""qos2_inbound.py - a QoS 2 PUBLISH the broker PUBREC'd stays "received" across kill -9: the
publisher's persistent session keeps the packet id awaiting PUBREL, so the DUP resend after the
restart is acknowledged but not delivered again [MQTT-4.3.3-10], and the PUBREL then completes
the flow. The publisher speaks raw MQTT 3.1.1 bytes (exact control over DUP and packet ids); the
persistent QoS 2 subscriber is paho (python3-paho-mqtt) and counts deliveries. Port 24020.
"""
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time

try:
    import paho.mqtt.client as mqtt
except ImportError:
    sys.exit("qos2_inbound: python3-paho-mqtt is missing (scripts/deps.sh installs it)")

PORT = 24020
SRC = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
BIN = os.environ.get("MQTT_FAST_BIN", os.path.join(SRC, "build", "broker", "mqtt-fast"))
TOPIC = b"q2in/t"


def start_broker(conf):
    p = subprocess.Popen([BIN, "-c", conf])
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        if p.poll() is not None:
            raise RuntimeError("broker exited at start")
        try:
            socket.create_connection(("127.0.0.1", PORT), timeout=0.2).close()
            return p
        except OSError:
            time.sleep(0.02)
    raise RuntimeError("broker did not listen within 10 s")


def recv_exact(s, n):
    out = b""
    while len(out) < n:
        chunk = s.recv(n - len(out))
        if not chunk:
            raise RuntimeError("connection closed by the broker")
        out += chunk
    return out


def read_packet(s):
    """One packet: (first byte, body). Remaining lengths here fit one byte."""
    head = recv_exact(s, 2)
    if head[1] & 0x80:
        raise RuntimeError("unexpected long packet")
    return head[0], recv_exact(s, head[1])


def raw_connect(client_id):
    """CONNECT with clean session 0; returns (socket, session present)."""
    s = socket.create_connection(("127.0.0.1", PORT), timeout=5)
    cid = client_id.encode()
    body = b"\x00\x04MQTT\x04\x00\x00\x3c" + len(cid).to_bytes(2, "big") + cid
    s.sendall(bytes([0x10, len(body)]) + body)
    kind, b = read_packet(s)
    if kind != 0x20 or b[1] != 0:
        raise RuntimeError(f"CONNACK expected, got {kind:#x} {b.hex()}")
    return s, b[0] & 1


def publish_qos2(s, packet_id, payload, dup):
    body = len(TOPIC).to_bytes(2, "big") + TOPIC + packet_id.to_bytes(2, "big") + payload
    s.sendall(bytes([0x34 | (0x08 if dup else 0), len(body)]) + body)


def expect(s, kind, packet_id, what):
    got_kind, b = read_packet(s)
    if got_kind != kind or b[:2] != packet_id.to_bytes(2, "big"):
        raise RuntimeError(f"{what}: expected {kind:#x} for id {packet_id}, got "
                           f"{got_kind:#x} {b.hex()}")


def main():
    tmp = tempfile.mkdtemp(prefix="mqtt-fast-q2in.")
    conf = os.path.join(tmp, "broker.conf")
    with open(conf, "w") as f:
        f.write(f"listener {PORT} 127.0.0.1\nallow_anonymous true\nsys_interval 0\n"
                f"persistence true\npersistence_location {tmp}/store\n"
                f"log_dest file {tmp}/broker.log\n")
    broker = None
    sub = None
    problems = []
    try:
        broker = start_broker(conf)
        counts = {}
        lock = threading.Lock()
        connected = threading.Event()
        subscribed = threading.Event()

        def on_message(c, u, m):
            with lock:
                counts[m.payload] = counts.get(m.payload, 0) + 1

        sub = mqtt.Client(client_id="q2in-sub", clean_session=False)
        sub.reconnect_delay_set(min_delay=0.02, max_delay=0.1)
        sub.on_message = on_message
        sub.on_connect = lambda c, u, f, rc: rc == 0 and connected.set()
        sub.on_subscribe = lambda *a: subscribed.set()
        sub.connect("127.0.0.1", PORT, keepalive=30)
        sub.loop_start()
        if not connected.wait(5):
            raise RuntimeError("subscriber did not connect")
        sub.subscribe(TOPIC.decode(), qos=2)
        if not subscribed.wait(5):
            raise RuntimeError("no SUBACK")

        pub, present = raw_connect("q2in-pub")
        publish_qos2(pub, 7, b"exactly-once", dup=False)
        expect(pub, 0x50, 7, "PUBREC for the first PUBLISH")
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline and not counts.get(b"exactly-once"):
            time.sleep(0.01)
        if counts.get(b"exactly-once") != 1:
            problems.append(f"first PUBLISH delivered {counts.get(b'exactly-once', 0)} times")

        # The broker dies after its PUBREC: the publisher never got to send PUBREL.
        connected.clear()
        broker.send_signal(signal.SIGKILL)
        broker.wait(timeout=10)
        pub.close()
        broker = start_broker(conf)

        pub, present = raw_connect("q2in-pub")
        if not present:
            problems.append("the publisher's session was not restored (session present 0)")
        # [MQTT-4.3.3]: the sender resends with DUP until it has the PUBREC.
        publish_qos2(pub, 7, b"exactly-once", dup=True)
        expect(pub, 0x50, 7, "PUBREC for the DUP resend")
        pub.sendall(b"\x62\x02\x00\x07")  # PUBREL
        expect(pub, 0x70, 7, "PUBCOMP")
        # A new message with the released id is a new message.
        publish_qos2(pub, 7, b"next", dup=False)
        expect(pub, 0x50, 7, "PUBREC for the next message")
        pub.sendall(b"\x62\x02\x00\x07")
        expect(pub, 0x70, 7, "PUBCOMP for the next message")
        pub.sendall(b"\xe0\x00")  # DISCONNECT
        pub.close()

        if not connected.wait(10):
            raise RuntimeError("subscriber did not reconnect")
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline and not counts.get(b"next"):
            time.sleep(0.01)
        time.sleep(0.3)  # a second copy would arrive now
        with lock:
            got = dict(counts)
        if got != {b"exactly-once": 1, b"next": 1}:
            problems.append(f"deliveries after the restart: {got}, want each message once")
        else:
            print("ok: DUP resend of a PUBREC'd QoS 2 message after kill -9 not delivered "
                  "again; PUBREL completes; the id is reusable")
    except Exception as e:  # a broken run is a failure with its cause, never a hang
        problems.append(f"{type(e).__name__}: {e}")
    finally:
        if sub is not None:
            sub.disconnect()
            sub.loop_stop()
        if broker is not None and broker.poll() is None:
            broker.kill()
            broker.wait(timeout=10)
        if problems:
            try:
                with open(os.path.join(tmp, "broker.log")) as f:
                    sys.stderr.write("--- broker log\n" + f.read()[-4000:])
            except OSError:
                pass
        shutil.rmtree(tmp, ignore_errors=True)
    for p in problems:
        print("FAIL: " + p, file=sys.stderr)
    return 1 if problems else 0


if __name__ == "__main__":
    signal.signal(signal.SIGTERM, lambda *a: sys.exit(1))
    sys.exit(main())
