#!/usr/bin/env python3
"""report.py - turns the result files of tests/bench/run.sh into tables with ratios and the
issue-7 targets (pass / short), prints them, and optionally writes them into BENCHMARKS.md
(between the results markers) and gnuplot PNGs. Every figure comes from a result file of the
run; a system that could not run shows "n/a" and the reason run.sh recorded.

Usage: report.py --results DIR [--markdown FILE [--template FILE]] [--plots DIR] [--check]
  --check  fail (exit 1) unless the run is complete and consistent: every case present, no
           failed case, deliveries everywhere, no loss or duplicates where none is allowed
           (QoS 1, and QoS 0 at the fixed offered rate). Used by the smoke test.
"""
import argparse
import glob
import json
import os
import shutil
import subprocess
import sys

BEGIN = "<!-- bench:results:begin -->"
END = "<!-- bench:results:end -->"
SN_SYSTEMS = ["fastpath", "userspace", "relay", "limit"]
SN_NAMES = {"fastpath": "mqtt-fast fast path", "userspace": "mqtt-fast userspace",
            "relay": "bare relay", "limit": "limit (TC clone)"}
BROKERS = ["mqtt-fast", "mosquitto"]


def load(results):
    cases, meta, na, failures = {}, {}, {}, {}
    for path in glob.glob(os.path.join(results, "*.json")):
        name = os.path.basename(path)
        with open(path) as f:
            try:
                data = json.load(f)
            except json.JSONDecodeError as e:
                sys.exit(f"report.py: {path}: not JSON ({e})")
        if name == "meta.json":
            meta = data
        else:
            cases[data["label"]] = data
    for fname, into in (("unavailable.txt", na), ("failures.txt", failures)):
        path = os.path.join(results, fname)
        if os.path.exists(path):
            with open(path) as f:
                for line in f:
                    key, _, why = line.rstrip("\n").partition("\t")
                    into.setdefault(key, why)
    if not meta:
        sys.exit(f"report.py: {results}/meta.json missing: not a complete run.sh result")
    return cases, meta, na, failures


def fmt(v, unit=""):
    if v is None:
        return "n/a"
    if isinstance(v, float) and v >= 1000:
        return f"{v:,.0f}{unit}"
    if isinstance(v, float):
        return f"{v:.2f}{unit}" if v < 10 else f"{v:.1f}{unit}"
    return f"{v:,}{unit}"


def ratio(a, b):
    return f"{a / b:.2f}x" if a is not None and b else "n/a"


def get(cases, label, key):
    c = cases.get(label)
    return None if c is None else c.get(key)


def per_msg(c, key):
    """Microseconds of `key` (seconds) per delivered message."""
    if c is None or c.get(key) is None or not c.get("delivered"):
        return None
    return c[key] * 1e6 / c["delivered"]


def table(head, rows):
    out = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    out += ["| " + " | ".join(str(x) for x in r) + " |" for r in rows]
    return "\n".join(out)


