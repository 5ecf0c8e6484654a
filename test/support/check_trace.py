#!/usr/bin/env python3
"""Check a gocoro trace (Chrome trace-event JSON): check_trace.py FILE PROCS GOROUTINES NAME

It must parse as JSON; every run slice lies on one of the PROCS worker tracks (or on a
locked thread's, tid 2000 and up) with a non-negative duration; every flow arrow's two ends exist; exactly GOROUTINES distinct
goroutines ran, and all but the main one carry NAME (their root function) in their
slices' names. Prints what is wrong and exits 1, else exits 0."""
import json
import sys


def main():
    path, procs, goroutines, name = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
    with open(path) as f:
        events = json.load(f)["traceEvents"]
    problems = []
    runs = [e for e in events if e.get("ph") == "X" and e.get("cat") == "run"]
    for e in runs:
        if not (0 <= e["tid"] < procs or e["tid"] >= 2000):
            problems.append(f"a run slice off the worker tracks: {e}")
        if e["dur"] < 0:
            problems.append(f"a run slice ends before it begins: {e}")
    # Slices on one track do not overlap: each run begins and ends on its worker.
    by_track = {}
    for e in runs:
        by_track.setdefault(e["tid"], []).append((e["ts"], e["ts"] + e["dur"]))
    for tid, spans in by_track.items():
        spans.sort()
        for (a0, a1), (b0, b1) in zip(spans, spans[1:]):
            if b0 < a1 - 0.002:  # the microsecond values are rounded to ns
                problems.append(f"overlapping runs on track {tid}: {a0}-{a1} and {b0}-{b1}")
    tails = {e["id"] for e in events if e.get("ph") == "s"}
    heads = {e["id"] for e in events if e.get("ph") == "f"}
    if heads - tails:
        problems.append(f"{len(heads - tails)} arrows without a tail")
    if tails - heads:
        problems.append(f"{len(tails - heads)} arrows without a head (every ready of a finished program runs)")
    ids = {e["args"]["goid"] for e in runs}
    if len(ids) != goroutines:
        problems.append(f"{len(ids)} goroutines ran, expected {goroutines}")
    named = {e["args"]["goid"] for e in runs if name in e["name"]}
    if len(named) != goroutines - 1:
        problems.append(f"{len(named)} goroutines named {name}, expected {goroutines - 1}")
    for p in problems:
        print(p)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
