"""The five assignments: student versions hold no solutions or hidden tests, the sample
submissions are up to date, and grading them gives the scores a teacher expects.

(nbval executes every master, with its hidden tests, as part of the suite:
``assignments/source`` is in pytest's testpaths.)"""

import csv
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest

from optlib.coursework import generate
from optlib.coursework.notebooks import (
    BEGIN_HIDDEN,
    BEGIN_SOLUTION,
    END_HIDDEN,
    END_SOLUTION,
    cell_role,
    nbgrader_meta,
    questions,
    read,
)

ROOT = Path(__file__).resolve().parent.parent
SOURCE = ROOT / "assignments" / "source"
SAMPLES = ROOT / "assignments" / "samples"
MASTERS = sorted(SOURCE.glob("*.ipynb"))
NAMES = [p.stem for p in MASTERS]

sys.path.insert(0, str(ROOT / "scripts"))
import make_sample_submissions  # noqa: E402


def test_there_are_five_assignments_following_the_course():
    assert NAMES == ["01_momentum", "02_nesterov", "03_adam", "04_tuning",
                     "05_adaptive_training"]


@pytest.fixture(scope="module")
def release(tmp_path_factory):
    folder = tmp_path_factory.mktemp("release")
    generate(SOURCE, folder)
    return folder


def region_lines(text, begin, end):
    lines, inside = [], False
    for line in text.splitlines():
        if line.strip() == begin:
            inside = True
        elif line.strip() == end:
            inside = False
        elif inside and line.strip():
            lines.append(line.strip())
    return lines


def outside_regions(text):
    lines, inside = set(), False
    for line in text.splitlines():
        if line.strip() in (BEGIN_SOLUTION, BEGIN_HIDDEN):
            inside = True
        elif line.strip() in (END_SOLUTION, END_HIDDEN):
            inside = False
        elif not inside:
            lines.add(line.strip())
    return lines


@pytest.mark.parametrize("name", NAMES)
def test_student_versions_hold_no_solution_and_no_hidden_test(release, name):
    master = read(SOURCE / f"{name}.ipynb")
    student = read(release / f"{name}.ipynb")
    text = (release / f"{name}.ipynb").read_text()
    for marker in (BEGIN_SOLUTION, END_SOLUTION, BEGIN_HIDDEN, END_HIDDEN):
        assert marker not in text
    assert len(student.cells) == len(master.cells)
    for mine, theirs in zip(student.cells, master.cells):
        assert nbgrader_meta(mine) == nbgrader_meta(theirs)
        secret = (region_lines(theirs.source, BEGIN_SOLUTION, END_SOLUTION)
                  + region_lines(theirs.source, BEGIN_HIDDEN, END_HIDDEN))
        # every secret line is gone, unless the master also shows it outside the regions
        shown = outside_regions(theirs.source)
        student_lines = [line.strip() for line in mine.source.splitlines()]
        for line in secret:
            assert line not in student_lines or line in shown, (name, line)
        if cell_role(theirs) == "test":
            assert "hidden=True" in theirs.source and "hidden=True" not in mine.source
        if mine.cell_type == "code":
            assert mine.outputs == [] and mine.execution_count is None


@pytest.mark.parametrize("name", NAMES)
def test_masters_are_marked_up_for_grading(name):
    master = read(SOURCE / f"{name}.ipynb")
    items = questions(master)
    assert sum(q.kind == "auto" for q in items) >= 2
    assert sum(q.kind == "manual" for q in items) >= 1      # a written part
    assert all(nbgrader_meta(c) for c in master.cells), "every cell has nbgrader metadata"
    assert any("ipywidgets" in c.source or "interact" in c.source for c in master.cells)
    for cell in master.cells:
        if cell.cell_type == "code":
            assert cell.outputs == [] and cell.execution_count is None