def sn_tables(cases, meta, na):
    counts, rate = meta["counts"], meta["latency_rate"]
    lines = []
    head = ["N"] + [SN_NAMES[s] + " msgs/s" for s in SN_SYSTEMS] + [
        "fast/limit", "fast/userspace", "userspace/relay"]
    rows = []
    for n in counts:
        d = {s: get(cases, f"sn:flat:{s}:{n}", "delivered_per_s") for s in SN_SYSTEMS}
        rows.append([n] + [fmt(d[s]) for s in SN_SYSTEMS] + [
            ratio(d["fastpath"], d["limit"]), ratio(d["fastpath"], d["userspace"]),
            ratio(d["userspace"], d["relay"])])
    lines += ["### MQTT-SN QoS 0 fan-out, flat out: delivered msgs/s", "", table(head, rows), ""]
    head = ["N"] + [f"{SN_NAMES[s]} {what}" for s in ("fastpath", "userspace", "relay")
                    for what in ("process µs/msg",)] + [
        f"{SN_NAMES[s]} softirq µs/msg" for s in ("fastpath", "limit")] + ["loss (userspace)"]
    rows = []
    for n in counts:
        c = {s: cases.get(f"sn:flat:{s}:{n}") for s in SN_SYSTEMS}
        lost = get(cases, f"sn:flat:userspace:{n}", "lost")
        exp = get(cases, f"sn:flat:userspace:{n}", "expected")
        rows.append([n] + [fmt(per_msg(c[s], "broker_cpu_s")) for s in
                           ("fastpath", "userspace", "relay")] +
                    [fmt(per_msg(c[s], "softirq_s")) for s in ("fastpath", "limit")] +
                    [f"{100.0 * lost / exp:.1f}%" if exp else "n/a"])
    cpu_head, cpu_rows = head, rows
    head = ["N"] + [SN_NAMES[s] + " sent/s" for s in SN_SYSTEMS]
    rows = [[n] + [fmt(get(cases, f"sn:flat:{s}:{n}", "sent_per_s")) for s in SN_SYSTEMS]
            for n in counts]
    lines += ["What the publisher managed to send meanwhile: on veth a kernel fan-out runs in the "
              "softirq of the sending CPU, inside the publisher's sendmmsg(), and slows it down.",
              "", table(head, rows), ""]
    lines += ["CPU per delivered message: the broker (or relay) process from /proc/PID/stat; "
              "the kernel's share as the machine's softirq time over the run.", "",
              table(cpu_head, cpu_rows), ""]
    head = ["N"] + [f"{SN_NAMES[s]} p50 / p99 / p99.9 µs" for s in SN_SYSTEMS] + [
        "p99 fast/userspace"]
    rows = []
    for n in counts:
        cell, p99 = [], {}
        for s in SN_SYSTEMS:
            c = cases.get(f"sn:lat:{s}:{n}")
            p99[s] = c and c["p99_us"]
            cell.append("n/a" if c is None else
                        f"{c['p50_us']:.0f} / {c['p99_us']:.0f} / {c['p999_us']:.0f}"
                        + (f" (lost {c['lost']})" if c["lost"] else ""))
        rows.append([n] + cell + [ratio(p99["fastpath"], p99["userspace"])])
    lines += [f"### MQTT-SN QoS 0 fan-out at {rate} msgs/s: one-way latency", "",
              table(head, rows), ""]
    return lines


def tcp_tables(cases, meta):
    counts, rate, fanin = meta["counts"], meta["latency_rate"], meta["fanin"]
    lines = []
    for q in (0, 1):
        head = ["N", "mqtt-fast msgs/s", "mosquitto msgs/s", "ratio", "mqtt-fast lost",
                "mosquitto lost", "mqtt-fast µs/msg", "mosquitto µs/msg"]
        rows = []
        labels = [(f"1 -> {n}", f"tcp:out:q{q}:%s:{n}") for n in counts] + [
            (f"{fanin} -> 1", f"tcp:in:q{q}:%s:{fanin}")]
        for title, pat in labels:
            a, b = cases.get(pat % "mqtt-fast"), cases.get(pat % "mosquitto")
            rows.append([title, fmt(a and a["delivered_per_s"]), fmt(b and b["delivered_per_s"]),
                         ratio(a and a["delivered_per_s"], b and b["delivered_per_s"]),
                         fmt(a and a["lost"]), fmt(b and b["lost"]),
                         fmt(per_msg(a, "broker_cpu_s")), fmt(per_msg(b, "broker_cpu_s"))])
        lines += [f"### MQTT over TCP, QoS {q}, flat out: fan-out and fan-in", "",
                  table(head, rows), ""]
    head = ["N", "mqtt-fast p50 / p99 / p99.9 µs", "mosquitto p50 / p99 / p99.9 µs",
            "p99 ratio", "lost (mqtt-fast / mosquitto)"]
    rows = []
    for n in counts:
        a, b = cases.get(f"tcp:lat:q0:mqtt-fast:{n}"), cases.get(f"tcp:lat:q0:mosquitto:{n}")

        def lat(c):
            return "n/a" if c is None else \
                f"{c['p50_us']:.0f} / {c['p99_us']:.0f} / {c['p999_us']:.0f}"
        rows.append([n, lat(a), lat(b), ratio(a and a["p99_us"], b and b["p99_us"]),
                     f"{fmt(a and a['lost'])} / {fmt(b and b['lost'])}"])
    lines += [f"### MQTT over TCP, QoS 0 fan-out at {rate} msgs/s: one-way latency", "",
              table(head, rows), ""]
    return lines


