#!/usr/bin/env python3
"""Webhook delivery: throughput, lag, and what it costs the reads.

Imports 100 topics into SQLite (or a fresh PostgreSQL database with --postgres), starts one
server, registers three local receivers as webhook endpoints for `topic.published`, and
publishes topics (an unpublish then a publish each time) from four writers:

1. reads alone: the topic page with wrk while the writers publish `--publishes` times at
   `--rate` publishes/s, with no endpoint registered;
2. the same with the three endpoints registered: read throughput next to 1., and each
   delivery's lag from the event's commit (its `timestamp`, written in the transaction) to
   its receipt;
3. as fast as the writers go, no reads: deliveries per second and lag under backlog.

Every delivery's signature is verified (HMAC-SHA256 per Standard Webhooks) and every event
must reach every endpoint exactly once. Ratios are to the ceiling measured in the same run.

    python3 bench/delivery.py --binary target/release/dermis [--postgres postgres://...]
"""

import argparse
import base64
import datetime
import hashlib
import hmac
import http.server
import json
import os
import subprocess
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import bench  # noqa: E402

SIZE = 100
ENDPOINTS = 3
WRITERS = 4


class Receiver:
    """A webhook endpoint on loopback: records each delivery's receipt time and payload."""

    def __init__(self):
        self.received = []
        self.secret = None
        self.lock = threading.Lock()
        receiver = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self):
                at = time.time()
                length = int(self.headers.get("content-length", 0))
                payload = self.rfile.read(length)
                with receiver.lock:
                    receiver.received.append((at, dict(self.headers), payload))
                self.send_response(204)
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hook"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def take(self):
        with self.lock:
            taken, self.received = self.received, []
        return taken

    def verify(self, headers, payload):
        headers = {k.lower(): v for k, v in headers.items()}
        key = base64.b64decode(self.secret.removeprefix("whsec_"))
        signed = f"{headers['webhook-id']}.{headers['webhook-timestamp']}.".encode() + payload
        expected = base64.b64encode(hmac.new(key, signed, hashlib.sha256).digest()).decode()
        return any(sig == f"v1,{expected}" for sig in headers["webhook-signature"].split())


def gql(base, token, query, variables=None):
    answer = json.loads(bench.post(base, bench.body(query, variables), token))
    if "errors" in answer:
        raise SystemExit(f"{query[:60]}...: {answer['errors']}")
    return answer["data"]


