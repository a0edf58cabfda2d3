"""Grade a folder of submitted notebooks against the masters.

    python -m optlib.coursework grade submitted/ --out grades

Layout: ``submitted/<student>/<assignment>.ipynb`` (or nbgrader's
``submitted/<student>/<assignment>/<assignment>.ipynb``), where ``<assignment>`` is the
name of a master in ``assignments/source``.

For each submission:

1. the program to run is the student's code cells, except that every test cell and every
   locked cell comes from the **master** (so hidden tests run, and edits to set-up or
   test cells count for nothing);
2. :mod:`optlib.coursework.runner` executes it in a separate process with a time limit
   per cell, per test and per notebook;
3. each check's recorded numbers are **judged here**, in the grader's process, by
   :func:`optlib.checks.judge` with an optlib that no submission ever ran in;
4. a question scores its points when its test cell ran to the end, every check in it
   passed, all of the master's checks were recorded, and optlib was left untouched by the
   question's cells; otherwise 0, with the reason.

Written answers are listed for manual grading. Output: ``grades.csv`` (one row per
student, assignment and question, with the feedback), ``scores.csv`` (one row per
student, one column per question, totals) and ``feedback/<student>/<assignment>.md``.
"""

import ast
import concurrent.futures
import csv
import json
import os
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from .notebooks import ANSWER_STUB, cell_role, nbgrader_meta, questions, read, validate

#: Default time limits, in seconds.
CELL_TIMEOUT = 60.0
TEST_TIMEOUT = 60.0
NOTEBOOK_TIMEOUT = 600.0
#: The most memory a submission may use (address space), in bytes.
MEMORY_LIMIT = 4 * 1024**3


@dataclass
class Result:
    """The grade of one question of one submission."""

    student: str
    assignment: str
    question: str
    points: float | None  # None: waiting for manual grading
    max_points: float
    status: str  # passed, failed, error, timeout, tampered, not run, manual, blank, missing
    feedback: str


# --------------------------------------------------------------- building the program


def expected_checks(source):
    """The names of the ``checks.<name>(...)`` calls in a test cell's source, in order."""
    names = []
    for node in ast.walk(ast.parse(source)):
        if (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
                and isinstance(node.func.value, ast.Name) and node.func.value.id == "checks"):
            names.append((node.lineno, node.col_offset, node.func.attr))
    return [name for *_, name in sorted(names)]


def build_program(master, submission):
    """The cells to execute: the submission's code cells in its order, with the master's
    source for test and locked cells (inserted if the student deleted them). Each entry:
    ``{"index", "kind", "question", "source", "grade_id"}``."""
    master_cells = {nbgrader_meta(c).get("grade_id"): c for c in master.cells
                    if nbgrader_meta(c).get("grade_id")}
    program, seen = [], set()
    for i, cell in enumerate(submission.cells):
        if cell.get("cell_type") != "code":
            continue
        gid = nbgrader_meta(cell).get("grade_id")
        if gid in master_cells and gid not in seen:
            seen.add(gid)
            role = cell_role(master_cells[gid])
            if role in ("test", "locked"):
                program.append({"index": i, "kind": "test" if role == "test" else "code",
                                "source": master_cells[gid].source, "grade_id": gid})
                continue
            if role == "solution":
                program.append({"index": i, "kind": "code", "source": cell.source,
                                "grade_id": gid})
                continue
        program.append({"index": i, "kind": "code", "source": cell.source, "grade_id": None})
    # master code cells the student deleted go back after the master cell before them
    order = [nbgrader_meta(c).get("grade_id") for c in master.cells]
    for position, gid in enumerate(order):
        cell = master.cells[position]
        if not gid or gid in seen or cell.cell_type != "code":
            continue
        role = cell_role(cell)
        if role not in ("test", "locked"):
            continue
        earlier = [g for g in order[:position] if g in seen]
        at = 0
        if earlier:
            at = max(j for j, entry in enumerate(program) if entry["grade_id"] == earlier[-1]) + 1
        program.insert(at, {"index": f"{gid} (restored from the master)",
                            "kind": "test" if role == "test" else "code",
                            "source": cell.source, "grade_id": gid})
        seen.add(gid)
    # each cell belongs to the question of the next test cell
    question = None
    for entry in reversed(program):
        if entry["kind"] == "test":
            question = entry["grade_id"]
        entry["question"] = question
    return program


# ------------------------------------------------------------------------ running one