def test_sample_submissions_are_up_to_date(release, tmp_path):
    """assignments/samples is what scripts/make_sample_submissions.py makes today."""
    written = make_sample_submissions.make(SOURCE, release, tmp_path)
    assert written
    for path in written:
        committed = SAMPLES / path.relative_to(tmp_path)
        assert committed.is_file(), f"{committed} is missing: run the script"
        assert path.read_text() == committed.read_text(), (
            f"{committed} is stale: run python scripts/make_sample_submissions.py")
    assert sorted(p.relative_to(SAMPLES) for p in SAMPLES.rglob("*.ipynb")) == sorted(
        p.relative_to(tmp_path) for p in written)


# ------------------------------------------------------------------------------ grading

#: What a teacher expects for each sample student, written by hand from the mistakes in
#: scripts/make_sample_submissions.py: {(student, assignment, question): points}.
#: Questions not listed score full marks; written answers wait for manual grading.
FULL = {("01_momentum", "q1_test"): 3, ("01_momentum", "q2_test"): 2,
        ("01_momentum", "q3_test"): 3, ("02_nesterov", "q1_test"): 3,
        ("02_nesterov", "q2_test"): 2, ("02_nesterov", "q3_test"): 3,
        ("03_adam", "q1_test"): 2, ("03_adam", "q2_test"): 4, ("03_adam", "q3_test"): 2,
        ("04_tuning", "q1_test"): 3, ("04_tuning", "q2_test"): 2, ("04_tuning", "q3_test"): 3,
        ("05_adaptive_training", "q1_test"): 3, ("05_adaptive_training", "q2_test"): 2,
        ("05_adaptive_training", "q3_test"): 3}
