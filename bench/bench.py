#!/usr/bin/env python3
"""Dermis benchmark driver (run through `bench/run`, which builds and installs first).

For each backend (SQLite; PostgreSQL when --postgres URL is given) and dataset size, it
imports a generated dataset, starts the release `dermis serve`, and drives it with wrk on
loopback at each connection count:

  ceiling   POST /bench/ceiling: the bytes of workload (a)'s answer, same server and
            middleware, no GraphQL, no database
  a-cached  topic page: one topic by slug with conditions and side effects (cache on)
  a         the same with the response cache off (the compiled read path answers it)
  a-general the same with the compiled read path off too (async-graphql executes it)
  b         listing: 20 topics with their relations (cache off)
  c         search for a rare word (cache off)
  d         editor saves (updateTopic) mixed 1:20 with topic-page reads (cache off)

and, once per server, reads' p99 alone and under a concurrent login flood. Reported:
requests/s, p50, p99, the ratio of requests/s to the ceiling's at the same connection
count, SQL statements per request (from /metrics), and the server's peak RSS.
Results go to bench/out/results-*.json and a Markdown table on stdout.

With --postgres-own-core (PostgreSQL on this machine), PostgreSQL's processes run on the
last core and the server and wrk on the others for the PostgreSQL part, as if PostgreSQL
had a host of its own; the affinities are restored afterwards. Without it every process
shares every core, and the kernel's per-group fairness lets a busy password hashing thread
keep a PostgreSQL backend off a core for hundreds of milliseconds (BENCHMARKS.md).
"""

import argparse
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
PASSWORD = "correct horse battery staple"

PAGE = ('query TopicPage($slug: String!) { topic(slug: $slug) { slug title summary bodyHtml '
        'features benefits conditions { note node { slug name } } '
        'sideEffects { frequency severity duration note node { slug name } } } }')
LIST = ('query Listing { topics(first: 20) { totalCount edges { cursor node { slug title summary '
        'conditions { node { slug name } } sideEffects { frequency severity node { slug name } } } } } }')
SEARCH = ('query Search($q: String) { topics(first: 20, filter: { search: $q }) '
          '{ totalCount edges { node { slug title } } } }')


def body(query, variables=None):
    return json.dumps({"query": query, "variables": variables or {}})


def post(base, payload, token=None):
    request = urllib.request.Request(base + "/graphql", data=payload.encode(), method="POST")
    request.add_header("content-type", "application/json")
    if token:
        request.add_header("authorization", "Bearer " + token)
    with urllib.request.urlopen(request, timeout=60) as response:
        return response.read()


def metric(base, name):
    with urllib.request.urlopen(base + "/metrics", timeout=10) as response:
        for line in response.read().decode().splitlines():
            if line.startswith(name + " "):
                return float(line.split()[1])
    return 0.0


class Imported:
    """A dataset of `size` topics imported into a new database: SQLite in a temporary folder,
    or a new database on the PostgreSQL server `postgres` (an admin URL); `drop()` removes
    the PostgreSQL one."""

    def __init__(self, binary, size, postgres, prefix):
        out = os.path.join(HERE, "out")
        os.makedirs(out, exist_ok=True)
        dataset = os.path.join(out, f"dataset-{size}.json")
        if not os.path.exists(dataset):
            with open(dataset, "w") as f:
                subprocess.run([sys.executable, os.path.join(HERE, "dataset.py"), str(size)],
                               stdout=f, check=True)
        self.workdir = tempfile.mkdtemp(prefix=f"dermis-{prefix}-")
        self.postgres = postgres
        if postgres:
            self.database = f"dermis_{prefix}_{os.getpid()}"
            subprocess.run(["psql", postgres, "-qc", f"CREATE DATABASE {self.database}"], check=True)
            self.url = re.sub(r"/[^/]*$", f"/{self.database}", postgres)
        else:
            self.url = f"sqlite://{self.workdir}/bench.db?mode=rwc"
        self.env = {k: v for k, v in os.environ.items() if not k.startswith("DERMIS_")}
        self.env["DERMIS_DATABASE_URL"] = self.url
        subprocess.run([binary, "import", dataset], cwd=self.workdir, env=self.env, check=True,
                       stdout=subprocess.DEVNULL)

    def drop(self):
        if self.postgres:
            subprocess.run(["psql", self.postgres, "-qc", f"DROP DATABASE IF EXISTS {self.database}"],
                           check=False)


