"""Grade a folder of submitted notebooks against the masters.

    python -m optlib.coursework grade submitted/ --out grades

Layout: ``submitted/<student>/<assignment>.ipynb`` (or nbgrader's
``submitted/<student>/<assignment>/<assignment>.ipynb``), where ``<assignment>`` is the
name of a master in ``assignments/source``.

For each submission:

1. the program to run is the student's code cells, except that every test cell and every
   locked cell comes from the **master** (so hidden tests run, and edits to set-up or
   test cells count for nothing);
2. :mod:`optlib.coursework.runner` executes it in a bubblewrap sandbox
   (:mod:`optlib.coursework.sandbox`) with a time limit per cell, per test and per
   notebook, enforced from outside: the grader kills the whole sandbox;
3. what comes back is trusted in nothing: read with a byte cap, every event checked
   against a schema (known questions and checks, types, sizes), every text truncated;
4. each check's recorded numbers are **judged here**, in the grader's process, by
   :func:`optlib.checks.judge` with an optlib that no submission ever ran in, on hidden
   problems drawn from a secret (``OPTLIB_GRADING_SECRET``) made for this grading run;
5. a question scores its points when its test ran to the end exactly once, every check
   in it passed, the master's checks were recorded in order, and nothing was patched by
   the question's cells; otherwise 0, with the reason. Answers that call optlib's own
   optimizers, or use tools a solution never needs (``exec``, ``ctypes``, ``/proc`` ...),
   are flagged for review.

Written answers are listed for manual grading. Output: ``grades.csv`` (one row per
student, assignment and question, with the feedback and the review flags), ``scores.csv``
(one row per student, one column per question, totals) and
``feedback/<student>/<assignment>.md``, written into a fresh folder that replaces ``out``
only when every file is written (never through a symbolic link).
"""

import ast
import contextlib
import csv
import io
import json
import os
import secrets
import selectors
import shutil
import signal
import subprocess
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from . import sandbox as _sandbox
from .notebooks import (
    ANSWER_STUB,
    BEGIN_HIDDEN,
    END_HIDDEN,
    cell_role,
    cell_source,
    nbgrader_meta,
    questions,
    read,
    validate,
)

#: Default time limits, in seconds.
CELL_TIMEOUT = 60.0
TEST_TIMEOUT = 60.0
NOTEBOOK_TIMEOUT = 600.0
#: The most memory a submission may use (address space), in bytes.
MEMORY_LIMIT = 4 * 1024**3
#: The most a notebook may send back (events), in bytes, and the longest event line.
EVENTS_LIMIT = 16 * 1024**2
LINE_LIMIT = 4 * 1024**2
#: How much of the notebook's own stdout/stderr the grader keeps (the end of it).
OUTPUT_TAIL = 16 * 1024
#: The largest submitted notebook the grader reads, in bytes.
NOTEBOOK_SIZE_LIMIT = 20 * 1024**2
#: The longest feedback of an autograded question, and of a quoted written answer.
FEEDBACK_LIMIT = 3000
ANSWER_LIMIT = 20000
#: Seconds the runner may take to start, and to move on after a cell's own limit.
STARTUP_TIMEOUT = 90.0
GRACE = 15.0
#: The environment variable that carries the grading secret (see optlib.checks).
SECRET_VARIABLE = "OPTLIB_GRADING_SECRET"
#: The file that marks a folder as the grader's output (so it may be replaced).
MARKER = ".optlib-grades"


class GradingError(RuntimeError):
    """The grading run cannot start (an output folder it must not touch, ...)."""


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
    review: str = ""  # for the instructor only: why this answer deserves a second look


# --------------------------------------------------------------- building the program


def expected_calls(source):
    """The ``checks.<name>(...)`` calls in a test cell's source, in order, as
    ``(name, hidden)`` (``hidden``: the call passes ``hidden=True``)."""
    calls = []
    for node in ast.walk(ast.parse(source)):
        if (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
                and isinstance(node.func.value, ast.Name) and node.func.value.id == "checks"):
            hidden = any(k.arg == "hidden" and isinstance(k.value, ast.Constant)
                         and k.value.value is True for k in node.keywords)
            calls.append((node.lineno, node.col_offset, node.func.attr, hidden))
    return [(name, hidden) for *_, name, hidden in sorted(calls)]


