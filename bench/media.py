#!/usr/bin/env python3
"""Serving media: a responsive variant (and the original) against the ceiling.

Imports 100 topics into SQLite (or a fresh PostgreSQL database with --postgres), starts one
server, uploads a 1600 x 1000 PNG through the GraphQL multipart request spec, makes it the
hero image of a published topic (so it is public), and runs, round after round, the ceiling
(the variant's bytes answered from memory by the same server), `GET /media/{hash}/640.webp`
and `GET /media/{hash}.png`; prints each round's requests/s as ratios to the ceiling and the
medians.

    python3 bench/media.py --binary target/release/dermis --rounds 5
"""

import argparse
import json
import os
import statistics
import struct
import subprocess
import sys
import urllib.request
import uuid
import zlib

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import bench  # noqa: E402


def png(width, height):
    """A gradient RGB PNG (a real picture, so that its variants cost what a photo's do)."""
    def chunk(kind, data):
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))
    rows = bytearray()
    for y in range(height):
        rows.append(0)
        for x in range(width):
            rows += bytes((x * 255 // width, y * 255 // height, (x * y) % 251))
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(bytes(rows)))
            + chunk(b"IEND", b""))


def upload(base, token, data):
    query = ("mutation($input: UploadMediaInput!) { uploadMedia(input: $input) "
             "{ media { id contentHash width } } }")
    boundary = uuid.uuid4().hex
    parts = [
        ("operations", None, json.dumps({"query": query, "variables": {"input": {"file": None, "alt": "Bench"}}}).encode()),
        ("map", None, json.dumps({"0": ["variables.input.file"]}).encode()),
        ("0", "bench.png", data),
    ]
    body = b""
    for name, filename, value in parts:
        disposition = f'form-data; name="{name}"' + (f'; filename="{filename}"' if filename else "")
        body += f"--{boundary}\r\nContent-Disposition: {disposition}\r\n\r\n".encode() + value + b"\r\n"
    body += f"--{boundary}--\r\n".encode()
    request = urllib.request.Request(base + "/graphql", data=body, method="POST")
    request.add_header("content-type", f"multipart/form-data; boundary={boundary}")
    request.add_header("authorization", "Bearer " + token)
    with urllib.request.urlopen(request, timeout=120) as response:
        answer = json.loads(response.read())
    assert "errors" not in answer, answer
    return answer["data"]["uploadMedia"]["media"]


def gql(base, token, query, variables=None):
    answer = json.loads(bench.post(base, bench.body(query, variables), token))
    assert "errors" not in answer, answer
    return answer["data"]


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--binary", default=os.path.join(bench.ROOT, "target", "release", "dermis"))
    parser.add_argument("--postgres", help="admin URL of a PostgreSQL server to run on instead")
    parser.add_argument("--connections", type=int, default=64)
    parser.add_argument("--duration", type=int, default=5)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()

    imported = bench.Imported(args.binary, 100, args.postgres, "media")
    workdir, url, env = imported.workdir, imported.url, imported.env
    subprocess.run([args.binary, "user", "create", "--email", "bench@example.org", "--name", "Bench",
                    "--role", "admin"], cwd=workdir, env=env, input=bench.PASSWORD + "\n", text=True,
                   check=True, stdout=subprocess.DEVNULL)
    server = bench.Server(args.binary, url, workdir, {})
    try:
        token = gql(server.base, None, 'mutation($i: LoginInput!) { login(input: $i) { accessToken } }',
                    {"i": {"email": "bench@example.org", "password": bench.PASSWORD}})["login"]["accessToken"]
        item = upload(server.base, token, png(1600, 1000))
        topic = gql(server.base, token, '{ topic(slug: "topic-000050") { id version status } }')["topic"]
        assert topic["status"] == "PUBLISHED", topic
        gql(server.base, token,
            "mutation($input: UpdateTopicInput!) { updateTopic(input: $input) { topic { id } } }",
            {"input": {"id": topic["id"], "expectedVersion": topic["version"], "imageId": item["id"]}})
        variant = f"/media/{item['contentHash']}/640.webp"
        original = f"/media/{item['contentHash']}.png"
        with urllib.request.urlopen(server.base + variant, timeout=30) as response:
            variant_bytes = response.read()
        with urllib.request.urlopen(server.base + original, timeout=30) as response:
            original_size = len(response.read())
        with open(os.path.join(workdir, "ceiling.json"), "wb") as f:
            f.write(variant_bytes)
        unused = os.path.join(workdir, "unused")
        print(f"variant {len(variant_bytes)} bytes, original {original_size} bytes, "
              f"{args.connections} connections, {args.duration} s per point")
        ratios = {"variant": [], "original": []}
        for round_ in range(args.rounds):
            row = {}
            for name, path in (("ceiling", "/bench/ceiling"), ("variant", variant), ("original", original)):
                result = bench.wrk(server.base, path, [unused], args.connections, args.duration, script="get.lua")
                assert result["non_2xx"] == 0, (name, result)
                row[name] = result["rps"]
            for name in ratios:
                ratios[name].append(row[name] / row["ceiling"])
            print(f"round {round_ + 1}: ceiling {row['ceiling']:.0f}/s, variant {row['variant']:.0f}/s "
                  f"({100 * ratios['variant'][-1]:.1f}%), original {row['original']:.0f}/s "
                  f"({100 * ratios['original'][-1]:.1f}%)")
        print(f"median: variant {100 * statistics.median(ratios['variant']):.1f}% of the ceiling, "
              f"original {100 * statistics.median(ratios['original']):.1f}%")
    finally:
        server.stop()
        imported.drop()


if __name__ == "__main__":
    main()
