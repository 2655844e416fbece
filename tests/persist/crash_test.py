#!/usr/bin/python3
"""crash_test.py - kill -9 the broker repeatedly under QoS 1 and QoS 2 load and prove that every
message it acknowledged reaches the persistent subscriber after restart, and no QoS 2 message
twice (QoS 1 duplicates are allowed).

Each cycle starts the broker on a persistent LMDB store, waits for the persistent-session QoS 2
subscriber (one paho client, clean session false, for the whole test) to reconnect - its
session must come back with "session present" - then a publisher that sends numbered messages at QoS 1 and 2 as fast
as a bounded in-flight window allows, and kills the broker with SIGKILL after a random
150-400 ms. The publisher records exactly which messages got their PUBACK (QoS 1) or PUBCOMP
(QoS 2) through paho's on_publish. A last run lets the subscriber drain its session.

Real components only: the daemon, Debian's paho-mqtt (python3-paho-mqtt, which hands a QoS 2
message to the application at PUBREL), the real store. Port 24000; the store lives in a
temporary directory removed on every exit path. Bounded: CYCLES cycles and fixed timeouts.
"""
import os
import random
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
    sys.exit("crash_test: python3-paho-mqtt is missing (scripts/deps.sh installs it)")

PORT = 24000
CYCLES = int(os.environ.get("CRASH_CYCLES", "24"))
TOPIC = "crash/load"
SUB_ID = "crash-sub"
INFLIGHT = 40  # publisher window: messages published and not yet acknowledged
SRC = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
BIN = os.environ.get("MQTT_FAST_BIN", os.path.join(SRC, "build", "broker", "mqtt-fast"))


class Broker:
    def __init__(self, tmp):
        self.tmp = tmp
        self.conf = os.path.join(tmp, "broker.conf")
        self.log = os.path.join(tmp, "broker.log")
        with open(self.conf, "w") as f:
            f.write(f"listener {PORT} 127.0.0.1\nallow_anonymous true\nsys_interval 0\n"
                    f"persistence true\npersistence_location {tmp}/store\n"
                    f"max_queued_messages 0\nlog_dest file {self.log}\n")
        self.proc = None

    def start(self):
        self.proc = subprocess.Popen([BIN, "-c", self.conf], stderr=subprocess.PIPE)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError("broker exited at start: " +
                                   self.proc.stderr.read().decode(errors="replace"))
            try:
                socket.create_connection(("127.0.0.1", PORT), timeout=0.2).close()
                return
            except OSError:
                time.sleep(0.02)
        raise RuntimeError("broker did not listen within 10 s")

    def kill9(self):
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(timeout=10)
        self.proc = None

    def stop(self):
        """SIGTERM; returns the exit status."""
        self.proc.send_signal(signal.SIGTERM)
        rc = self.proc.wait(timeout=10)
        self.proc = None
        return rc

    def cleanup(self):
        if self.proc is not None:
            self.proc.kill()
            self.proc.wait(timeout=10)

    def tail(self, n=40):
        try:
            with open(self.log, errors="replace") as f:
                return "".join(f.readlines()[-n:])
        except OSError:
            return "(no log)"


class Subscriber:
    """The persistent QoS 2 subscriber: one paho client (clean session false) for the whole test,
    reconnecting to every new broker process. It keeps its own half of the session across kills
    as a real client must: QoS 2 messages it PUBREC'd and that wait for PUBREL (paho keeps them
    on reconnect when clean_session is false, and delivers at PUBREL)."""

    def __init__(self):
        self.lock = threading.Lock()
        self.counts = {}  # (qos, seq) -> deliveries
        self.connected = threading.Event()
        self.session_present = None
        self.subscribed = threading.Event()
        c = mqtt.Client(client_id=SUB_ID, clean_session=False)
        c.reconnect_delay_set(min_delay=0.02, max_delay=0.1)
        c.on_connect = self._on_connect
        c.on_disconnect = lambda *a: self.connected.clear()
        c.on_message = self._on_message
        c.on_subscribe = lambda *a: self.subscribed.set()
        self.client = c
        self.started = False

    def _on_connect(self, client, userdata, flags, rc):
        if rc == 0:
            self.session_present = flags.get("session present")
            self.connected.set()

    def _on_message(self, client, userdata, msg):
        qos_s, seq_s = msg.payload.decode().split(":")
        key = (int(qos_s), int(seq_s))
        with self.lock:
            self.counts[key] = self.counts.get(key, 0) + 1

    def wait_connected(self, subscribe):
        """First call connects; later ones wait for paho's own reconnect to the new broker."""
        if not self.started:
            self.client.connect("127.0.0.1", PORT, keepalive=30)
            self.client.loop_start()
            self.started = True
        if not self.connected.wait(10):
            raise RuntimeError("subscriber did not (re)connect within 10 s")
        if subscribe:
            self.client.subscribe(TOPIC, qos=2)
            if not self.subscribed.wait(5):
                raise RuntimeError("no SUBACK")

    def broker_killed(self):
        """Forget the old connection's CONNACK: the next wait needs a new one."""
        deadline = time.monotonic() + 5
        while self.connected.is_set() and time.monotonic() < deadline:
            time.sleep(0.005)
        self.connected.clear()
        self.session_present = None

    def close(self):
        if self.started:
            self.client.disconnect()
            self.client.loop_stop()
            self.started = False

    def received(self):
        with self.lock:
            return dict(self.counts)