def expected_checks(source):
    """The names of the ``checks.<name>(...)`` calls in a test cell's source, in order."""
    return [name for name, _ in expected_calls(source)]


def build_program(master, submission):
    """The cells to execute: the submission's code cells in its order, with the master's
    source for test and locked cells (inserted if the student deleted them). Each entry:
    ``{"index", "kind", "question", "source", "grade_id"}``."""
    master_cells = {nbgrader_meta(c).get("grade_id"): c for c in master.cells
                    if nbgrader_meta(c).get("grade_id")}
    program, seen = [], set()
    for i, cell in enumerate(submission.cells):
        if not isinstance(cell, dict) or cell.get("cell_type") != "code":
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
                program.append({"index": i, "kind": "code", "source": cell_source(cell),
                                "grade_id": gid})
                continue
        program.append({"index": i, "kind": "code", "source": cell_source(cell),
                        "grade_id": None})
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


def _kill(process):
    """Kill the runner and everything it started: the sandbox's namespace dies with it."""
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(process.pid, signal.SIGKILL)
    with contextlib.suppress(ProcessLookupError):
        process.kill()


def run_submission(program, *, cell_timeout, test_timeout, notebook_timeout, sandbox=True,
                   secret=None):
    """Execute ``program`` in a fresh runner, in the sandbox unless ``sandbox=False``;
    ``(events, note)``. ``events`` are the JSON objects it sent (not yet validated: see
    :func:`clean_event`); ``note`` says why the run ended early, if it did.

    Every limit is kept from outside: the whole run ends at ``notebook_timeout``, and a
    run that stops reporting (a cell that ignores its own time limit) is killed
    ``GRACE`` seconds after the limit of the cell it is in. The grader never waits on a
    pipe without a deadline."""
    limits = _sandbox.Limits(memory=MEMORY_LIMIT, cpu_seconds=int(notebook_timeout) + 30)
    with contextlib.ExitStack() as stack:
        work = None if sandbox else stack.enter_context(
            tempfile.TemporaryDirectory(prefix="optlib-grade-"))
        extra = {} if sandbox else {"HOME": work, "TMPDIR": work,
                                    "MPLCONFIGDIR": str(Path(work) / ".matplotlib")}
        argv, env, cwd = _sandbox.runner_command(limits, sandbox=sandbox, extra_env=extra)
        read_end, write_end = os.pipe()
        payload = json.dumps({
            "cells": program, "cell_timeout": cell_timeout, "test_timeout": test_timeout,
            "memory_limit": MEMORY_LIMIT, "secret": None if secret is None else str(secret),
            "rlimits": limits.rlimits(), "channel_fd": write_end}).encode()
        try:
            process = subprocess.Popen(
                argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                pass_fds=(write_end,), cwd=work or cwd, env=env, start_new_session=True)
        except BaseException:
            os.close(read_end)
            raise
        finally:
            os.close(write_end)
        try:
            return _collect(process, read_end, payload, cell_timeout=cell_timeout,
                            test_timeout=test_timeout, notebook_timeout=notebook_timeout)
        finally:
            _kill(process)
            with contextlib.suppress(subprocess.TimeoutExpired):
                process.wait(timeout=10)
            for stream in (process.stdin, process.stdout):
                with contextlib.suppress(OSError):
                    stream.close()
            os.close(read_end)