def to_ms(text):
    match = re.match(r"([\d.]+)(us|ms|s|m)", text)
    value, unit = float(match.group(1)), match.group(2)
    return value * {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60000.0}[unit]


class Server:
    def __init__(self, binary, url, workdir, env):
        self.log = open(os.path.join(workdir, "server.log"), "w")
        full_env = {k: v for k, v in os.environ.items() if not k.startswith("DERMIS_")}
        full_env.update({
            "DERMIS_DATABASE_URL": url, "DERMIS_BIND": "127.0.0.1:0", "DERMIS_LOG": "warn,dermis_api::cli=info",
            "DERMIS_RATE_LIMIT_PER_SECOND": "0", "DERMIS_ACCESS_TOKEN_TTL": "7200",
            "DERMIS_BENCH_CEILING_FILE": os.path.join(workdir, "ceiling.json"),
            "DERMIS_LOGIN_MAX_FAILURES_PER_CLIENT": "1000000",
        })
        full_env.update(env)
        self.process = subprocess.Popen([binary, "serve"], cwd=workdir, env=full_env,
                                        stdout=self.log, stderr=subprocess.STDOUT)
        self.base = None
        deadline = time.time() + 120
        while time.time() < deadline and self.base is None:
            time.sleep(0.1)
            with open(os.path.join(workdir, "server.log")) as f:
                found = re.search(r"listening on (http://[\d.:]+)", f.read())
                if found:
                    self.base = found.group(1)
        if self.base is None:
            raise SystemExit("dermis serve did not start; see " + os.path.join(workdir, "server.log"))
        self.peak_rss_kb = 0
        self.sampling = True
        self.sampler = threading.Thread(target=self.sample, daemon=True)
        self.sampler.start()

    def rss_kb(self):
        try:
            with open(f"/proc/{self.process.pid}/status") as f:
                for line in f:
                    if line.startswith("VmRSS:"):
                        return int(line.split()[1])
        except OSError:
            pass
        return 0

    def sample(self):
        while self.sampling:
            self.peak_rss_kb = max(self.peak_rss_kb, self.rss_kb())
            time.sleep(0.2)

    def stop(self):
        self.sampling = False
        self.process.send_signal(signal.SIGTERM)
        self.process.wait(timeout=60)
        self.log.close()


def wrk(base, path, script_args, connections, duration, script="post.lua"):
    threads = min(2, connections)
    command = ["wrk", "-t", str(threads), "-c", str(connections), "-d", f"{duration}s", "--latency",
               "-s", os.path.join(HERE, script), base + path, "--"] + script_args + [str(threads)]
    output = subprocess.run(command, capture_output=True, text=True, check=True).stdout
    requests = int(re.search(r"(\d+) requests in", output).group(1))
    result = {
        "rps": float(re.search(r"Requests/sec:\s+([\d.]+)", output).group(1)),
        "p50_ms": to_ms(re.search(r"\s50%\s+(\S+)", output).group(1)),
        "p99_ms": to_ms(re.search(r"\s99%\s+(\S+)", output).group(1)),
        "requests": requests,
        "non_2xx": int(m.group(1)) if (m := re.search(r"Non-2xx or 3xx responses: (\d+)", output)) else 0,
    }
    saves = re.search(r"saves ok (\d+), failed (\d+), resynced (\d+)", output)
    if saves:
        result["saves_ok"], result["saves_failed"] = int(saves.group(1)), int(saves.group(2))
        # A topic's first save in a run guesses version 1; earlier runs moved it on.
        result["saves_resynced"] = int(saves.group(3))
    return result


