#!/usr/bin/env python3
"""Writes a benchmark dataset as a `dermis export` document, for `dermis import`.

    python3 bench/dataset.py TOPICS > data.json

TOPICS published topics (`topic-000001`, ...), each linked to 3-8 conditions and 3-8 side
effects drawn from pools of 200 each; every document at version 1 with its revision.
Deterministic (fixed seed), so every run measures the same data. Topic texts mix a few
hundred words from a small vocabulary plus one rare word per topic (`wordNNNNNN`) that the
search workload looks for.
"""

import json
import random
import sys

NOW = "2026-11-25T00:00:00Z"
VOCABULARY = (
    "skin collagen dermis needle treatment redness swelling acne scar texture tone "
    "repair healing session procedure microchannel serum elastin wrinkle pigment laser "
    "peel recovery downtime sensitive layer surface deeper controlled injury response"
).split()


def stamp(row):
    row.update(
        {
            "status": "PUBLISHED",
            "published_at": NOW,
            "version": 1,
            "created_at": NOW,
            "updated_at": NOW,
            "created_by": None,
            "updated_by": None,
        }
    )
    return row


def words(rng, n):
    return " ".join(rng.choice(VOCABULARY) for _ in range(n))


def main():
    topics = int(sys.argv[1]) if len(sys.argv) > 1 else 100
    rng = random.Random(20261125)
    conditions = [
        stamp({"id": i, "slug": f"condition-{i:03}", "name": f"Condition {i:03}",
               "description": words(rng, 12)})
        for i in range(1, 201)
    ]
    side_effects = [
        stamp({"id": i, "slug": f"effect-{i:03}", "name": f"Effect {i:03}",
               "description": words(rng, 12)})
        for i in range(1, 201)
    ]
    out = sys.stdout
    out.write('{"format":"dermis-export","formatVersion":1,"exportedAt":"%s",' % NOW)
    out.write('"dermisVersion":"bench","users":[],')
    out.write('"conditions":%s,"sideEffects":%s,' % (json.dumps(conditions), json.dumps(side_effects)))

    topic_rows, condition_links, effect_links = [], [], []
    for i in range(1, topics + 1):
        topic_rows.append(stamp({
            "id": i,
            "slug": f"topic-{i:06}",
            "title": f"Topic {i:06} {rng.choice(VOCABULARY)}",
            "summary": f"{words(rng, 30)} word{i:06}.",
            "body": f"## How it works\n\n{words(rng, 120)}\n\n{words(rng, 80)}",
            "features": [words(rng, 5) for _ in range(4)],
            "benefits": [words(rng, 5) for _ in range(3)],
            "references": [],
            "reviewed_at": None,
            "reviewed_by": None,
        }))
        for position, cid in enumerate(rng.sample(range(1, 201), rng.randint(3, 8))):
            condition_links.append({"topic_id": i, "condition_id": cid, "position": position,
                                    "note": None})
        for position, sid in enumerate(rng.sample(range(1, 201), rng.randint(3, 8))):
            effect_links.append({"topic_id": i, "side_effect_id": sid, "position": position,
                                 "note": None, "frequency": "COMMON", "severity": "MILD",
                                 "duration": "TEMPORARY"})
    out.write('"topics":%s,' % json.dumps(topic_rows))
    out.write('"topicConditions":%s,"topicSideEffects":%s,' % (json.dumps(condition_links), json.dumps(effect_links)))

    revisions, rid = [], 0
    for kind, rows in (("condition", conditions), ("side_effect", side_effects)):
        for row in rows:
            rid += 1
            revisions.append({"id": rid, "entity_type": kind, "entity_id": row["id"], "version": 1,
                              "snapshot": row, "author_id": None, "message": None,
                              "created_at": NOW})
    links_by_topic = {}
    for link in condition_links:
        links_by_topic.setdefault(link["topic_id"], ([], []))[0].append(link)
    for link in effect_links:
        links_by_topic.setdefault(link["topic_id"], ([], []))[1].append(link)
    for row in topic_rows:
        rid += 1
        cond, eff = links_by_topic.get(row["id"], ([], []))
        revisions.append({"id": rid, "entity_type": "topic", "entity_id": row["id"], "version": 1,
                          "snapshot": {"topic": row, "conditions": cond, "sideEffects": eff},
                          "author_id": None, "message": None, "created_at": NOW})
    out.write('"revisions":%s}\n' % json.dumps(revisions))


if __name__ == "__main__":
    main()