def _collect(process, channel, payload, *, cell_timeout, test_timeout, notebook_timeout):
    """Feed the program, read the events and the output, keep the deadlines."""
    selector = selectors.DefaultSelector()
    for stream in (process.stdin, process.stdout):
        os.set_blocking(stream.fileno(), False)
    os.set_blocking(channel, False)
    selector.register(process.stdin.fileno(), selectors.EVENT_WRITE, "stdin")
    selector.register(channel, selectors.EVENT_READ, "events")
    selector.register(process.stdout.fileno(), selectors.EVENT_READ, "output")
    start = time.monotonic()
    hard = start + notebook_timeout
    quiet = start + STARTUP_TIMEOUT      # the next event must come before this
    drain = None                          # once the runner has exited: a last short read
    events, pending, received, skipping = [], bytearray(), 0, False
    output = bytearray()
    note, current = None, None
    to_send = memoryview(payload)
    try:
        while selector.get_map():
            now = time.monotonic()
            if drain is None and process.poll() is not None:
                drain = now + 1.0
            if drain is not None and now > drain:
                break
            if now > hard:
                note = f"the notebook did not finish within {notebook_timeout:g} s"
                break
            if now > quiet:
                where = f" (in cell {current})" if current is not None else ""
                note = (f"the notebook stopped responding{where}: it ran past its time limit "
                        "and was stopped; the cells after it did not run")
                break
            for key, _ in selector.select(timeout=max(0.01, min(0.5, hard - now, quiet - now))):
                if key.data == "stdin":
                    try:
                        sent = os.write(key.fd, to_send[:65536])
                    except BlockingIOError:
                        continue
                    except OSError:  # the runner is gone, or closed its stdin
                        sent = len(to_send)
                    to_send = to_send[sent:]
                    if not to_send:
                        selector.unregister(key.fd)
                        process.stdin.close()
                    continue
                try:
                    data = os.read(key.fd, 65536)
                except BlockingIOError:
                    continue
                if not data:
                    selector.unregister(key.fd)
                    continue
                if key.data == "output":
                    output += data
                    del output[:-OUTPUT_TAIL]
                    continue
                received += len(data)
                if received > EVENTS_LIMIT:
                    note = (f"the notebook sent more than {EVENTS_LIMIT // 1024**2} MB of "
                            "results and was stopped")
                    return events, note
                pending += data
                while True:
                    cut = pending.find(b"\n")
                    if cut < 0:
                        if len(pending) > LINE_LIMIT:  # one endless line: drop it
                            pending.clear()
                            skipping = True
                        break
                    line = bytes(pending[:cut])
                    del pending[:cut + 1]
                    if skipping:
                        skipping = False
                        continue
                    event = _parse_line(line)
                    if event is None:
                        continue
                    events.append(event)
                    now = time.monotonic()
                    kind = event.get("event")
                    if kind == "begin":
                        current = str(event.get("index"))[:60]
                        limit = test_timeout + 5 if event.get("kind") == "test" else cell_timeout
                        quiet = now + limit + GRACE
                    else:
                        quiet = now + GRACE
        if note is None and process.poll() is None and not any(
                e.get("event") == "end" for e in events):
            note = "the notebook's process stopped reporting"
    finally:
        selector.close()
    code = process.poll()
    if note is None and code not in (0, None):
        tail = output.decode("utf-8", "replace").strip().splitlines()[-1:] or [""]
        note = f"the notebook's process stopped (exit code {code}) {tail[0][:300]}".rstrip()
    return events, note


def _parse_line(line):
    """One event line as a dict, or None (not JSON, nested too deep, not an object)."""
    try:
        event = json.loads(line)
    except (ValueError, RecursionError):
        return None
    return event if isinstance(event, dict) else None


def _text(value, limit):
    """``value`` if it is a string (cut to ``limit`` characters), else None."""
    if not isinstance(value, str):
        return None
    return value if len(value) <= limit else value[:limit] + f" … (cut: {len(value)} characters)"