def settle(server, timeout=15.0):
    """Waits until the server has drained the previous point's backlog (its SQL statement
    count stops moving), so that those requests neither delay this point's first requests
    (they showed as p99 outliers of ~220 ms at one connection) nor count in its SQL/req."""
    deadline = time.time() + timeout
    last = metric(server.base, "dermis_sql_statements_total")
    while time.time() < deadline:
        time.sleep(0.3)
        now = metric(server.base, "dermis_sql_statements_total")
        if now == last:
            return
        last = now


def measure(server, name, path, args, connections, duration, script="post.lua", quiet=True):
    if quiet:
        settle(server)
    before = metric(server.base, "dermis_sql_statements_total")
    result = wrk(server.base, path, args, connections, duration, script)
    after = metric(server.base, "dermis_sql_statements_total")
    result["sql_per_request"] = round((after - before) / max(result["requests"], 1), 3)
    result.update({"workload": name, "connections": connections})
    print(f"    {name:9} c={connections:<3} {result['rps']:>9.0f} req/s  p50 {result['p50_ms']:7.2f} ms  "
          f"p99 {result['p99_ms']:7.2f} ms  sql/req {result['sql_per_request']}"
          + (f"  saves {result.get('saves_ok')}/{result.get('saves_ok', 0) + result.get('saves_failed', 0)}"
             f" (+{result.get('saves_resynced', 0)} resynced)"
             if "saves_ok" in result else ""), flush=True)
    return result