def idle_table(cases, meta):
    n = meta["idle"]
    a, b = cases.get(f"idle:mqtt-fast:{n}"), cases.get(f"idle:mosquitto:{n}")
    head = ["broker", "connections held", "RSS before KiB", "RSS after KiB", "bytes/connection"]
    rows = [[name, fmt(c and c["conns"]), fmt(c and c.get("rss_before_kb")),
             fmt(c and c.get("rss_after_kb")), fmt(c and c.get("rss_per_conn_bytes"))]
            for name, c in (("mqtt-fast", a), ("mosquitto", b))]
    return [f"### {n:,} idle MQTT connections: broker RSS", "", table(head, rows), ""]


def targets(cases, meta, na):
    """The issue-7 targets as (target, measured, verdict)."""
    out = []

    def verdict(ok):
        return "n/a" if ok is None else ("pass" if ok else "short")

    def val(label, key):
        return get(cases, label, key)
    counts = meta["counts"]
    big = [n for n in counts if n >= 10] or counts
    for n in big:
        f, lim = val(f"sn:flat:fastpath:{n}", "delivered_per_s"), val(f"sn:flat:limit:{n}",
                                                                     "delivered_per_s")
        ok = None if f is None or not lim else f >= 0.9 * lim
        out.append((f"fast path >= 90% of the limit at N={n}", ratio(f, lim), verdict(ok)))
    n = max(counts)
    f, u = val(f"sn:flat:fastpath:{n}", "delivered_per_s"), val(f"sn:flat:userspace:{n}",
                                                               "delivered_per_s")
    out.append((f"fast path >= 2.5x userspace at N={n}", ratio(f, u),
                verdict(None if f is None or not u else f >= 2.5 * u)))
    for n in counts:
        f, u = val(f"sn:lat:fastpath:{n}", "p99_us"), val(f"sn:lat:userspace:{n}", "p99_us")
        out.append((f"fast path p99 <= half of userspace at N={n}", ratio(f, u),
                    verdict(None if f is None or not u else f <= 0.5 * u)))
    for n in counts:
        u, r = val(f"sn:flat:userspace:{n}", "delivered_per_s"), val(f"sn:flat:relay:{n}",
                                                                    "delivered_per_s")
        out.append((f"MQTT-SN userspace >= bare relay at N={n}", ratio(u, r),
                    verdict(None if u is None or not r else u >= r)))
    for q in (0, 1):
        for n in big:
            a = val(f"tcp:out:q{q}:mqtt-fast:{n}", "delivered_per_s")
            b = val(f"tcp:out:q{q}:mosquitto:{n}", "delivered_per_s")
            out.append((f"TCP QoS {q} >= 1.5x mosquitto at N={n}", ratio(a, b),
                        verdict(None if a is None or not b else a >= 1.5 * b)))
    for n in counts:
        a, b = val(f"tcp:lat:q0:mqtt-fast:{n}", "p99_us"), val(f"tcp:lat:q0:mosquitto:{n}",
                                                              "p99_us")
        out.append((f"TCP p99 lower than mosquitto at N={n}", ratio(a, b),
                    verdict(None if a is None or not b else a < b)))
        lost = val(f"tcp:lat:q0:mqtt-fast:{n}", "lost")
        out.append((f"TCP QoS 0 no loss below the queue bound at N={n} ({meta['latency_rate']}"
                    " msgs/s)", fmt(lost), verdict(None if lost is None else lost == 0)))
    a = val(f"idle:mqtt-fast:{meta['idle']}", "rss_per_conn_bytes")
    b = val(f"idle:mosquitto:{meta['idle']}", "rss_per_conn_bytes")
    out.append(("RSS per idle connection <= mosquitto's", f"{fmt(a)} vs {fmt(b)} bytes",
                verdict(None if a is None or b is None else a <= b)))
    return out


