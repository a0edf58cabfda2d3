"""The assignment tooling on a small master written here: student versions, the
program the grader runs, and grading that survives loops, exceptions and tampering.

The real assignments (assignments/source) are graded in tests/test_assignments.py."""

import csv
import json
import textwrap
from pathlib import Path

import nbformat
import pytest

from optlib.coursework import MasterError, generate, grade, grade_notebook, student_version
from optlib.coursework.grade import (
    CELL_TIMEOUT,
    EVENTS_LIMIT,
    GRACE,
    MEMORY_LIMIT,
    NOTEBOOK_TIMEOUT,
    TEST_TIMEOUT,
    build_program,
    expected_checks,
)
from optlib.coursework.notebooks import cell_role, questions
from optlib.coursework.sandbox import Limits


def meta(gid, *, solution=False, grade=False, locked=False, points=None):
    m = {"grade": grade, "grade_id": gid, "locked": locked, "schema_version": 3,
         "solution": solution, "task": False}
    if points is not None:
        m["points"] = points
    return {"nbgrader": m}


def code(source, **kw):
    return nbformat.v4.new_code_cell(textwrap.dedent(source).strip(), metadata=meta(**kw))


def markdown(source, **kw):
    return nbformat.v4.new_markdown_cell(textwrap.dedent(source).strip(), metadata=meta(**kw))


SOLUTION = """
def momentum_step(theta, v, grad, lr, beta):
    \"\"\"One heavy-ball update.\"\"\"
    ### BEGIN SOLUTION
    v = beta * v + grad
    return theta - lr * v, v
    ### END SOLUTION
"""

SCALE = """
def scale(x):
    ### BEGIN SOLUTION
    return 2 * x
    ### END SOLUTION
"""


def make_master():
    nb = nbformat.v4.new_notebook()
    nb.cells = [
        markdown("# Tiny assignment", gid="intro", locked=True),
        code("import numpy as np\nfrom optlib import checks", gid="setup", locked=True),
        code(SOLUTION, gid="momentum_step", solution=True),
        code("""
            checks.momentum_step(momentum_step)
            ### BEGIN HIDDEN TESTS
            checks.momentum_step(momentum_step, hidden=True)
            ### END HIDDEN TESTS
            """, gid="momentum_step_test", grade=True, locked=True, points=3),
        code(SCALE, gid="scale", solution=True),
        code("""
            assert scale(2) == 4, "scale(2) should be 4"
            ### BEGIN HIDDEN TESTS
            assert scale(-1.5) == -3.0
            ### END HIDDEN TESTS
            """, gid="scale_test", grade=True, locked=True, points=1),
        markdown("""
            ### BEGIN SOLUTION
            Momentum remembers past gradients.
            ### END SOLUTION
            """, gid="explain", solution=True, grade=True, points=2),
    ]
    return nb


@pytest.fixture
def course(tmp_path):
    source = tmp_path / "source"
    source.mkdir()
    nbformat.write(make_master(), str(source / "tiny.ipynb"))
    release = tmp_path / "release"
    generate(source, release)
    return source, release, tmp_path


def submit(release, folder, student, answers, extra_cells=(), drop=()):
    """A student's submission: the release version with cells filled in by grade_id."""
    nb = nbformat.read(str(release / "tiny.ipynb"), as_version=4)
    for cell in nb.cells:
        gid = cell.metadata.get("nbgrader", {}).get("grade_id")
        if gid in answers:
            cell.source = textwrap.dedent(answers[gid]).strip()
    nb.cells = [c for c in nb.cells if c.metadata.get("nbgrader", {}).get("grade_id")
                not in drop]
    nb.cells += [nbformat.v4.new_code_cell(textwrap.dedent(s).strip()) for s in extra_cells]
    target = folder / student
    target.mkdir(parents=True)
    nbformat.write(nb, str(target / "tiny.ipynb"))
    return target / "tiny.ipynb"


GOOD = {"momentum_step": """
    def momentum_step(theta, v, grad, lr, beta):
        v = beta * v + grad
        return theta - lr * v, v
    """, "scale": "def scale(x):\n    return 2 * x",
    "explain": "The velocity averages gradients, so zig-zags cancel."}