def run_backend(args, binary, backend, url_for, sizes, files, drop=None):
    """Runs every workload on `backend` for each dataset size; `url_for(size, workdir)`
    makes the database, `drop(size)` (when given) removes it afterwards."""
    results = []
    for size in sizes:
        workdir = tempfile.mkdtemp(prefix=f"dermis-bench-{backend}-{size}-")
        url = url_for(size, workdir)
        print(f"== {backend}, {size} topics", flush=True)
        started = time.time()
        env = {k: v for k, v in os.environ.items() if not k.startswith("DERMIS_")}
        env["DERMIS_DATABASE_URL"] = url
        subprocess.run([binary, "import", files[size]], cwd=workdir, env=env, check=True,
                       stdout=subprocess.DEVNULL)
        subprocess.run([binary, "user", "create", "--email", "bench@example.org", "--name", "Bench",
                        "--role", "editor"], cwd=workdir, env=env, input=PASSWORD + "\n", text=True,
                       check=True, stdout=subprocess.DEVNULL)
        print(f"    imported in {time.time() - started:.1f} s", flush=True)
        slug = f"topic-{size // 2:06}"
        rare = f"word{size // 3:06}"
        bodies = {
            "page": body(PAGE, {"slug": slug}),
            "list": body(LIST),
            "search": body(SEARCH, {"q": rare}),
            "login": body('mutation($i: LoginInput!) { login(input: $i) { accessToken } }',
                          {"i": {"email": "bench@example.org", "password": PASSWORD}}),
        }
        for name, text in bodies.items():
            with open(os.path.join(workdir, f"{name}.json"), "w") as f:
                f.write(text)
        file = lambda name: os.path.join(workdir, f"{name}.json")

        modes = {"on": {}, "off": {"DERMIS_RESPONSE_CACHE_BYTES": "0"},
                 "general": {"DERMIS_RESPONSE_CACHE_BYTES": "0", "DERMIS_COMPILED_READS": "false"}}
        for cache, server_env in modes.items():
            server = Server(binary, url, workdir, server_env)
            answer = post(server.base, bodies["page"])
            assert b"conditions" in answer and b"errors" not in answer, answer[:300]
            with open(os.path.join(workdir, "ceiling.json"), "wb") as f:
                f.write(answer)
            for name in ("list", "search"):
                check = post(server.base, bodies[name])
                assert b"errors" not in check, check[:300]
            if cache == "on":
                plan = [("ceiling", "/bench/ceiling", [file("page")]),
                        ("a-cached", "/graphql", [file("page")])]
            elif cache == "general":
                # The topic page on the general executor (compiled reads off), for the ratio.
                plan = [("a-general", "/graphql", [file("page")])]
            else:
                token = json.loads(post(server.base, bodies["login"]))["data"]["login"]["accessToken"]
                plan = [("a", "/graphql", [file("page")]),
                        ("b", "/graphql", [file("list")]),
                        ("c", "/graphql", [file("search")]),
                        ("d", "/graphql", [file("page"), token, str(size)], "mixed.lua")]
            for item in plan:
                name, path, wrk_args = item[:3]
                script = item[3] if len(item) > 3 else "post.lua"
                for connections in args.connections:
                    result = measure(server, name, path, wrk_args, connections, args.duration, script)
                    result.update({"backend": backend, "topics": size})
                    results.append(result)
            if cache == "off":
                # Reads' p99 alone, then with a login flood running next to them.
                alone = measure(server, "a-alone", "/graphql", [file("page")], 16, args.duration)
                flood = subprocess.Popen(
                    ["wrk", "-t", "1", "-c", "16", "-d", f"{args.duration + 2}s", "-s",
                     os.path.join(HERE, "post.lua"), server.base + "/graphql", "--", file("login")],
                    stdout=subprocess.PIPE, text=True)
                time.sleep(1)
                # Not settled: the flood's own statements never stop moving.
                flooded = measure(server, "a-flood", "/graphql", [file("page")], 16, args.duration,
                                  quiet=False)
                flood_out = flood.communicate()[0]
                logins = re.search(r"Requests/sec:\s+([\d.]+)", flood_out)
                flooded["logins_per_s"] = float(logins.group(1)) if logins else 0.0
                for r in (alone, flooded):
                    r.update({"backend": backend, "topics": size})
                    results.append(r)
                print(f"    login flood: {flooded['logins_per_s']:.0f} logins/s; read p99 "
                      f"{alone['p99_ms']:.2f} -> {flooded['p99_ms']:.2f} ms", flush=True)
            server.stop()
            rss = server.peak_rss_kb / 1024
            print(f"    peak RSS (cache {cache}): {rss:.1f} MB", flush=True)
            results.append({"backend": backend, "topics": size, "workload": f"rss-cache-{cache}",
                            "peak_rss_mb": round(rss, 1)})
        shutil.rmtree(workdir, ignore_errors=True)
        if drop:
            drop(size)
    return results


def table(results):
    ceilings = {(r["backend"], r["topics"], r["connections"]): r["rps"]
                for r in results if r.get("workload") == "ceiling"}
    lines = ["| backend | topics | workload | conns | req/s | % of ceiling | p50 ms | p99 ms | SQL/req |",
             "| --- | --- | --- | --- | --- | --- | --- | --- | --- |"]
    for r in results:
        if "rps" not in r:
            continue
        ceiling = ceilings.get((r["backend"], r["topics"], r["connections"]))
        ratio = f"{100 * r['rps'] / ceiling:.0f}%" if ceiling else ""
        lines.append(f"| {r['backend']} | {r['topics']} | {r['workload']} | {r['connections']} | "
                     f"{r['rps']:.0f} | {ratio} | {r['p50_ms']:.2f} | {r['p99_ms']:.2f} | {r['sql_per_request']} |")
    for r in results:
        if "peak_rss_mb" in r:
            lines.append(f"\npeak RSS {r['backend']} {r['topics']} topics {r['workload']}: {r['peak_rss_mb']} MB")
    return "\n".join(lines)