def clean_event(raw, questions, check_names):
    """A runner event checked against the schema: a new dict with only known fields of
    the right types and sizes, or None (the event is dropped).

    ``questions``: the grade_ids of the program's test cells; ``check_names``: the
    checks that exist."""
    kind = raw.get("event")
    if kind in ("start", "begin", "end"):
        return {"event": kind}
    if kind not in ("cell", "test"):
        return None
    question = raw.get("question")
    if question is not None and not (isinstance(question, str) and question in questions):
        return None
    index = raw.get("index")
    if isinstance(index, bool) or not isinstance(index, (int, str)):
        return None
    error = raw.get("error")
    if error is not None and not isinstance(error, str):
        return None
    tampered = raw.get("tampered") or []
    if not isinstance(tampered, list) or not all(isinstance(t, str) for t in tampered):
        return None
    event = {"event": kind, "question": question, "index": str(index)[:80],
             "error": _text(error, 1500), "tampered": [t[:200] for t in tampered[:20]],
             "timeout": raw.get("timeout") is True}
    if kind == "cell":
        return event
    records = raw.get("records") or []
    if not isinstance(records, list) or len(records) > 64:
        return None
    clean = []
    for record in records:
        if not (isinstance(record, dict) and set(record) <= {"check", "hidden", "outputs"}
                and isinstance(record.get("check"), str) and record["check"] in check_names
                and isinstance(record.get("hidden"), bool)):
            return None
        clean.append({"check": record["check"], "hidden": record["hidden"],
                      "outputs": record.get("outputs")})
    calls = raw.get("optlib_calls") or {}
    if not (isinstance(calls, dict) and len(calls) <= 40 and all(
            isinstance(k, str) and isinstance(v, int) and not isinstance(v, bool)
            for k, v in calls.items())):
        return None
    event.update(records=clean, optlib_calls={k[:80]: v for k, v in calls.items()})
    return event


# ---------------------------------------------------------------------------- judging


def _score_test(question, master_source, events, cell_events, note):
    """(points, status, feedback) of one autograded question, from its (validated) test
    events (normally exactly one)."""
    from optlib import checks

    if not events:
        reason = note or "the notebook's process stopped before this test"
        return 0.0, "not run", f"the test did not run: {reason}."
    if len(events) > 1:
        return 0.0, "error", (f"the notebook reported this test {len(events)} times, so none "
                              "of the reports counts (does the code write results of its "
                              "own?).")
    event = events[0]
    tampered = list(event["tampered"])
    for cell in cell_events:
        tampered += cell["tampered"]
    if tampered:
        return 0.0, "tampered", ("optlib, numpy or a builtin was modified by this question's "
                                 "code, so it gets 0: "
                                 + ", ".join(sorted(set(tampered))[:5]) + ".")
    if event["timeout"]:
        return 0.0, "timeout", f"the test {event['error']}."
    problems = [f"cell {c['index']} raised {c['error']}" for c in cell_events if c["error"]]
    context = f" (Before it, {'; '.join(problems)}.)" if problems else ""
    records = event["records"]
    expected = expected_calls(master_source)
    for position, record in enumerate(records):
        # a hidden check is judged on the hidden problems whatever the record claims
        hidden = expected[position][1] if position < len(expected) else record["hidden"]
        verdict = checks.judge(record["check"], record["outputs"], hidden)
        if not verdict.passed:
            label = " [hidden test]" if hidden else ""
            return 0.0, "failed", f"{record['check']}{label}: {verdict.message}{context}"
    if event["error"]:
        return 0.0, "error", f"the test raised {event['error']}.{context}"
    ran = [(r["check"], r["hidden"]) for r in records]
    if ran != expected:
        names = [name + (" (hidden)" if hidden else "") for name, hidden in expected]
        got = [name + (" (hidden)" if hidden else "") for name, hidden in ran]
        return 0.0, "error", (f"not every check ran (expected {names}, recorded {got})."
                              f"{context}")
    return question.points, "passed", "all checks passed" + (
        f" ({len(expected)} checks)" if len(expected) > 1 else "") + "."


def _written_answer(submission, question):
    """The student's text for a written answer (or None)."""
    for cell in submission.cells:
        if nbgrader_meta(cell).get("grade_id") == question.grade_id:
            return cell_source(cell)
    return None


#: What a solution never needs: worth a look when an answer uses it.
SUSPICIOUS_NAMES = {"exec", "eval", "compile", "__import__", "globals", "locals", "vars",
                    "setattr", "delattr", "breakpoint", "memoryview", "open", "__builtins__",
                    "__loader__", "__spec__"}