# generous limits: the suite runs on two busy workers
FAST = {"cell_timeout": 10, "test_timeout": 20, "notebook_timeout": 120}


# ----------------------------------------------------------------- student versions


def test_student_version_has_no_solutions_and_no_hidden_tests(course):
    source, release, _ = course
    text = (release / "tiny.ipynb").read_text()
    for marker in ("BEGIN SOLUTION", "END SOLUTION", "HIDDEN TESTS", "beta * v + grad",
                   "hidden=True", "scale(-1.5)", "remembers past gradients", "return 2 * x"):
        assert marker not in text, marker
    nb = nbformat.read(str(release / "tiny.ipynb"), as_version=4)
    stub = nb.cells[2].source
    assert stub.splitlines()[-2:] == ["    # YOUR CODE HERE", "    raise NotImplementedError()"]
    assert '"""One heavy-ball update."""' in stub      # the docstring stays
    assert nb.cells[3].source == "checks.momentum_step(momentum_step)"   # visible test stays
    assert nb.cells[6].source == "YOUR ANSWER HERE"
    # nbgrader metadata is kept, so the student version also works with nbgrader
    assert [cell_role(c) for c in nb.cells] == ["locked", "locked", "solution", "test",
                                                "solution", "test", "answer"]


def test_student_version_is_regenerated_not_edited(course):
    source, release, tmp = course
    again = generate(source, tmp / "again")
    assert (tmp / "again" / "tiny.ipynb").read_text() == (release / "tiny.ipynb").read_text()
    assert [p.name for p in again] == ["tiny.ipynb"]


@pytest.mark.parametrize("breakage, message", [
    (lambda nb: nb.cells[2].update(source=nb.cells[2].source.replace(
        "    ### END SOLUTION", "")), "without '### END SOLUTION'"),
    (lambda nb: nb.cells[4].metadata.nbgrader.update(grade_id="momentum_step"),
     "duplicate grade_id 'momentum_step'"),
    (lambda nb: nb.cells[3].metadata.nbgrader.update(points=0), "needs points > 0"),
    (lambda nb: nb.cells[1].update(source="x = 1\n### BEGIN SOLUTION\nx = 2\n"
                                          "### END SOLUTION"), "does not say solution"),
    (lambda nb: nb.cells[2].update(metadata={}), "no nbgrader metadata"),
])
def test_broken_masters_are_refused_with_the_cell_named(breakage, message):
    nb = make_master()
    breakage(nb)
    with pytest.raises(MasterError, match=message):
        student_version(nb, "tiny")


def test_questions_and_expected_checks():
    nb = make_master()
    assert [(q.grade_id, q.points, q.kind) for q in questions(nb)] == [
        ("momentum_step_test", 3.0, "auto"), ("scale_test", 1.0, "auto"),
        ("explain", 2.0, "manual")]
    assert expected_checks(nb.cells[3].source) == ["momentum_step", "momentum_step"]
    assert expected_checks(nb.cells[5].source) == []


def test_program_uses_the_masters_tests_and_restores_deleted_ones(course):
    _, release, tmp = course
    path = submit(release, tmp / "sub", "s", {**GOOD, "momentum_step_test": "pass  # deleted"},
                  drop=("scale_test", "setup"))
    program = build_program(make_master(), nbformat.read(str(path), as_version=4))
    by_id = {p["grade_id"]: p for p in program}
    assert "hidden=True" in by_id["momentum_step_test"]["source"]   # the master's, not "pass"
    assert "scale(-1.5)" in by_id["scale_test"]["source"]           # restored
    assert by_id["setup"]["source"].startswith("import numpy")      # restored, before use
    assert [p["grade_id"] for p in program] == ["setup", "momentum_step",
                                                 "momentum_step_test", "scale", "scale_test"]
    assert by_id["scale"]["question"] == "scale_test"
    assert by_id["momentum_step"]["question"] == "momentum_step_test"


# ---------------------------------------------------------------------------- grading