def render(cases, meta, na, failures):
    lines = []
    if meta.get("smoke"):
        lines += ["**Smoke run: seconds-long, tiny counts; these figures mean nothing.**", ""]
    lines += [f"Run `{meta['command']}` on {meta['date']} ({meta['seconds']} s).", "",
              f"- machine: {meta['cpus']} x {meta['cpu']}, {meta['mem_kb'] // 1024} MiB, "
              f"{meta['kernel']}",
              f"- mqtt-fast {meta['mqtt_fast']}, {meta['mosquitto']}",
              f"- each case: {meta['duration_s']} s of publishing, {meta['size']}-byte payloads, "
              f"receivers stop {meta['drain_s']} s after the last delivery; latency cases at "
              f"{meta['latency_rate']} msgs/s", ""]
    if na:
        lines += ["Not available in this run:", ""]
        lines += [f"- **{k}**: {v}" for k, v in sorted(na.items())] + [""]
    if failures:
        lines += ["Failed cases:", ""]
        lines += [f"- **{k}**: {v}" for k, v in sorted(failures.items())] + [""]
    dups = [f"- {k}: {c['duplicates']} duplicates" for k, c in sorted(cases.items())
            if c.get("duplicates")]
    if dups:
        lines += ["**Second copies received** (every subscriber must get each message once):",
                  ""] + dups + [""]
    busy = []
    for k, c in sorted(cases.items()):
        rx = (c.get("elapsed_s") or 0)
        if rx and c.get("sub_cpu_s", 0) >= 0.9 * rx:
            busy.append(f"- {k}: subscribers' process busy {c['sub_cpu_s']:.2f} s of {rx:.2f} s")
    if busy:
        lines += ["**Receiver-bound cases** (the subscribers' process used >= 90% of a core: "
                  "the harness may be the limit, the figure is a lower bound):", ""] + busy + [""]
    lines += sn_tables(cases, meta, na) + tcp_tables(cases, meta) + idle_table(cases, meta)
    lines += ["### Targets (issue 7)", "",
              table(["target", "measured", "verdict"], targets(cases, meta, na)), ""]
    lines += ["A *short* verdict is explained, with its measured cause, under \"Shortfalls\" "
              "below this generated section (written by hand from the run's raw files).", ""]
    return "\n".join(lines)


def write_markdown(path, template, body, plots_rel):
    with open(template) as f:
        text = f.read()
    if BEGIN not in text or END not in text:
        sys.exit(f"report.py: {template} lacks the {BEGIN} / {END} markers")
    pics = ""
    if plots_rel:
        pics = "\n".join(f"![{n}]({plots_rel}/{n}.png)" for n in
                         ("sn-throughput", "sn-latency", "tcp-throughput", "tcp-latency")) + "\n"
    head, rest = text.split(BEGIN, 1)
    _, tail = rest.split(END, 1)
    with open(path + ".tmp", "w") as f:
        f.write(head + BEGIN + "\n" + body + "\n" + pics + END + tail)
    os.replace(path + ".tmp", path)


