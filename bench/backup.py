#!/usr/bin/env python3
"""Memory and time of `dermis export` and `dermis import` on a large database.

    python3 bench/backup.py --binary target/release/dermis [--topics 100000]
        [--postgres postgres://postgres@127.0.0.1:5432/postgres] [--media 20]

Generates the benchmark dataset (bench/dataset.py: TOPICS topics, 200 conditions, 200 side
effects, 3-8 links of each kind per topic, one revision per document) as the single JSON
document of format 1, loads it with `dermis import` (the pre-archive, whole-document
path), adds MEDIA uploaded images through the API, then measures, each as its own process:

- `dermis export` of that SQLite database into an archive;
- `dermis import` of the archive into a new SQLite database;
- with --postgres: the same archive into a new PostgreSQL database, and its export.

It prints one row per step: seconds, peak resident memory (the kernel's maxrss of the
process, from wait4) and the size of what was written. Peak memory is the number that
matters: the archive is read and written as a stream, so it should not grow with the data.
"""

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.request
import uuid

HERE = os.path.dirname(os.path.abspath(__file__))


def run(binary, args, env, stdin=None):
    """Runs `dermis ARGS`; returns (seconds, peak RSS in MiB, stdout+stderr)."""
    started = time.monotonic()
    out = tempfile.TemporaryFile()
    proc = subprocess.Popen([binary, *args], env=env, stdin=stdin or subprocess.DEVNULL,
                            stdout=out, stderr=subprocess.STDOUT)
    _, status, usage = os.wait4(proc.pid, 0)
    seconds = time.monotonic() - started
    out.seek(0)
    text = out.read().decode(errors="replace")
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode != 0:
        sys.exit(f"dermis {' '.join(args)} failed ({proc.returncode}):\n{text[-2000:]}")
    return seconds, usage.ru_maxrss / 1024, text


def environment(database_url, media_dir):
    env = {k: v for k, v in os.environ.items() if not k.startswith("DERMIS_")}
    env["DERMIS_DATABASE_URL"] = database_url
    env["DERMIS_MEDIA_URL"] = media_dir
    env["DERMIS_LOG"] = "warn"
    return env


def png(width, height, seed):
    """An uncompressed-ish PNG of noise-free gradients (deterministic)."""
    import struct
    import zlib
    rows = bytearray()
    for y in range(height):
        rows.append(0)
        for x in range(width):
            rows += bytes(((x * 3 + seed) % 256, (y * 5 + seed * 7) % 256, (x + y + seed) % 256))

    def chunk(kind, data):
        return (struct.pack(">I", len(data)) + kind + data
                + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF))

    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(bytes(rows))) + chunk(b"IEND", b""))