SUSPICIOUS_MODULES = {"ctypes", "gc", "inspect", "importlib", "subprocess", "signal",
                      "multiprocessing", "threading", "_thread", "socket", "builtins", "sys",
                      "os", "pathlib", "shutil", "pickle", "marshal", "types", "atexit",
                      "resource", "mmap", "fcntl", "pty", "tempfile", "io", "faulthandler",
                      "sysconfig", "site", "runpy", "code", "codeop", "zipimport"}
SUSPICIOUS_ATTRIBUTES = {"__code__", "__closure__", "__globals__", "__builtins__",
                         "__subclasses__", "__dict__", "__class__", "__bases__", "__mro__",
                         "cell_contents", "f_back", "f_globals", "f_locals", "tb_frame",
                         "gi_frame", "_recorder", "modules", "__kwdefaults__",
                         "__defaults__", "__setattr__"}


def review_notes(sources):
    """Why the code of one question deserves a second look (a list of short notes): the
    tools a solution never needs (reading files or the process, rebinding functions,
    running generated code). Static, so it also sees code that did not get to run; a note
    is not a penalty. (Calls to optlib's own optimizers are counted while the checks run:
    see the runner's ``optlib_calls``.)"""
    from IPython.core.inputtransformer2 import TransformerManager

    notes = []
    for where, source in sources:
        if len(source) > 200_000:
            notes.append(f"{where}: {len(source)} characters of code")
            continue
        try:
            tree = ast.parse(TransformerManager().transform_cell(source))
        except (SyntaxError, ValueError, RecursionError, MemoryError):
            continue
        found = set()
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                found |= {f"imports {alias.name}" for alias in node.names
                          if alias.name.split(".")[0] in SUSPICIOUS_MODULES}
            elif isinstance(node, ast.ImportFrom) and node.module:
                if node.module.split(".")[0] in SUSPICIOUS_MODULES:
                    found.add(f"imports from {node.module}")
            elif isinstance(node, ast.Name) and node.id in SUSPICIOUS_NAMES:
                found.add(f"uses {node.id}()")
            elif isinstance(node, ast.Attribute) and node.attr in SUSPICIOUS_ATTRIBUTES:
                found.add(f"uses .{node.attr}")
            elif isinstance(node, ast.Constant) and isinstance(node.value, str) and any(
                    word in node.value for word in ("/proc", ".ipynb", "assignments/",
                                                    "source/", "grades")):
                found.add(f"mentions {node.value[:40]!r}")
        if found:
            notes.append(f"{where}: " + ", ".join(sorted(found)[:8]))
    return notes


def _solutions_use_optlib(master):
    """{test grade_id: whether the master's own solution for it uses optlib} (a tuning
    question trains with optlib's optimizers: calling them there is the point)."""
    uses, pending = {}, False
    for cell in master.cells:
        role = cell_role(cell)
        if role == "solution" and "optlib" in cell.source:
            pending = True
        elif role == "test":
            uses[nbgrader_meta(cell).get("grade_id")] = pending
            pending = False
    return uses


def _hidden_lines(master):
    """The lines of the master's hidden tests (to keep them out of any feedback)."""
    lines = set()
    for cell in master.cells:
        inside = False
        for line in cell.source.splitlines():
            if line.strip() == BEGIN_HIDDEN:
                inside = True
            elif line.strip() == END_HIDDEN:
                inside = False
            elif inside and len(line.strip()) >= 8:
                lines.add(line.strip())
    return sorted(lines, key=len, reverse=True)


def _redact(text, hidden_lines, limit):
    for line in hidden_lines:
        if line in text:
            text = text.replace(line, "[a hidden test]")
    return _text(text, limit)


def _error_results(student, assignment, items, message):
    return [Result(student, assignment, q.grade_id, 0.0, q.points, "error",
                   _text(message, FEEDBACK_LIMIT)) for q in items]