def run_submission(program, *, cell_timeout, test_timeout, notebook_timeout):
    """Execute ``program`` in a fresh runner process; (events, note). ``note`` says why
    the run ended early, if it did."""
    env = dict(os.environ, MPLBACKEND="Agg", OPENBLAS_NUM_THREADS="1", OMP_NUM_THREADS="1",
               MKL_NUM_THREADS="1", PYTHONHASHSEED="0")
    with tempfile.TemporaryDirectory(prefix="optlib-grade-") as work:
        results = Path(work) / "events.jsonl"
        results.touch()
        payload = json.dumps({"cells": program, "cell_timeout": cell_timeout,
                              "test_timeout": test_timeout, "memory_limit": MEMORY_LIMIT})
        process = subprocess.Popen(
            [sys.executable, "-m", "optlib.coursework.runner", str(results)],
            stdin=subprocess.PIPE, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
            cwd=work, env=env, start_new_session=True)  # its own group: killed whole
        note = None
        try:
            _, stderr = process.communicate(payload.encode(), timeout=notebook_timeout)
            if process.returncode != 0:
                tail = stderr.decode(errors="replace").strip().splitlines()[-1:] or [""]
                note = f"the notebook's process stopped (exit code {process.returncode}) {tail[0]}"
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, 9)
            process.communicate()
            note = f"the notebook did not finish within {notebook_timeout:g} s"
        events = []
        for line in results.read_text(encoding="utf-8").splitlines():
            try:
                events.append(json.loads(line))
            except json.JSONDecodeError:
                continue
    return events, note


# ---------------------------------------------------------------------------- judging


def _score_test(question, master_source, event, cell_events, note):
    """(points, status, feedback) of one autograded question."""
    from optlib import checks

    if event is None:
        reason = note or "the grader's process stopped before this test"
        return 0.0, "not run", f"the test did not run: {reason}."
    tampered = list(event.get("tampered") or [])
    for cell in cell_events:
        tampered += cell.get("tampered") or []
    if tampered:
        return 0.0, "tampered", ("optlib was modified by this question's code, so it gets "
                                 "0: " + ", ".join(sorted(set(tampered))[:5]) + ".")
    if event.get("timeout"):
        return 0.0, "timeout", f"the test {event['error']}."
    problems = [f"cell {c['index']} raised {c['error']}" for c in cell_events if c.get("error")]
    context = f" (Before it, {'; '.join(problems)}.)" if problems else ""
    records = event.get("records") or []
    for record in records:
        verdict = checks.judge(record.get("check"), record.get("outputs"),
                               record.get("hidden", False))
        if not verdict.passed:
            hidden = " [hidden test]" if record.get("hidden") else ""
            return 0.0, "failed", f"{record.get('check')}{hidden}: {verdict.message}{context}"
    if event.get("error"):
        return 0.0, "error", f"the test raised {event['error']}.{context}"
    expected = expected_checks(master_source)
    ran = [r.get("check") for r in records]
    if ran != expected:
        return 0.0, "error", (f"not every check ran (expected {expected}, recorded {ran})."
                              f"{context}")
    return question.points, "passed", "all checks passed" + (
        f" ({len(expected)} checks)" if len(expected) > 1 else "") + "."


def _written_answer(master, submission, question):
    """The student's text for a written answer (or None)."""
    for cell in submission.cells:
        if nbgrader_meta(cell).get("grade_id") == question.grade_id:
            return cell.source
    return None


def grade_notebook(master_path, submission_path, student, *, cell_timeout=CELL_TIMEOUT,
                   test_timeout=TEST_TIMEOUT, notebook_timeout=NOTEBOOK_TIMEOUT):
    """Grade one submitted notebook; a list of :class:`Result`, one per question."""
    master = read(master_path)
    assignment = Path(master_path).stem
    items = questions(master)
    if submission_path is None:
        return [Result(student, assignment, q.grade_id, 0.0, q.points, "missing",
                       "no notebook submitted.") for q in items]
    try:
        submission = read(submission_path)
    except Exception as error:  # unreadable JSON, wrong format ...
        return [Result(student, assignment, q.grade_id, 0.0, q.points, "error",
                       f"the notebook could not be read: {error}") for q in items]
    program = build_program(master, submission)
    events, note = run_submission(program, cell_timeout=cell_timeout,
                                  test_timeout=test_timeout, notebook_timeout=notebook_timeout)
    tests = {e["question"]: e for e in events if e.get("event") == "test"}
    cells = [e for e in events if e.get("event") == "cell"]
    master_sources = {nbgrader_meta(c).get("grade_id"): c.source for c in master.cells}
    results = []
    for q in items:
        if q.kind == "manual":
            text = _written_answer(master, submission, q) or ""
            words = len(text.replace(ANSWER_STUB, "").split())
            if words == 0:
                results.append(Result(student, assignment, q.grade_id, 0.0, q.points, "blank",
                                      "no written answer."))
            else:
                quoted = "\n".join("> " + line for line in text.strip().splitlines())
                results.append(Result(student, assignment, q.grade_id, None, q.points,
                                      "manual", f"written answer ({words} words), to grade "
                                      f"by hand:\n\n{quoted}"))
            continue
        own = [c for c in cells if c.get("question") == q.grade_id]
        points, status, feedback = _score_test(q, master_sources[q.grade_id],
                                               tests.get(q.grade_id), own, note)
        results.append(Result(student, assignment, q.grade_id, points, q.points, status,
                              feedback))
    return results