class OwnCore:
    """Pins the local PostgreSQL's processes to the last core and this driver (hence the
    server and wrk it starts) to the others, until `restore`."""

    def __init__(self):
        cores = sorted(os.sched_getaffinity(0))
        if len(cores) < 2:
            raise SystemExit("--postgres-own-core needs at least two cores")
        self.mine = set(cores)
        self.postgres = {cores[-1]}
        pids = self.postgres_pids()
        if not pids:
            raise SystemExit("--postgres-own-core: no local postgres process found")
        self.before = os.sched_getaffinity(min(pids))
        for pid in pids:
            os.sched_setaffinity(pid, self.postgres)
        os.sched_setaffinity(0, set(cores[:-1]))
        print(f"    PostgreSQL on core {cores[-1]}, server and wrk on {sorted(cores[:-1])}", flush=True)

    @staticmethod
    def postgres_pids():
        found = subprocess.run(["pgrep", "-x", "postgres"], capture_output=True, text=True).stdout
        return [int(pid) for pid in found.split()]

    def restore(self):
        os.sched_setaffinity(0, self.mine)
        for pid in self.postgres_pids():
            try:
                os.sched_setaffinity(pid, self.before)
            except ProcessLookupError:
                pass


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--binary", default=os.path.join(ROOT, "target", "release", "dermis"))
    parser.add_argument("--postgres", help="admin URL of a PostgreSQL server to run on as well")
    parser.add_argument("--postgres-own-core", action="store_true",
                        help="pin the local PostgreSQL to the last core, server and wrk to the rest")
    parser.add_argument("--backends", default="sqlite,postgres",
                        help="which of sqlite,postgres to run (postgres needs --postgres)")
    parser.add_argument("--sizes", default="100,100000")
    parser.add_argument("--connections", default="1,16,64")
    parser.add_argument("--duration", type=int, default=10)
    args = parser.parse_args()
    args.connections = [int(c) for c in args.connections.split(",")]
    sizes = [int(s) for s in args.sizes.split(",")]
    out = os.path.join(HERE, "out")
    os.makedirs(out, exist_ok=True)
    files = {}
    for size in sizes:
        files[size] = os.path.join(out, f"dataset-{size}.json")
        if not os.path.exists(files[size]):
            with open(files[size], "w") as f:
                subprocess.run([sys.executable, os.path.join(HERE, "dataset.py"), str(size)], stdout=f, check=True)
    backends = args.backends.split(",")
    results = []
    if "sqlite" in backends:
        results += run_backend(args, args.binary, "sqlite",
                               lambda size, workdir: f"sqlite://{workdir}/bench.db?mode=rwc", sizes, files)
    if args.postgres and "postgres" in backends:
        def pg_name(size):
            return f"dermis_bench_{size}_{os.getpid()}"

        def pg_drop(size):
            subprocess.run(["psql", args.postgres, "-qc", f"DROP DATABASE IF EXISTS {pg_name(size)}"],
                           check=True, stderr=subprocess.DEVNULL)

        def pg_url(size, workdir):
            pg_drop(size)
            subprocess.run(["psql", args.postgres, "-qc", f"CREATE DATABASE {pg_name(size)}"], check=True)
            return re.sub(r"/[^/]*$", f"/{pg_name(size)}", args.postgres)
        pinned = OwnCore() if args.postgres_own_core else None
        try:
            results += run_backend(args, args.binary, "postgres", pg_url, sizes, files, pg_drop)
        finally:
            if pinned:
                pinned.restore()
        for r in results:
            if r["backend"] == "postgres":
                r["postgres_own_core"] = bool(pinned)
    stamp = time.strftime("%Y%m%d-%H%M%S")
    with open(os.path.join(out, f"results-{stamp}.json"), "w") as f:
        json.dump(results, f, indent=1)
    print()
    print(table(results))


if __name__ == "__main__":
    main()