def grade_notebook(master_path, submission_path, student, *, cell_timeout=CELL_TIMEOUT,
                   test_timeout=TEST_TIMEOUT, notebook_timeout=NOTEBOOK_TIMEOUT,
                   sandbox=True, secret=None):
    """Grade one submitted notebook; a list of :class:`Result`, one per question.

    ``secret``: the grading run's secret for the hidden problems (a new one is drawn
    when None); ``sandbox=False`` runs the notebook without bubblewrap (trusted code
    only)."""
    master = read(master_path)
    assignment = Path(master_path).stem
    items = questions(master)
    if submission_path is None:
        return [Result(student, assignment, q.grade_id, 0.0, q.points, "missing",
                       "no notebook submitted.") for q in items]
    try:
        size = Path(submission_path).stat().st_size
        if size > NOTEBOOK_SIZE_LIMIT:
            return _error_results(student, assignment, items, (
                f"the notebook is {size / 1024**2:.0f} MB, more than the "
                f"{NOTEBOOK_SIZE_LIMIT // 1024**2} MB the grader reads: clear its outputs."))
        submission = read(submission_path)
        if not isinstance(submission.get("cells"), list):
            raise ValueError("it has no list of cells")
        program = build_program(master, submission)
    except Exception as error:  # unreadable JSON, wrong format ...
        return _error_results(student, assignment, items,
                              f"the notebook could not be read: {type(error).__name__}: "
                              f"{str(error)[:300]}")
    if secret is None:
        secret = secrets.randbits(63)
    with grading_secret(secret):
        events, note = run_submission(program, cell_timeout=cell_timeout,
                                      test_timeout=test_timeout,
                                      notebook_timeout=notebook_timeout, sandbox=sandbox,
                                      secret=secret)
        return _judge_notebook(master, submission, program, events, note, student,
                               assignment, items)


def _judge_notebook(master, submission, program, events, note, student, assignment, items):
    from optlib import checks

    test_ids = {p["grade_id"] for p in program if p["kind"] == "test"}
    clean = [c for c in (clean_event(e, test_ids, checks.CHECKS) for e in events) if c]
    dropped = len(events) - len(clean)
    tests = {}
    for event in clean:
        if event["event"] == "test":
            tests.setdefault(event["question"], []).append(event)
    cells = [e for e in clean if e["event"] == "cell"]
    master_sources = {nbgrader_meta(c).get("grade_id"): c.source for c in master.cells}
    master_cells = {gid: c for gid, c in ((nbgrader_meta(c).get("grade_id"), c)
                                          for c in master.cells) if gid}
    hidden_lines = _hidden_lines(master)
    uses_optlib = _solutions_use_optlib(master)
    results = []
    for q in items:
        if q.kind == "manual":
            text = _written_answer(submission, q) or ""
            words = len(text.replace(ANSWER_STUB, "").split())
            if words == 0:
                results.append(Result(student, assignment, q.grade_id, 0.0, q.points, "blank",
                                      "no written answer."))
            else:
                quoted = "\n".join("> " + line for line in text.strip().splitlines())
                results.append(Result(student, assignment, q.grade_id, None, q.points,
                                      "manual", _text(f"written answer ({words} words), to "
                                      f"grade by hand:\n\n{quoted}", ANSWER_LIMIT)))
            continue
        own = [c for c in cells if c["question"] == q.grade_id]
        points, status, feedback = _score_test(q, master_sources[q.grade_id],
                                               tests.get(q.grade_id, []), own, note)
        sources = [(f"cell {p['index']}", p["source"]) for p in program
                   if p["question"] == q.grade_id and p["kind"] == "code"
                   and (p["grade_id"] is None
                        or cell_role(master_cells.get(p["grade_id"], {})) == "solution")]
        review = review_notes(sources)
        for event in tests.get(q.grade_id, []):
            calls = event.get("optlib_calls") or {}
            if calls and not uses_optlib.get(q.grade_id):
                review.append("while the checks ran, the answer called optlib's own "
                              + ", ".join(f"{name} ({count}×)" for name, count in
                                          sorted(calls.items())[:5]))
        if dropped:
            review.append(f"the notebook sent {dropped} malformed result(s), ignored")
        results.append(Result(student, assignment, q.grade_id, points, q.points, status,
                              _redact(feedback, hidden_lines, FEEDBACK_LIMIT),
                              _text("; ".join(review), 1000) or ""))
    return results