#: The students who submitted assignment 5 only: everything else is missing.
ONLY_FIVE = {key: "missing" for key in FULL if key[0] != "05_adaptive_training"}
EXPECTED_ZEROS = {
    "ada": {},
    # the sign error breaks momentum_step and run_momentum, which uses it; the tuned
    # rates of q3 are checked with optlib, so they still count
    "ben": {("01_momentum", "q1_test"): "failed", ("01_momentum", "q2_test"): "failed"},
    "cho": {("02_nesterov", "q1_test"): "failed"},
    "dev": {("03_adam", "q2_test"): "failed"},
    "eve": {key: None for key in FULL},
    # the endless loop costs q2 only (its test times out; q3's tuning is checked with
    # optlib). The exception in adam_moments costs all three Adam questions: adam_step
    # calls adam_moments, and so does the cell that computes first_step_ratio
    "fay": {("01_momentum", "q2_test"): "timeout", ("03_adam", "q1_test"): "failed",
            ("03_adam", "q2_test"): "failed", ("03_adam", "q3_test"): "error"},
    "gus": {("03_adam", "q2_test"): "tampered"},
    # ε inside the root breaks rmsprop_step and the loop, which uses it
    "ivy": {**ONLY_FIVE, ("05_adaptive_training", "q1_test"): "failed",
            ("05_adaptive_training", "q3_test"): "failed"},
    # clipping per array breaks clip_global_norm and the loop, which uses it
    "jon": {**ONLY_FIVE, ("05_adaptive_training", "q2_test"): "failed",
            ("05_adaptive_training", "q3_test"): "failed"},
    "kim": {**ONLY_FIVE, ("05_adaptive_training", "q3_test"): "failed"},
    "lea": {**ONLY_FIVE, ("05_adaptive_training", "q3_test"): "failed"},
}


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    out = tmp_path_factory.mktemp("grades")
    command = [sys.executable, "-m", "optlib.coursework", "grade", str(SAMPLES),
               "--source", str(SOURCE), "--out", str(out), "--cell-timeout", "120",
               "--test-timeout", "15", "--jobs", "2"]
    done = subprocess.run(command, capture_output=True, text=True, cwd=ROOT, timeout=900)
    assert done.returncode == 0, done.stderr
    with open(out / "grades.csv", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    return out, rows, done.stdout


def test_the_grade_command_scores_every_sample_as_expected(graded):
    _, rows, _ = graded
    got = {(r["student"], r["assignment"], r["question"]): r for r in rows}
    for student, zeros in EXPECTED_ZEROS.items():
        for (assignment, question), points in FULL.items():
            row = got[student, assignment, question]
            if (assignment, question) in zeros:
                assert row["points"] == "0", (student, assignment, question, row["feedback"])
                status = zeros[assignment, question]
                if status:
                    assert row["status"] == status, (student, question, row["feedback"])
            else:
                assert (row["points"], row["status"]) == (str(points), "passed"), (
                    student, assignment, question, row["feedback"])


def test_written_answers_wait_for_the_teacher(graded):
    _, rows, _ = graded
    written = [r for r in rows if r["question"].endswith("_answer")]
    assert len(written) == 5 * len(EXPECTED_ZEROS)
    for row in written:
        if row["student"] == "eve":
            assert (row["points"], row["status"]) == ("0", "blank")
        elif (row["assignment"], "q1_test") in EXPECTED_ZEROS[row["student"]] and \
                EXPECTED_ZEROS[row["student"]][row["assignment"], "q1_test"] == "missing":
            assert (row["points"], row["status"]) == ("0", "missing")
        else:
            assert (row["points"], row["status"]) == ("", "manual")
            assert "> " in row["feedback"]          # the answer is quoted for grading


def test_the_feedback_names_each_mistake(graded):
    _, rows, _ = graded
    feedback = {(r["student"], r["assignment"], r["question"]): r["feedback"] for r in rows}
    assert "sign error" in feedback["ben", "01_momentum", "q1_test"]
    assert "your gradient is taken at θ − βv; it should be θ − αβv" in feedback[
        "cho", "02_nesterov", "q1_test"]
    dev = feedback["dev", "03_adam", "q2_test"]
    assert "is bias correction missing?" in dev and "first step moved θ by" in dev
    assert "did not finish within 15 s" in feedback["fay", "01_momentum", "q2_test"]
    assert "AttributeError" in feedback["fay", "03_adam", "q1_test"]
    assert "optlib.optimizers.Adam.update" in feedback["gus", "03_adam", "q2_test"]
    assert "not written yet" in feedback["eve", "03_adam", "q2_test"]
    five = "05_adaptive_training"
    assert "You put ε inside the square root" in feedback["ivy", five, "q1_test"]
    assert "You clipped each array by its own norm" in feedback["jon", five, "q2_test"]
    assert "you clipped each array by its own norm" in feedback["jon", five, "q3_test"]
    assert "the schedule overrides the rate" in feedback["kim", five, "q3_test"]
    assert "the last partial batch is dropped" in feedback["lea", five, "q3_test"]
    assert "no notebook submitted" in feedback["kim", "01_momentum", "q1_test"]


def test_the_score_table_and_feedback_files(graded):
    out, _, stdout = graded
    with open(out / "scores.csv", encoding="utf-8") as handle:
        table = {row["student"]: row for row in csv.DictReader(handle)}
    assert sorted(table) == sorted(EXPECTED_ZEROS)
    full_auto = sum(FULL.values())
    for student, zeros in EXPECTED_ZEROS.items():
        lost = sum(FULL[key] for key in zeros)
        assert table[student]["auto_total"] == f"{full_auto - lost:g}", student
    assert table["ada"]["manual_points_pending"] == "12"
    assert (out / "feedback" / "dev" / "03_adam.md").is_file()
    assert "28 grades" not in stdout and "written answers to grade by hand" in stdout


def test_a_broken_master_stops_grading_before_anything_runs(tmp_path):
    nb = nbformat.read(str(MASTERS[0]), as_version=4)
    nb.cells[3].metadata["nbgrader"]["grade_id"] = nbgrader_meta(nb.cells[2])["grade_id"]
    (tmp_path / "source").mkdir()
    nbformat.write(nb, str(tmp_path / "source" / "01_momentum.ipynb"))
    (tmp_path / "submitted" / "x").mkdir(parents=True)
    done = subprocess.run([sys.executable, "-m", "optlib.coursework", "grade",
                           str(tmp_path / "submitted"), "--source", str(tmp_path / "source"),
                           "--out", str(tmp_path / "out")], capture_output=True, text=True)
    assert done.returncode == 2
    assert "duplicate grade_id" in done.stderr
    assert not (tmp_path / "out").exists()