def graded(course, student, answers, **kw):
    source, release, tmp = course
    path = submit(release, tmp / "submitted", student, answers, **kw)
    results = grade_notebook(source / "tiny.ipynb", path, student, **FAST)
    return {r.question: r for r in results}


def test_a_correct_submission_gets_full_marks(course):
    r = graded(course, "good", GOOD)
    assert (r["momentum_step_test"].points, r["momentum_step_test"].status) == (3, "passed")
    assert (r["scale_test"].points, r["scale_test"].status) == (1, "passed")
    assert r["explain"].points is None and r["explain"].status == "manual"
    assert "zig-zags cancel" in r["explain"].feedback


def test_a_blank_submission_gets_zero_everywhere(course):
    r = graded(course, "blank", {})
    assert all(x.points == 0 for x in r.values()), r
    assert "NotImplementedError" in r["momentum_step_test"].feedback
    assert r["explain"].status == "blank"


def test_a_wrong_step_gets_the_diagnosis_and_only_that_question_fails(course):
    r = graded(course, "ema", {**GOOD, "momentum_step": """
        def momentum_step(theta, v, grad, lr, beta):
            v = beta * v + (1 - beta) * grad
            return theta - lr * v, v
        """})
    assert r["momentum_step_test"].points == 0
    assert "average of gradients" in r["momentum_step_test"].feedback
    assert r["scale_test"].points == 1


def test_hidden_tests_count(course):
    # right on the visible case only: the hidden assert catches it
    r = graded(course, "visible-only", {**GOOD, "scale": "def scale(x):\n    return 4"})
    assert r["scale_test"].points == 0 and r["scale_test"].status == "error"
    assert "AssertionError" in r["scale_test"].feedback


def test_an_endless_loop_costs_only_its_question(course):
    r = graded(course, "loop", {**GOOD, "scale": """
        def scale(x):
            while True:
                pass
        """})
    assert (r["scale_test"].points, r["scale_test"].status) == (0, "timeout")
    assert r["momentum_step_test"].points == 3


def test_an_endless_loop_at_the_top_of_a_cell_is_stopped(course):
    r = graded(course, "toploop", {**GOOD, "momentum_step": textwrap.dedent(
        GOOD["momentum_step"]) + "\nwhile True:\n    pass"})
    # the cell is cut off after its time limit; momentum_step was defined before the loop
    assert r["momentum_step_test"].points == 3
    assert r["scale_test"].points == 1


def test_an_exception_costs_only_its_question_and_is_explained(course):
    r = graded(course, "raises", {**GOOD, "momentum_step": "raise RuntimeError('oops')"})
    assert r["momentum_step_test"].points == 0
    assert "RuntimeError: oops" in r["momentum_step_test"].feedback
    assert "NameError" in r["momentum_step_test"].feedback
    assert r["scale_test"].points == 1


def test_patching_optlib_gets_zero_for_that_question_and_is_undone(course):
    # the cheat makes optlib.Momentum agree with a wrong rule
    r = graded(course, "cheat", {**GOOD, "momentum_step": """
        import optlib, optlib.optimizers
        def momentum_step(theta, v, grad, lr, beta):
            v = beta * v + 2 * grad
            return theta - lr * v, v
        def update(self, theta, g, v, *, lr, t):
            v = self.beta * v + 2 * g
            return theta - lr * v, v
        optlib.optimizers.Momentum.update = update
        """})
    assert (r["momentum_step_test"].points, r["momentum_step_test"].status) == (0, "tampered")
    assert "optlib.optimizers.Momentum.update" in r["momentum_step_test"].feedback
    assert r["scale_test"].points == 1


def test_replacing_a_check_inside_the_test_is_caught(course):
    # a student cell that swaps the check for a no-op
    r = graded(course, "nocheck", {**GOOD, "momentum_step": textwrap.dedent(
        GOOD["momentum_step"]) + textwrap.dedent("""
        from optlib import checks
        checks.momentum_step = lambda fn, hidden=False: None
        """)})
    assert r["momentum_step_test"].points == 0
    assert r["momentum_step_test"].status == "tampered"


