#!/usr/bin/env python3
"""A quick check of workload (a) against the ceiling, for trying one change at a time.

Imports one dataset into SQLite (or a fresh PostgreSQL database with --postgres), starts
two servers of the same binary (response cache on, and off), and runs, round after round,
the ceiling, the cached page and the uncached page (or, with --workload listing, the first
page of the topic listing) at one connection count; prints each
round's ratios and the median ratio over the rounds. Interleaving the rounds is what makes
the ratios comparable on a noisy machine; the full benchmark is still `bench/run`.

    python3 bench/quick.py --binary target/release/dermis --size 100 --rounds 5
"""

import argparse
import os
import statistics
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import bench  # noqa: E402


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--binary", default=os.path.join(bench.ROOT, "target", "release", "dermis"))
    parser.add_argument("--postgres", help="admin URL of a PostgreSQL server to run on instead")
    parser.add_argument("--size", type=int, default=100)
    parser.add_argument("--connections", type=int, default=64)
    parser.add_argument("--duration", type=int, default=5)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--workload", choices=["page", "listing"], default="page",
                        help="the topic page (workload a) or the first page of the listing")
    args = parser.parse_args()

    imported = bench.Imported(args.binary, args.size, args.postgres, "quick")
    workdir, url = imported.workdir, imported.url
    page = os.path.join(workdir, "page.json")
    if args.workload == "listing":
        text = bench.body(bench.LIST)
    else:
        text = bench.body(bench.PAGE, {"slug": f"topic-{args.size // 2:06}"})
    with open(page, "w") as f:
        f.write(text)
    cached = bench.Server(args.binary, url, workdir, {})
    with open(os.path.join(workdir, "ceiling.json"), "wb") as f:
        f.write(bench.post(cached.base, text))
    second = os.path.join(workdir, "uncached")
    os.makedirs(second)
    uncached = bench.Server(args.binary, url, second, {"DERMIS_RESPONSE_CACHE_BYTES": "0"})
    assert bench.post(uncached.base, text) == bench.post(cached.base, text)
    ratios = {"a-cached": [], "a": []}
    try:
        for round_ in range(args.rounds):
            row = {}
            for name, server, path in (("ceiling", cached, "/bench/ceiling"),
                                       ("a-cached", cached, "/graphql"), ("a", uncached, "/graphql")):
                row[name] = bench.wrk(server.base, path, [page], args.connections, args.duration)["rps"]
            for name in ratios:
                ratios[name].append(row[name] / row["ceiling"])
            print(f"round {round_ + 1}: ceiling {row['ceiling']:.0f}/s, cached {row['a-cached']:.0f}/s "
                  f"({100 * ratios['a-cached'][-1]:.0f}%), uncached {row['a']:.0f}/s "
                  f"({100 * ratios['a'][-1]:.0f}%)", flush=True)
    finally:
        cached.stop()
        uncached.stop()
        imported.drop()
    print("median: " + ", ".join(f"{name} {100 * statistics.median(values):.1f}%"
                                 for name, values in ratios.items()))


if __name__ == "__main__":
    main()
