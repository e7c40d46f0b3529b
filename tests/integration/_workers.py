"""Writer processes for the store guarantee tests (run as ``python -m tests.integration._workers``)."""

from __future__ import annotations

import json
import random
import sys

from geo_p4gn.boundaries import load_boundaries
from geo_p4gn.records import validate_record
from geo_p4gn.store import open_store
from geo_p4gn.taxonomy import load_taxonomy


def _record(tax, org: str, i: int):
    rng = random.Random(f"{org}-{i}")
    return validate_record({
        "date": f"2024-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}",
        "type": rng.choice(tax.type_keys), "actor": rng.choice(tax.actor_keys), "organisation": org,
        "lon": 106.7586 + rng.uniform(-0.002, 0.002), "lat": -6.1526 + rng.uniform(-0.002, 0.002),
        "participants": i,
    }, taxonomy=tax)


def write(url: str, n: int, tag: str) -> None:
    """n single-record transactions; report how many succeeded and every error seen."""
    tax = load_taxonomy()
    store = open_store(url, boundaries=load_boundaries(), taxonomy=tax)
    ok, errors = 0, []
    for i in range(n):
        try:
            store.add(_record(tax, tag, i), user=tag)
            ok += 1
        except Exception as exc:  # noqa: BLE001 - the test asserts there are none; report every one
            errors.append(f"{type(exc).__name__}: {exc}")
    print(json.dumps({"ok": ok, "errors": errors}), flush=True)


def batches(url: str, size: int, tag: str) -> None:
    """Import batches of `size` records forever; print each batch number once it is committed."""
    tax = load_taxonomy()
    store = open_store(url, boundaries=load_boundaries(), taxonomy=tax)
    print("ready", flush=True)
    k = 0
    while True:
        org = f"{tag}-b{k}"
        store.add_many([_record(tax, org, i) for i in range(size)], user=tag)
        print(f"committed {org}", flush=True)
        k += 1


if __name__ == "__main__":
    cmd, url, n, tag = sys.argv[1:5]
    {"write": write, "batches": batches}[cmd](url, int(n), tag)