_secret_lock = threading.Lock()
_secret_state = {"users": 0, "saved": None}


@contextlib.contextmanager
def grading_secret(secret):
    """Within this block ``OPTLIB_GRADING_SECRET`` holds ``secret`` in the grader's own
    process (where the judge draws the hidden problems); afterwards the environment is as
    it was. Nested and concurrent uses must agree on the secret."""
    value = str(secret)
    with _secret_lock:
        if _secret_state["users"]:
            if os.environ.get(SECRET_VARIABLE) != value:
                raise RuntimeError("two grading runs with different secrets in one process")
        else:
            _secret_state["saved"] = os.environ.get(SECRET_VARIABLE)
            os.environ[SECRET_VARIABLE] = value
        _secret_state["users"] += 1
    try:
        yield value
    finally:
        with _secret_lock:
            _secret_state["users"] -= 1
            if not _secret_state["users"]:
                if _secret_state["saved"] is None:
                    os.environ.pop(SECRET_VARIABLE, None)
                else:
                    os.environ[SECRET_VARIABLE] = _secret_state["saved"]


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
          notebook_timeout=NOTEBOOK_TIMEOUT, sandbox=True, progress=print):
    """Grade every submission in ``submitted``; write ``out``/grades.csv, scores.csv and
    feedback/. Returns the list of :class:`Result`.

    Every submission runs in the bubblewrap sandbox; without bubblewrap this raises
    :class:`~optlib.coursework.sandbox.SandboxUnavailable` (saying what to install) unless
    ``sandbox=False`` (trusted notebooks only). One secret is drawn for the whole run."""
    masters = {p.stem: p for p in sorted(Path(source).glob("*.ipynb"))}
    if not masters:
        raise FileNotFoundError(f"no master notebooks in {source}")
    for name, path in masters.items():
        validate(read(path), name)
    if not Path(submitted).is_dir():
        raise FileNotFoundError(f"no folder of submissions at {submitted}")
    out = Path(out)
    _check_output_folder(out)
    if sandbox:
        _sandbox.check_sandbox()
    work = find_submissions(submitted, masters)
    if not work:
        raise FileNotFoundError(f"no student folders in {submitted} (expected "
                                f"{submitted}/<student>/<assignment>.ipynb)")
    secret = secrets.randbits(63)

    def one(key):
        student, name = key
        start = time.monotonic()
        try:
            results = grade_notebook(masters[name], work[key], student,
                                     cell_timeout=cell_timeout, test_timeout=test_timeout,
                                     notebook_timeout=notebook_timeout, sandbox=sandbox,
                                     secret=secret)
        except Exception as error:  # noqa: BLE001 - one notebook never stops the batch
            results = _error_results(student, name, questions(read(masters[name])),
                                     f"the grader could not grade this notebook "
                                     f"({type(error).__name__}: {str(error)[:300]}); "
                                     "grade it by hand.")
        got = sum(r.points or 0 for r in results)
        total = sum(r.max_points for r in results)
        progress(f"{student[:40]:>12} {name:<16} {got:g} / {total:g} auto "
                 f"({time.monotonic() - start:.1f} s)")
        return results

    jobs = jobs or min(4, os.cpu_count() or 1)
    with grading_secret(secret), ThreadPoolExecutor(max_workers=jobs) as pool:
        results = [r for batch in pool.map(one, list(work)) for r in batch]
    write_reports(results, out, submitted)
    return results


# ---------------------------------------------------------------------------- reports


def _check_output_folder(out):
    """Refuse an output folder the grader must not replace: a symbolic link, a file, or a
    folder with files that it did not write."""
    if out.is_symlink():
        raise GradingError(f"the output folder {out} is a symbolic link: give a real folder")
    if out.exists():
        if not out.is_dir():
            raise GradingError(f"the output folder {out} is a file")
        names = {p.name for p in out.iterdir()}
        # ours: it has the marker, or (written before the marker existed) only our files
        if names and not (out / MARKER).is_file() and not names <= {
                "grades.csv", "scores.csv", "feedback"}:
            raise GradingError(f"the output folder {out} holds files the grader did not "
                               "write: choose another --out, or empty it")