def test_exiting_the_process_does_not_stop_grading(course):
    r = graded(course, "exits", {**GOOD, "scale": "import os\nos._exit(3)"})
    assert r["momentum_step_test"].points == 3     # graded before the exit
    assert r["scale_test"].points == 0 and r["scale_test"].status == "not run"


def test_grade_writes_the_tables(course, capsys):
    source, release, tmp = course
    submitted = tmp / "submitted"
    submit(release, submitted, "ann", GOOD)
    submit(release, submitted, "bob", {**GOOD, "scale": "def scale(x):\n    return x"})
    (submitted / "cyd").mkdir()   # submitted nothing
    results = grade(submitted, source, tmp / "out", jobs=2, progress=lambda line: None,
                    **FAST)
    assert len(results) == 9
    with open(tmp / "out" / "scores.csv") as handle:
        rows = {row["student"]: row for row in csv.DictReader(handle)}
    assert rows["ann"]["tiny:momentum_step_test"] == "3" and rows["ann"]["tiny:total"] == "4"
    assert rows["ann"]["tiny:explain"] == "manual" and rows["ann"]["manual_points_pending"] == "2"
    assert rows["bob"]["tiny:scale_test"] == "0" and rows["bob"]["auto_total"] == "3"
    assert rows["cyd"]["auto_total"] == "0"
    with open(tmp / "out" / "grades.csv") as handle:
        long = list(csv.DictReader(handle))
    assert {r["status"] for r in long if r["student"] == "cyd"} == {"missing"}
    feedback = (tmp / "out" / "feedback" / "bob" / "tiny.md").read_text()
    assert "## scale_test: 0 / 1 (error)" in feedback


def test_unreadable_notebook_is_an_error_not_a_crash(course):
    source, _, tmp = course
    bad = tmp / "bad.ipynb"
    bad.write_text(json.dumps({"cells": "nonsense"}))
    results = grade_notebook(source / "tiny.ipynb", bad, "x", **FAST)
    assert {r.status for r in results} == {"error"}
    assert all(r.points == 0 for r in results)


def test_ordinary_use_of_optlib_is_not_tampering(course):
    # copying optimizers (copy caches __slotnames__ on the class) and importing optlib's
    # submodules change optlib's objects without patching anything
    r = graded(course, "ordinary", {**GOOD, "scale": """
        import copy, pickle
        import optlib, optlib.datasets, optlib.explorers
        opt = copy.deepcopy(optlib.Adam(lr=0.1))
        pickle.loads(pickle.dumps(optlib.Momentum()))
        def scale(x):
            return 2 * x
        """})
    assert (r["scale_test"].points, r["scale_test"].status) == (1, "passed")


def test_a_memory_hog_is_stopped_and_costs_only_its_question(course):
    r = graded(course, "hog", {**GOOD, "scale": """
        hog = bytearray(8 * 1024**3)
        def scale(x):
            return 2 * x
        """})
    assert r["scale_test"].points == 0
    assert "MemoryError" in r["scale_test"].feedback
    assert r["momentum_step_test"].points == 3


def test_the_instructor_guide_states_the_real_limits():
    guide = (Path(__file__).resolve().parent.parent / "book" / "instructors.md").read_text()
    guide = " ".join(guide.split())
    assert f"`--cell-timeout`, default {CELL_TIMEOUT:g} s" in guide
    assert f"`--test-timeout`, {TEST_TIMEOUT:g} s" in guide
    assert f"`--notebook-timeout`, {NOTEBOOK_TIMEOUT:g} s" in guide
    assert f"a {MEMORY_LIMIT // 1024**3} GB memory limit" in guide
    limits = Limits(memory=MEMORY_LIMIT, cpu_seconds=1)
    assert f"a private `/tmp` of {limits.tmp_size // 1024**2} MB" in guide
    assert f"at most {limits.processes} processes" in guide
    assert f"files of at most {limits.file_size // 1024**2} MB" in guide
    assert f"killed {GRACE:g} s after the limit of the cell" in guide
    assert f"at most {EVENTS_LIMIT // 1024**2} MB" in guide