def plot(cases, meta, outdir):
    if not shutil.which("gnuplot"):
        sys.exit("report.py: gnuplot not installed (scripts/deps.sh installs gnuplot-nox)")
    os.makedirs(outdir, exist_ok=True)
    series = {
        "sn-throughput": ("MQTT-SN QoS 0 fan-out, flat out", "delivered msgs/s",
                          [(SN_NAMES[s], f"sn:flat:{s}:%d", "delivered_per_s") for s in
                           SN_SYSTEMS]),
        "sn-latency": (f"MQTT-SN fan-out at {meta['latency_rate']} msgs/s", "p99 latency (µs)",
                       [(SN_NAMES[s], f"sn:lat:{s}:%d", "p99_us") for s in SN_SYSTEMS]),
        "tcp-throughput": ("MQTT/TCP fan-out, flat out", "delivered msgs/s",
                           [(f"{b} QoS {q}", f"tcp:out:q{q}:{b}:%d", "delivered_per_s")
                            for b in BROKERS for q in (0, 1)]),
        "tcp-latency": (f"MQTT/TCP QoS 0 fan-out at {meta['latency_rate']} msgs/s",
                        "p99 latency (µs)",
                        [(b, f"tcp:lat:q0:{b}:%d", "p99_us") for b in BROKERS]),
    }
    for name, (title, ylabel, lines) in series.items():
        plots = []
        for i, (key, pat, field) in enumerate(lines):
            pts = [(n, get(cases, pat % n, field)) for n in meta["counts"]]
            pts = [(n, v) for n, v in pts if v is not None]
            if not pts:
                continue
            dat = os.path.join(outdir, f"{name}.{i}.dat")
            with open(dat, "w") as f:
                f.writelines(f"{n} {v}\n" for n, v in pts)
            plots.append(f"'{dat}' using 1:2 with linespoints title '{key}'")
        script = ["set terminal png size 960,480",
                  f"set output '{os.path.join(outdir, name + '.png')}'",
                  f"set title '{title}'", "set xlabel 'subscribers'", f"set ylabel '{ylabel}'",
                  "set logscale x", "set xrange [0.8:*]", "set yrange [0:*]", "set key outside right",
                  "set grid"]
        script.append("plot " + ", ".join(plots) if plots else
                      "set label 'no data in this run' at graph 0.4,0.5\nplot [1:10] NaN notitle")
        subprocess.run(["gnuplot"], input="\n".join(script) + "\n", text=True, check=True)
        for f in glob.glob(os.path.join(outdir, f"{name}.*.dat")):
            os.remove(f)


def check(cases, meta, na, failures):
    problems = [f"{k} failed: {v}" for k, v in failures.items()]
    expect = []
    for s in SN_SYSTEMS:
        if s in na:
            continue
        expect += [f"sn:{m}:{s}:{n}" for m in ("flat", "lat") for n in meta["counts"]]
    for b in BROKERS:
        expect += [f"tcp:out:q{q}:{b}:{n}" for q in (0, 1) for n in meta["counts"]]
        expect += [f"tcp:in:q{q}:{b}:{meta['fanin']}" for q in (0, 1)]
        expect += [f"tcp:lat:q0:{b}:{n}" for n in meta["counts"]]
        expect += [f"idle:{b}:{meta['idle']}"]
    if meta.get("smoke"):
        expect.append(f"tls:out:q1:mqtt-fast:{meta['counts'][0]}")
    for label in expect:
        c = cases.get(label)
        if c is None:
            problems.append(f"{label}: no result")
        elif label.startswith("idle:"):
            if c["conns"] != meta["idle"] or c.get("rss_per_conn_bytes") is None:
                problems.append(f"{label}: {c['conns']} of {meta['idle']} connections, "
                                f"RSS {c.get('rss_per_conn_bytes')}")
        elif not c["delivered"] or not c["sent"]:
            problems.append(f"{label}: sent {c['sent']}, delivered {c['delivered']}")
        elif (":lat:" in label or ":q1:" in label) and (c["lost"] or c["duplicates"]):
            problems.append(f"{label}: lost {c['lost']}, duplicates {c['duplicates']}")
        elif c["duplicates"]:
            problems.append(f"{label}: {c['duplicates']} duplicates")
    for p in problems:
        print(f"report.py: check: {p}", file=sys.stderr)
    return not problems


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--results", required=True)
    ap.add_argument("--markdown")
    ap.add_argument("--template", default=os.path.join(os.path.dirname(__file__), "..", "..",
                                                        "BENCHMARKS.md"))
    ap.add_argument("--plots")
    ap.add_argument("--check", action="store_true")
    a = ap.parse_args()
    cases, meta, na, failures = load(a.results)
    body = render(cases, meta, na, failures)
    print(body)
    if a.plots:
        plot(cases, meta, a.plots)
    if a.markdown:
        rel = os.path.relpath(a.plots, os.path.dirname(os.path.abspath(a.markdown))) \
            if a.plots else None
        write_markdown(a.markdown, a.template, body, rel)
    if a.check and not check(cases, meta, na, failures):
        sys.exit(1)


if __name__ == "__main__":
    main()