def _csv_cell(value):
    """A CSV field a spreadsheet shows as text: a leading = + - @ (or tab, return) would
    make it a formula, so it gets a ' in front."""
    text = str(value)
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


def _write_new(path, text):
    """Write a new file; never through a symbolic link, never over an existing file."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o644)
    with os.fdopen(fd, "w", encoding="utf-8", newline="") as handle:
        handle.write(text)


def _csv_text(rows):
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    for row in rows:
        writer.writerow([_csv_cell(v) for v in row])
    return buffer.getvalue()


def _safe_name(name):
    """A student's folder name as a file name of the feedback folder."""
    name = "".join(c if c.isprintable() and c not in "/\\" else "_" for c in name)[:100]
    return name if name.strip(".") else "_" + name


def write_reports(results, out, submitted=None):
    """Write grades.csv, scores.csv and feedback/ into a folder made for them next to
    ``out``, then put it in place of ``out`` (see :func:`_check_output_folder`)."""
    out = Path(out)
    _check_output_folder(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    fresh = Path(tempfile.mkdtemp(prefix=f".{out.name}-", dir=out.parent))
    try:
        os.chmod(fresh, 0o755)
        _write_reports_into(results, fresh)
        if out.exists():
            old = Path(tempfile.mkdtemp(prefix=f".{out.name}-old-", dir=out.parent))
            os.rename(out, old / "out")
            os.rename(fresh, out)
            shutil.rmtree(old)
        else:
            os.rename(fresh, out)
    finally:
        if fresh.exists():
            shutil.rmtree(fresh)


def _write_reports_into(results, out):
    _write_new(out / MARKER, "written by python -m optlib.coursework grade\n")
    fields = ["student", "assignment", "question", "points", "max_points", "status",
              "feedback", "review"]
    _write_new(out / "grades.csv", _csv_text([fields] + [
        [r.student, r.assignment, r.question, "" if r.points is None else f"{r.points:g}",
         f"{r.max_points:g}", r.status, r.feedback, r.review] for r in results]))
    columns = list(dict.fromkeys((r.assignment, r.question) for r in results))
    assignments = list(dict.fromkeys(r.assignment for r in results))
    students = list(dict.fromkeys(r.student for r in results))
    table = {(r.student, r.assignment, r.question): r for r in results}

    def total(rows):
        return f"{sum(r.points or 0 for r in rows):g}"

    rows = [["student", *[f"{a}:{q}" for a, q in columns],
             *[f"{a}:total" for a in assignments], "auto_total", "manual_points_pending",
             "to_review"]]
    for s in students:
        row = [s]
        for a, q in columns:
            r = table.get((s, a, q))
            row.append("" if r is None else "manual" if r.points is None else f"{r.points:g}")
        mine = [r for r in results if r.student == s]
        row += [total(r for r in mine if r.assignment == a) for a in assignments]
        row.append(total(mine))
        row.append(f"{sum(r.max_points for r in mine if r.points is None):g}")
        row.append(str(sum(1 for r in mine if r.review)))
        rows.append(row)
    _write_new(out / "scores.csv", _csv_text(rows))
    os.mkdir(out / "feedback")
    used = set()
    for s in students:
        name = _safe_name(s)
        while name.lower() in used:
            name += "_"
        used.add(name.lower())
        folder = out / "feedback" / name
        os.mkdir(folder)
        for a in assignments:
            mine = [r for r in results if (r.student, r.assignment) == (s, a)]
            if not mine:
                continue
            auto = sum(r.max_points for r in mine if r.points is not None)
            lines = [f"# {a}: feedback for {s}", "",
                     f"Autograded: {total(mine)} of {auto:g} points. Written answers are "
                     "graded by hand.", ""]
            for r in mine:
                score = ("graded by hand" if r.points is None
                         else f"{r.points:g} / {r.max_points:g}")
                lines += [f"## {r.question}: {score} ({r.status})", "", r.feedback, ""]
            _write_new(folder / f"{a}.md", "\n".join(lines))