def add_media(binary, env, count):
    """Creates an admin, starts the server, uploads COUNT images as the admin."""
    if count == 0:
        return
    subprocess.run([binary, "user", "create", "--email", "bench@example.org", "--name", "Bench",
                    "--role", "admin"], env=env, input=b"correct horse battery staple\n",
                   check=True, capture_output=True)
    env = dict(env, DERMIS_BIND="127.0.0.1:0", DERMIS_LOG="info")
    proc = subprocess.Popen([binary, "serve"], env=env, stdout=subprocess.DEVNULL,
                            stderr=subprocess.PIPE, text=True)
    base = None
    for line in proc.stderr:
        if "listening on http://" in line:
            base = line.split("listening on ")[1].split()[0].strip('"')
            break
    try:
        def gql(query, variables, token=None):
            req = urllib.request.Request(base + "/graphql", data=json.dumps(
                {"query": query, "variables": variables}).encode(),
                headers={"content-type": "application/json",
                         **({"authorization": "Bearer " + token} if token else {})})
            return json.load(urllib.request.urlopen(req))
        login = gql("mutation($e: String!, $p: String!) { login(input: { email: $e, password: $p }) { accessToken } }",
                    {"e": "bench@example.org", "p": "correct horse battery staple"})
        token = login["data"]["login"]["accessToken"]
        for i in range(count):
            boundary = uuid.uuid4().hex
            ops = json.dumps({"query": "mutation($input: UploadMediaInput!) { uploadMedia(input: $input) { media { id } } }",
                              "variables": {"input": {"file": None, "alt": f"Image {i}"}}})
            body = b"".join([
                f"--{boundary}\r\nContent-Disposition: form-data; name=\"operations\"\r\n\r\n{ops}\r\n".encode(),
                f"--{boundary}\r\nContent-Disposition: form-data; name=\"map\"\r\n\r\n{{\"0\": [\"variables.input.file\"]}}\r\n".encode(),
                f"--{boundary}\r\nContent-Disposition: form-data; name=\"0\"; filename=\"{i}.png\"\r\nContent-Type: image/png\r\n\r\n".encode(),
                png(1600, 1000, i), f"\r\n--{boundary}--\r\n".encode()])
            req = urllib.request.Request(base + "/graphql", data=body, headers={
                "content-type": f"multipart/form-data; boundary={boundary}",
                "authorization": "Bearer " + token})
            answer = json.load(urllib.request.urlopen(req))
            if answer.get("errors"):
                sys.exit(f"upload failed: {answer}")
    finally:
        proc.terminate()
        proc.wait()


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--binary", required=True)
    parser.add_argument("--topics", type=int, default=100_000)
    parser.add_argument("--media", type=int, default=20)
    parser.add_argument("--postgres")
    parser.add_argument("--keep", help="work in this folder and keep it")
    args = parser.parse_args()
    binary = os.path.abspath(args.binary)
    work = args.keep or tempfile.mkdtemp(prefix="dermis-backup-bench-")
    os.makedirs(work, exist_ok=True)
    rows = []

    def row(step, seconds, rss, size=None):
        rows.append((step, seconds, rss, size))
        print(f"{step:<58} {seconds:8.1f} s {rss:9.0f} MiB"
              + (f" {size / 2**20:9.1f} MiB written" if size is not None else ""), flush=True)

    dataset = os.path.join(work, f"dataset-{args.topics}.json")
    if not os.path.exists(dataset):
        with open(dataset, "w") as f:
            subprocess.run([sys.executable, os.path.join(HERE, "dataset.py"), str(args.topics)],
                           stdout=f, check=True)
    source = environment(f"sqlite://{work}/source.db?mode=rwc", os.path.join(work, "media-source"))
    seconds, rss, _ = run(binary, ["import", dataset], source)
    row(f"import, format 1 JSON document ({os.path.getsize(dataset) / 2**20:.0f} MiB), SQLite",
        seconds, rss)
    add_media(binary, source, args.media)

    archive = os.path.join(work, "backup.tar")
    seconds, rss, text = run(binary, ["export", "-o", archive], source)
    row("export to an archive, SQLite", seconds, rss, os.path.getsize(archive))
    print("   ", text.strip().splitlines()[-1])

    copy = environment(f"sqlite://{work}/copy.db?mode=rwc", os.path.join(work, "media-copy"))
    seconds, rss, _ = run(binary, ["import", archive], copy)
    row("import of the archive, SQLite", seconds, rss)

    if args.postgres:
        name = f"dermis_backup_bench_{os.getpid()}"
        admin = args.postgres
        subprocess.run(["psql", admin, "-qc", f"CREATE DATABASE {name}"], check=True)
        try:
            url = admin.rsplit("/", 1)[0] + "/" + name
            pg = environment(url, os.path.join(work, "media-pg"))
            seconds, rss, _ = run(binary, ["import", archive], pg)
            row("import of the archive, PostgreSQL", seconds, rss)
            again = os.path.join(work, "backup-pg.tar")
            seconds, rss, _ = run(binary, ["export", "-o", again], pg)
            row("export to an archive, PostgreSQL", seconds, rss, os.path.getsize(again))
            same = subprocess.run(["cmp", "-s", archive, again]).returncode == 0
            print("    the PostgreSQL export is", "byte-identical apart from the header"
                  if same or tar_content_equal(archive, again) else "DIFFERENT")
        finally:
            subprocess.run(["psql", admin, "-qc", f"DROP DATABASE IF EXISTS {name}"])
    if not args.keep:
        shutil.rmtree(work, ignore_errors=True)


def tar_content_equal(a, b):
    """Whether two archives hold the same entries with the same bytes, the header aside."""
    import tarfile

    def entries(path):
        with tarfile.open(path) as t:
            return {m.name: t.extractfile(m).read() for m in t.getmembers()
                    if m.name != "dermis-export.json"}
    return entries(a) == entries(b)


if __name__ == "__main__":
    main()