# ------------------------------------------------------------------------- the command


def find_submissions(folder, assignments):
    """{(student, assignment): path or None} for every student folder in ``folder``."""
    found = {}
    for student in sorted(p for p in Path(folder).iterdir() if p.is_dir()):
        for name in assignments:
            candidates = [student / f"{name}.ipynb", student / name / f"{name}.ipynb"]
            found[student.name, name] = next((c for c in candidates if c.is_file()), None)
    return found


def grade(submitted, source="assignments/source", out="grades", *, jobs=None,
          cell_timeout=CELL_TIMEOUT, test_timeout=TEST_TIMEOUT,
          notebook_timeout=NOTEBOOK_TIMEOUT, progress=print):
    """Grade every submission in ``submitted``; write ``out``/grades.csv, scores.csv and
    feedback/. Returns the list of :class:`Result`."""
    masters = {p.stem: p for p in sorted(Path(source).glob("*.ipynb"))}
    if not masters:
        raise FileNotFoundError(f"no master notebooks in {source}")
    for name, path in masters.items():
        validate(read(path), name)
    if not Path(submitted).is_dir():
        raise FileNotFoundError(f"no folder of submissions at {submitted}")
    work = find_submissions(submitted, masters)
    if not work:
        raise FileNotFoundError(f"no student folders in {submitted} (expected "
                                f"{submitted}/<student>/<assignment>.ipynb)")

    def one(key):
        student, name = key
        start = time.monotonic()
        results = grade_notebook(masters[name], work[key], student, cell_timeout=cell_timeout,
                                 test_timeout=test_timeout, notebook_timeout=notebook_timeout)
        got = sum(r.points or 0 for r in results)
        total = sum(r.max_points for r in results)
        progress(f"{student:>12} {name:<16} {got:g} / {total:g} auto "
                 f"({time.monotonic() - start:.1f} s)")
        return results

    jobs = jobs or min(4, os.cpu_count() or 1)
    with concurrent.futures.ThreadPoolExecutor(max_workers=jobs) as pool:
        results = [r for batch in pool.map(one, list(work)) for r in batch]
    write_reports(results, Path(out), submitted)
    return results


def write_reports(results, out, submitted):
    out.mkdir(parents=True, exist_ok=True)
    fields = ["student", "assignment", "question", "points", "max_points", "status",
              "feedback"]
    with open(out / "grades.csv", "w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(fields)
        for r in results:
            writer.writerow([r.student, r.assignment, r.question,
                             "" if r.points is None else f"{r.points:g}", f"{r.max_points:g}",
                             r.status, r.feedback])
    columns = list(dict.fromkeys((r.assignment, r.question) for r in results))
    assignments = list(dict.fromkeys(r.assignment for r in results))
    students = list(dict.fromkeys(r.student for r in results))
    table = {(r.student, r.assignment, r.question): r for r in results}

    def total(rows):
        return f"{sum(r.points or 0 for r in rows):g}"

    with open(out / "scores.csv", "w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["student", *[f"{a}:{q}" for a, q in columns],
                         *[f"{a}:total" for a in assignments], "auto_total",
                         "manual_points_pending"])
        for s in students:
            row = [s]
            for a, q in columns:
                r = table.get((s, a, q))
                row.append("" if r is None else "manual" if r.points is None
                           else f"{r.points:g}")
            mine = [r for r in results if r.student == s]
            row += [total(r for r in mine if r.assignment == a) for a in assignments]
            row.append(total(mine))
            row.append(f"{sum(r.max_points for r in mine if r.points is None):g}")
            writer.writerow(row)
    for s in students:
        for a in assignments:
            mine = [r for r in results if (r.student, r.assignment) == (s, a)]
            if not mine:
                continue
            folder = out / "feedback" / s
            folder.mkdir(parents=True, exist_ok=True)
            auto = sum(r.max_points for r in mine if r.points is not None)
            lines = [f"# {a}: feedback for {s}", "",
                     f"Autograded: {total(mine)} of {auto:g} points. Written answers are "
                     "graded by hand.", ""]
            for r in mine:
                score = ("graded by hand" if r.points is None
                         else f"{r.points:g} / {r.max_points:g}")
                lines += [f"## {r.question}: {score} ({r.status})", "", r.feedback, ""]
            (folder / f"{a}.md").write_text("\n".join(lines), encoding="utf-8")