class Writers:
    """Publishes topics from several threads at a total pace (or as fast as they go)."""

    def __init__(self, base, token):
        self.base, self.token = base, token
        topics = gql(base, token, "{ topics(first: 100) { edges { node { id version } } } }")
        self.topics = [(e["node"]["id"], e["node"]["version"]) for e in topics["topics"]["edges"]]

    def run(self, publishes, rate=None):
        """Publishes `publishes` times; returns the seconds it took."""
        per_writer = [self.topics[i::WRITERS] for i in range(WRITERS)]
        counts = [publishes // WRITERS + (1 if i < publishes % WRITERS else 0) for i in range(WRITERS)]
        started = time.time()

        def write(w):
            topics = per_writer[w]
            for n in range(counts[w]):
                if rate:
                    due = started + (n * WRITERS + w) / rate
                    time.sleep(max(0.0, due - time.time()))
                slot = n % len(topics)
                topic_id, version = topics[slot]
                gql(self.base, self.token,
                    "mutation($i: DocumentVersionInput!) { unpublishTopic(input: $i) { topic { version } } }",
                    {"i": {"id": topic_id, "expectedVersion": version}})
                done = gql(self.base, self.token,
                           "mutation($i: PublishTopicInput!) { publishTopic(input: $i) { topic { version } } }",
                           # Seeded topics were never approved: the admin overrides.
                           {"i": {"id": topic_id, "expectedVersion": version + 1,
                                  "overrideReview": "benchmark"}})
                topics[slot] = (topic_id, done["publishTopic"]["topic"]["version"])

        threads = [threading.Thread(target=write, args=(w,)) for w in range(WRITERS)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        # Keep what the writers learnt for the next phase.
        self.topics = [t for w in range(WRITERS) for t in per_writer[w]]
        return time.time() - started


def collect(receivers, expected, timeout=120):
    """Waits until every receiver has `expected` deliveries; their lags (ms) and checks."""
    deadline = time.time() + timeout
    got = [[] for _ in receivers]
    while time.time() < deadline and any(len(g) < expected for g in got):
        time.sleep(0.05)
        for g, receiver in zip(got, receivers):
            g.extend(receiver.take())
    lags, last, bad, ids = [], 0.0, 0, []
    for g, receiver in zip(got, receivers):
        events = set()
        for at, headers, payload in g:
            body = json.loads(payload)
            if not receiver.verify(headers, payload):
                bad += 1
            events.add(body["data"]["eventId"])
            committed = datetime.datetime.fromisoformat(body["timestamp"].replace("Z", "+00:00")).timestamp()
            lags.append((at - committed) * 1000)
            last = max(last, at)
        ids.append((len(g), len(events)))
    return lags, last, bad, ids


def cpu_seconds(pid):
    """CPU time (user + system) a process has used, in seconds."""
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def quantile(values, q):
    values = sorted(values)
    return values[min(len(values) - 1, int(q * len(values)))] if values else float("nan")


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--binary", default=os.path.join(bench.ROOT, "target", "release", "dermis"))
    parser.add_argument("--postgres", help="admin URL of a PostgreSQL server to run on instead")
    parser.add_argument("--publishes", type=int, default=1000)
    parser.add_argument("--rate", type=float, default=50.0, help="publishes per second in phases 1 and 2")
    parser.add_argument("--connections", type=int, default=16, help="wrk connections for the reads")
    args = parser.parse_args()

    imported = bench.Imported(args.binary, SIZE, args.postgres, "delivery")
    workdir, url, env = imported.workdir, imported.url, imported.env
    subprocess.run([args.binary, "user", "create", "--email", "bench@example.org", "--name", "Bench",
                    "--role", "admin"], cwd=workdir, env=env, input=bench.PASSWORD + "\n", text=True,
                   check=True, stdout=subprocess.DEVNULL)
    server = bench.Server(args.binary, url, workdir, {"DERMIS_WEBHOOK_ALLOW_PRIVATE": "true"})
    results = {"backend": "postgres" if args.postgres else "sqlite", "publishes": args.publishes,
               "rate": args.rate, "connections": args.connections}
    try:
        token = gql(server.base, None,
                    'mutation($i: LoginInput!) { login(input: $i) { accessToken } }',
                    {"i": {"email": "bench@example.org", "password": bench.PASSWORD}})["login"]["accessToken"]
        page = os.path.join(workdir, "page.json")
        text = bench.body(bench.PAGE, {"slug": f"topic-{SIZE // 2:06}"})
        with open(page, "w") as f:
            f.write(text)
        with open(os.path.join(workdir, "ceiling.json"), "wb") as f:
            f.write(bench.post(server.base, text))
        writers = Writers(server.base, token)
        duration = max(3, int(args.publishes / args.rate) - 1)
        results["ceiling_rps"] = bench.wrk(server.base, "/bench/ceiling", [page], args.connections, 5)["rps"]

        def reads_while_publishing():
            """Reads next to paced publishes; with the CPU the server and this process
            (writers and receivers) used meanwhile, as shares of one core."""
            reads = {}
            reader = threading.Thread(target=lambda: reads.update(
                bench.wrk(server.base, "/graphql", [page], args.connections, duration)))
            started, server_cpu, own_cpu = time.time(), cpu_seconds(server.process.pid), time.process_time()
            reader.start()
            took = writers.run(args.publishes, args.rate)
            reader.join()
            wall = time.time() - started
            reads["server_cpu"] = (cpu_seconds(server.process.pid) - server_cpu) / wall
            reads["bench_cpu"] = (time.process_time() - own_cpu) / wall
            return reads, took

        print("== 1. reads while publishing, no endpoints", flush=True)
        reads, took = reads_while_publishing()
        results["reads_without_webhooks"] = reads
        print(f"   {args.publishes} publishes in {took:.1f} s; page reads {reads['rps']:.0f}/s "
              f"({100 * reads['rps'] / results['ceiling_rps']:.1f}% of the ceiling), p99 {reads['p99_ms']:.1f} ms; "
              f"CPU: server {reads['server_cpu']:.2f}, writers and receivers {reads['bench_cpu']:.2f} cores",
              flush=True)

        receivers = [Receiver() for _ in range(ENDPOINTS)]
        for receiver in receivers:
            made = gql(server.base, token,
                       "mutation($i: CreateWebhookEndpointInput!) { createWebhookEndpoint(input: $i) { secret } }",
                       {"i": {"url": receiver.url, "eventTypes": ["topic.published"]}})
            receiver.secret = made["createWebhookEndpoint"]["secret"]

        print(f"== 2. reads while publishing to {ENDPOINTS} endpoints", flush=True)
        reads, took = reads_while_publishing()
        lags, _, bad, ids = collect(receivers, args.publishes)
        results["reads_with_webhooks"] = reads
        results["paced"] = {"lag_p50_ms": quantile(lags, 0.5), "lag_p99_ms": quantile(lags, 0.99),
                            "lag_max_ms": max(lags), "deliveries": len(lags), "bad_signatures": bad,
                            "per_endpoint": ids}
        print(f"   page reads {reads['rps']:.0f}/s ({100 * reads['rps'] / results['ceiling_rps']:.1f}%), "
              f"p99 {reads['p99_ms']:.1f} ms; CPU: server {reads['server_cpu']:.2f}, writers and receivers "
              f"{reads['bench_cpu']:.2f} cores; {len(lags)} deliveries, lag p50 {quantile(lags, 0.5):.1f} ms, "
              f"p99 {quantile(lags, 0.99):.1f} ms, max {max(lags):.0f} ms; bad signatures {bad}; "
              f"per endpoint (deliveries, distinct events) {ids}", flush=True)

        print(f"== 3. {args.publishes} publishes as fast as {WRITERS} writers go, no reads", flush=True)
        started = time.time()
        took = writers.run(args.publishes)
        lags, last, bad, ids = collect(receivers, args.publishes)
        elapsed = last - started
        results["burst"] = {"publish_seconds": took, "delivered_seconds": elapsed,
                            "deliveries_per_s": len(lags) / elapsed, "lag_p50_ms": quantile(lags, 0.5),
                            "lag_p99_ms": quantile(lags, 0.99), "deliveries": len(lags),
                            "bad_signatures": bad, "per_endpoint": ids}
        print(f"   published in {took:.1f} s ({args.publishes / took:.0f}/s); all {len(lags)} deliveries in "
              f"{elapsed:.1f} s ({len(lags) / elapsed:.0f}/s); lag p50 {quantile(lags, 0.5):.0f} ms, "
              f"p99 {quantile(lags, 0.99):.0f} ms; bad signatures {bad}; per endpoint {ids}", flush=True)
        for phase in ("paced", "burst"):
            for count, distinct in results[phase]["per_endpoint"]:
                assert count == distinct == args.publishes, f"{phase}: {results[phase]['per_endpoint']}"
            assert results[phase]["bad_signatures"] == 0
    finally:
        server.stop()
        imported.drop()
    path = os.path.join(bench.HERE, "out", f"delivery-{time.strftime('%Y%m%d-%H%M%S')}.json")
    with open(path, "w") as f:
        json.dump(results, f, indent=2)
    print(f"results: {path}")


if __name__ == "__main__":
    main()
