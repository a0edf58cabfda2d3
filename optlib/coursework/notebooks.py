"""Masters and student versions: nbgrader's cell markers and metadata.

A master notebook marks, with nbgrader's conventions,

* the **solution** inside a cell, between ``### BEGIN SOLUTION`` and ``### END SOLUTION``
  (in code cells and in written-answer markdown cells);
* **hidden tests** inside a test cell, between ``### BEGIN HIDDEN TESTS`` and
  ``### END HIDDEN TESTS``;

and every cell carries nbgrader's metadata (``metadata.nbgrader``: ``grade_id``,
``solution``, ``grade``, ``locked``, ``points``). :func:`student_version` replaces each
solution region by ``# YOUR CODE HERE`` / ``raise NotImplementedError()`` (code) or
``YOUR ANSWER HERE`` (markdown), removes hidden tests and clears outputs, as nbgrader's
``generate_assignment`` does.
"""

import copy
import re
from dataclasses import dataclass
from pathlib import Path

import nbformat

BEGIN_SOLUTION, END_SOLUTION = "### BEGIN SOLUTION", "### END SOLUTION"
BEGIN_HIDDEN, END_HIDDEN = "### BEGIN HIDDEN TESTS", "### END HIDDEN TESTS"
CODE_STUB = ["# YOUR CODE HERE", "raise NotImplementedError()"]
ANSWER_STUB = "YOUR ANSWER HERE"


class MasterError(ValueError):
    """A master notebook breaks the marker or metadata conventions."""


@dataclass
class Question:
    """One graded item of a master: an autograded test cell or a written answer."""

    grade_id: str
    points: float
    kind: str  # "auto" (test cell) or "manual" (written answer)
    index: int  # the cell's position in the master


def nbgrader_meta(cell):
    """The cell's nbgrader metadata (an empty dict if it has none, or if it is not a
    mapping: a submission's metadata is not trusted). A ``grade_id`` that is not a
    non-empty string is dropped."""
    metadata = cell.get("metadata") if isinstance(cell, dict) else None
    meta = metadata.get("nbgrader") if isinstance(metadata, dict) else None
    if not isinstance(meta, dict):
        return {}
    if "grade_id" in meta and not (isinstance(meta["grade_id"], str) and meta["grade_id"]):
        meta = {k: v for k, v in meta.items() if k != "grade_id"}
    return meta


def cell_source(cell):
    """A cell's source as one string ("" when a submission's cell has none, or a
    source of the wrong type)."""
    source = cell.get("source", "") if isinstance(cell, dict) else ""
    if isinstance(source, list) and all(isinstance(line, str) for line in source):
        return "".join(source)
    return source if isinstance(source, str) else ""


def cell_role(cell):
    """"test", "solution", "answer" (written, manually graded), "locked" or "other"."""
    meta = nbgrader_meta(cell)
    if meta.get("grade") and not meta.get("solution"):
        return "test"
    if meta.get("solution"):
        return "answer" if meta.get("grade") else "solution"
    if meta.get("locked"):
        return "locked"
    return "other"


def read(path):
    return nbformat.read(str(path), as_version=4)


def questions(master):
    """The graded items of a master, in order."""
    found = []
    for i, cell in enumerate(master.cells):
        role = cell_role(cell)
        if role in ("test", "answer"):
            meta = nbgrader_meta(cell)
            found.append(Question(meta["grade_id"], float(meta.get("points", 0)),
                                  "auto" if role == "test" else "manual", i))
    return found


def validate(master, name="master"):
    """Raise :class:`MasterError` naming the cell if the markers or metadata are wrong."""
    seen = set()
    for i, cell in enumerate(master.cells):
        meta = nbgrader_meta(cell)
        where = f"{name}, cell {i}" + (f" ({meta['grade_id']})" if "grade_id" in meta else "")
        text = cell.source
        for begin, end in ((BEGIN_SOLUTION, END_SOLUTION), (BEGIN_HIDDEN, END_HIDDEN)):
            depth = 0
            for line in text.splitlines():
                if line.strip() == begin:
                    depth += 1
                    if depth > 1:
                        raise MasterError(f"{where}: nested {begin!r}")
                elif line.strip() == end:
                    depth -= 1
                    if depth < 0:
                        raise MasterError(f"{where}: {end!r} without {begin!r}")
            if depth:
                raise MasterError(f"{where}: {begin!r} without {end!r}")
        has_solution = BEGIN_SOLUTION in text
        has_hidden = BEGIN_HIDDEN in text
        role = cell_role(cell)
        if (has_solution or has_hidden) and not meta:
            raise MasterError(f"{where}: has markers but no nbgrader metadata")
        if has_solution and role not in ("solution", "answer"):
            raise MasterError(f"{where}: solution markers in a cell whose nbgrader metadata "
                              "does not say solution: true")
        if has_hidden and role != "test":
            raise MasterError(f"{where}: hidden tests outside a test cell (grade: true, "
                              "solution: false)")
        if meta:
            gid = meta.get("grade_id")
            if not gid:
                raise MasterError(f"{where}: nbgrader metadata without a grade_id")
            if gid in seen:
                raise MasterError(f"{where}: duplicate grade_id {gid!r}")
            seen.add(gid)
            if role in ("test", "answer") and not float(meta.get("points", 0)) > 0:
                raise MasterError(f"{where}: a graded cell needs points > 0")
        if role == "test" and cell.cell_type != "code":
            raise MasterError(f"{where}: a test cell must be a code cell")


def _replace_regions(text, begin, end, replacement):
    """Replace every begin…end region (marker lines included) by ``replacement`` lines,
    indented like the begin marker; ``replacement=None`` removes the region."""
    out, inside = [], False
    for line in text.splitlines():
        stripped = line.strip()
        if stripped == begin:
            inside = True
            if replacement is not None:
                indent = line[: len(line) - len(line.lstrip())]
                out.extend(indent + r for r in replacement)
        elif stripped == end:
            inside = False
        elif not inside:
            out.append(line)
    return "\n".join(out)


def student_version(master, name="master"):
    """A copy of ``master`` without solutions, hidden tests or outputs."""
    validate(master, name)
    nb = copy.deepcopy(master)
    for cell in nb.cells:
        role = cell_role(cell)
        if role == "solution":
            cell.source = _replace_regions(cell.source, BEGIN_SOLUTION, END_SOLUTION, CODE_STUB)
        elif role == "answer":
            stub = [ANSWER_STUB] if cell.cell_type == "markdown" else CODE_STUB
            cell.source = _replace_regions(cell.source, BEGIN_SOLUTION, END_SOLUTION, stub)
        elif role == "test":
            cell.source = re.sub(r"\n{3,}", "\n\n", _replace_regions(
                cell.source, BEGIN_HIDDEN, END_HIDDEN, None)).rstrip()
        if cell.cell_type == "code":
            cell.outputs, cell.execution_count = [], None
    return nb


def generate(source="assignments/source", release="assignments/release"):
    """Write the student version of every master ``source/*.ipynb`` to ``release/``.
    Returns the paths written."""
    source, release = Path(source), Path(release)
    masters = sorted(source.glob("*.ipynb"))
    if not masters:
        raise MasterError(f"no master notebooks (*.ipynb) in {source}")
    release.mkdir(parents=True, exist_ok=True)
    written = []
    for path in masters:
        nb = student_version(read(path), path.name)
        target = release / path.name
        nbformat.write(nb, str(target))
        written.append(target)
    return written
