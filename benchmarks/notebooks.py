"""How long each chapter notebook and assignment master takes to execute.

    .venv/bin/python benchmarks/notebooks.py                      # every notebook
    .venv/bin/python benchmarks/notebooks.py book/comparison.ipynb

Each notebook is executed once, in a fresh kernel, the way nbval and the book build run
it; the script prints the wall time per notebook (kernel start included) and the total,
slowest first. nbval runs the notebooks on two workers (`-n 2 --dist loadfile`), so the
suite's notebook time is roughly the larger of two balanced halves of the total. On a
busy machine the figures grow with the load: compare runs made under the same conditions.
"""

import argparse
import sys
import time
from pathlib import Path

import nbformat
from nbclient import NotebookClient

ROOT = Path(__file__).resolve().parent.parent


def execute(path):
    nb = nbformat.read(path, as_version=4)
    start = time.perf_counter()
    NotebookClient(nb, timeout=900, kernel_name="python3",
                   resources={"metadata": {"path": str(Path(path).parent)}}).execute()
    return time.perf_counter() - start


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("notebooks", nargs="*", help="default: book/ and assignments/source/")
    args = parser.parse_args(argv)
    paths = args.notebooks or sorted(
        [*ROOT.glob("book/*.ipynb"), *ROOT.glob("assignments/source/*.ipynb")])
    times = {}
    for path in paths:
        times[Path(path).relative_to(ROOT) if Path(path).is_absolute() else path] = execute(path)
        print(f"  {list(times)[-1]}: {list(times.values())[-1]:.1f} s", file=sys.stderr)
    print(f"{'notebook':45}{'seconds':>9}")
    for path, seconds in sorted(times.items(), key=lambda item: -item[1]):
        print(f"{str(path):45}{seconds:9.1f}")
    print(f"{'total':45}{sum(times.values()):9.1f}")


if __name__ == "__main__":
    main()