def publish_until_killed(broker, seq0, run_s):
    """Publishes numbered messages, alternating QoS 1 and 2, for run_s seconds, then kills the
    broker. Returns (next seq, set of (qos, seq) acknowledged)."""
    c = mqtt.Client(client_id=f"crash-pub-{seq0}", clean_session=True)
    c.max_inflight_messages_set(INFLIGHT)
    acked_mids = set()
    lock = threading.Lock()
    connected = threading.Event()

    def on_publish(client, userdata, mid):
        # QoS 1: PUBACK received; QoS 2: PUBCOMP received.
        with lock:
            acked_mids.add(mid)

    c.on_publish = on_publish
    c.on_connect = lambda client, userdata, flags, rc: rc == 0 and connected.set()
    c.connect("127.0.0.1", PORT, keepalive=30)
    c.loop_start()
    if not connected.wait(5):
        raise RuntimeError("publisher did not connect")
    sent = {}  # mid -> (qos, seq)
    seq = seq0
    end = time.monotonic() + run_s
    while time.monotonic() < end:
        with lock:
            outstanding = len(sent) - len(acked_mids)
        if outstanding >= INFLIGHT:
            time.sleep(0.001)
            continue
        qos = 1 + seq % 2
        info = c.publish(TOPIC, f"{qos}:{seq}", qos=qos)
        if info.rc != mqtt.MQTT_ERR_SUCCESS:
            break
        sent[info.mid] = (qos, seq)
        seq += 1
    broker.kill9()
    c.disconnect()
    c.loop_stop()
    with lock:
        acked = {sent[m] for m in acked_mids if m in sent}
    return seq, acked, len(sent)


def main():
    if not os.access(BIN, os.X_OK):
        sys.exit(f"crash_test: broker binary {BIN} not found (set MQTT_FAST_BIN)")
    rnd = random.Random(int(os.environ.get("CRASH_SEED", str(os.getpid()))))
    tmp = tempfile.mkdtemp(prefix="mqtt-fast-crash.")
    broker = Broker(tmp)
    sub = Subscriber()
    acked = set()
    published = 0
    problems = []
    t0 = time.monotonic()
    try:
        seq = 0
        for cycle in range(CYCLES):
            broker.start()
            sub.wait_connected(subscribe=(cycle == 0))
            if cycle > 0 and not sub.session_present:
                problems.append(f"cycle {cycle}: the subscriber's session was not restored")
            run_s = rnd.uniform(0.15, 0.4)
            seq, got_acked, n = publish_until_killed(broker, seq, run_s)
            acked |= got_acked
            published += n
            sub.broker_killed()
            print(f"cycle {cycle + 1:2d}/{CYCLES}: published {n}, acknowledged "
                  f"{len(got_acked)}, received so far {len(sub.received())}", flush=True)

        # The last run: the subscriber drains what its session still holds.
        broker.start()
        sub.wait_connected(subscribe=False)
        if not sub.session_present:
            problems.append("final run: the subscriber's session was not restored")
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            got = sub.received()
            if all(k in got for k in acked):
                break
            time.sleep(0.05)
        time.sleep(0.3)  # anything arriving twice would arrive now
        sub.close()
        rc = broker.stop()
        if rc != 0:
            problems.append(f"broker exit status {rc} after SIGTERM")

        got = sub.received()
        missing = sorted(k for k in acked if k not in got)
        dup2 = sorted(k for k, n in got.items() if k[0] == 2 and n > 1)
        dup1 = sum(1 for k, n in got.items() if k[0] == 1 and n > 1)
        unknown = sorted(k for k in got if k[1] >= seq)
        if missing:
            problems.append(f"{len(missing)} acknowledged messages never reached the "
                            f"subscriber, first {missing[:10]}")
        if dup2:
            problems.append(f"{len(dup2)} QoS 2 messages delivered more than once, "
                            f"first {dup2[:10]}")
        if unknown:
            problems.append(f"messages nobody published: {unknown[:10]}")
        # The test must have exercised something: acknowledged traffic in every cycle.
        if len(acked) < CYCLES * 10:
            problems.append(f"only {len(acked)} messages acknowledged in {CYCLES} cycles: "
                            "too little load to prove anything")
        print(f"{CYCLES} kill -9 cycles in {time.monotonic() - t0:.1f} s: published "
              f"{published}, acknowledged {len(acked)} "
              f"(QoS 1 {sum(1 for k in acked if k[0] == 1)}, "
              f"QoS 2 {sum(1 for k in acked if k[0] == 2)}), received {len(got)} distinct, "
              f"unacknowledged but delivered {len(set(got) - acked)}, QoS 1 duplicates {dup1}, "
              f"QoS 2 duplicates {len(dup2)}, missing {len(missing)}")
    except Exception as e:  # a broken run is a failure with its cause, never a hang
        problems.append(f"{type(e).__name__}: {e}")
    finally:
        sub.close()
        broker.cleanup()
        if problems:
            print("--- broker log (tail)\n" + broker.tail(), file=sys.stderr)
        shutil.rmtree(tmp, ignore_errors=True)
    for p in problems:
        print("FAIL: " + p, file=sys.stderr)
    return 1 if problems else 0


if __name__ == "__main__":
    # SIGTERM (ctest's timeout, a CI cancel) unwinds through main's cleanup too.
    signal.signal(signal.SIGTERM, lambda *a: sys.exit(1))
    sys.exit(main())
