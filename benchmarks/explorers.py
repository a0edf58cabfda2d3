"""Time every explorer the book shows: slider change -> new PNG in the Image widget.

    python benchmarks/explorers.py            # every explorer in optlib.explorers
    python benchmarks/explorers.py NAME ...   # some of them

For each explorer the script builds the widget exactly as its chapter does, then moves
each control through all its values (every other control held at its initial value),
for ``--rounds`` passes, in a fixed order. A "change" is one assignment to
``slider.value``: with no front end the observer runs synchronously, so the time until
the assignment returns is the time until the new PNG bytes are in the Image widget.

It prints, per explorer: the median and maximum of those times, the target (median
<= 16 ms, max <= 40 ms), the set-up time (sliders, first render, one background per
landscape), the live PNG size, and for the book's precomputed frames their number,
total size and build time. Not a test: numbers depend on the machine.
"""

import argparse
import statistics
import time

from optlib.explorers import EXPLORERS


def sweep(explorer):
    """Every (control, value) change of one pass, in a fixed order."""
    changes = []
    for name, values in explorer.choices.items():
        initial = explorer.values[name]
        changes += [(name, v) for v in values if v != initial]
        changes.append((name, initial))
    return changes


def measure(name, rounds):
    start = time.perf_counter()
    explorer = EXPLORERS[name]()
    _ = explorer.widget
    setup = time.perf_counter() - start

    times = []
    for _round in range(rounds):
        for control, value in sweep(explorer):
            start = time.perf_counter()
            explorer.controls[control].value = value
            times.append(time.perf_counter() - start)
            assert explorer.values[control] == value

    start = time.perf_counter()
    frames = explorer.frames()
    frames_time = time.perf_counter() - start
    return {
        "setup_ms": 1e3 * setup,
        "changes": len(times),
        "median_ms": 1e3 * statistics.median(times),
        "max_ms": 1e3 * max(times),
        "png_bytes": len(explorer.image.value),
        "frames": len(frames),
        "frames_kb": sum(len(png) for png, _ in frames.values()) / 1024,
        "frames_s": frames_time,
    }


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("names", nargs="*", help="explorers to time (default: all)")
    parser.add_argument("--rounds", type=int, default=5, help="passes over the controls")
    args = parser.parse_args()
    names = args.names or sorted(EXPLORERS)
    unknown = set(names) - set(EXPLORERS)
    if unknown:
        parser.error(f"unknown explorer(s) {sorted(unknown)}; known: {sorted(EXPLORERS)}")

    header = (f"{'explorer':32} {'changes':>7} {'median':>8} {'max':>8} {'target':>7} "
              f"{'set-up':>8} {'PNG':>8} {'frames':>6} {'frames':>9} {'build':>6}")
    print(header)
    print(f"{'':32} {'':>7} {'ms':>8} {'ms':>8} {'':>7} {'ms':>8} {'bytes':>8} {'':>6} "
          f"{'KB':>9} {'s':>6}")
    for name in names:
        r = measure(name, args.rounds)
        ok = "ok" if r["median_ms"] <= 16 and r["max_ms"] <= 40 else "MISSED"
        print(f"{name:32} {r['changes']:7d} {r['median_ms']:8.1f} {r['max_ms']:8.1f} {ok:>7} "
              f"{r['setup_ms']:8.0f} {r['png_bytes']:8d} {r['frames']:6d} "
              f"{r['frames_kb']:9.0f} {r['frames_s']:6.2f}")


if __name__ == "__main__":
    main()
