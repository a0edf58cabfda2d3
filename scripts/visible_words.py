"""How many words a reader of the rendered book sees on each chapter page.

    .venv/bin/python scripts/visible_words.py book/adam.ipynb [more notebooks ...]
    .venv/bin/python scripts/visible_words.py --no-execute book/*.ipynb   # prose + code only

Counts what the book shows: every markdown cell (exercise solutions included: they are
one click away), the source of code cells the book shows (not tagged ``remove-cell``,
``remove-input`` or ``hide-input``), and the text output of cells whose output is shown
(not ``remove-cell`` / ``remove-output``; ``hide-output`` is hidden too). To count
outputs the notebook is executed, in a temporary copy, the way the book build does it.
Images and widgets count as no words. The course's budget is ~6,000 words a page.
"""

import argparse
import re
import sys
from pathlib import Path

import nbformat

BUDGET = 6000
HIDDEN_INPUT = {"remove-cell", "remove-input", "hide-input"}
HIDDEN_OUTPUT = {"remove-cell", "remove-output", "hide-output"}
WORD = re.compile(r"[^\s]+")


def words(text):
    return len(WORD.findall(text))


def output_text(output):
    if output.get("output_type") == "stream":
        return output.get("text", "")
    data = output.get("data", {})
    if "text/html" in data and "application/vnd.jupyter.widget-view+json" not in data:
        return re.sub(r"<[^>]+>", " ", "".join(data["text/html"]))
    if "text/markdown" in data:
        return "".join(data["text/markdown"])
    if "text/plain" in data and not any(k.startswith(("image/", "application/vnd.jupyter"))
                                        for k in data):
        return "".join(data["text/plain"])
    return ""


def count(nb):
    prose = code = out = 0
    for cell in nb.cells:
        tags = set(cell.get("metadata", {}).get("tags", []))
        if cell.cell_type == "markdown":
            prose += words(cell.source)
        elif cell.cell_type == "code":
            if not tags & HIDDEN_INPUT:
                code += words(cell.source)
            if not tags & HIDDEN_OUTPUT:
                out += sum(words(output_text(o)) for o in cell.get("outputs", []))
    return prose, code, out


def execute(path):
    from nbclient import NotebookClient

    nb = nbformat.read(path, as_version=4)
    NotebookClient(nb, timeout=600, kernel_name="python3",
                   resources={"metadata": {"path": str(Path(path).parent)}}).execute()
    return nb


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("notebooks", nargs="+")
    parser.add_argument("--no-execute", action="store_true",
                        help="count prose and shown code only (outputs not counted)")
    args = parser.parse_args(argv)
    over = []
    print(f"{'page':32}{'prose':>8}{'code':>8}{'output':>8}{'total':>8}")
    for path in args.notebooks:
        nb = nbformat.read(path, as_version=4) if args.no_execute else execute(path)
        prose, code, out = count(nb)
        total = prose + code + out
        flag = "  over budget" if total > BUDGET else ""
        print(f"{Path(path).stem:32}{prose:>8}{code:>8}{out:>8}{total:>8}{flag}")
        if total > BUDGET:
            over.append(path)
    return 1 if over else 0


if __name__ == "__main__":
    sys.exit(main())
