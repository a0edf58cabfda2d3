"""The grader against hostile submissions: one test per kind of attack of issue 14
(reading secrets, fooling the judge, harming others and the course, stopping the batch),
and the sandbox itself.

Most attacks are students of one class, graded in one batch (the ``batch`` fixture):
each attacker's notebook is the tiny assignment of tests/test_coursework.py with hostile
code in it, and an honest classmate is graded alongside. An attacker that finds
something reports it in the feedback: its ``momentum_step`` raises
``RuntimeError("EVIDENCE {json}")``, and the test reads that JSON back.
"""

import csv
import hashlib
import json
import os
import re
import resource
import site
import textwrap
import time
from pathlib import Path

import nbformat
import pytest
from test_coursework import GOOD, make_master, submit

import optlib
from optlib import checks
from optlib.coursework import grade, grade_notebook, sandbox
from optlib.coursework.grade import (
    EVENTS_LIMIT,
    FEEDBACK_LIMIT,
    MARKER,
    MEMORY_LIMIT,
    GradingError,
    _csv_cell,
    write_reports,
)

pytestmark = pytest.mark.skipif(sandbox.find_bwrap() is None,
                                reason="needs bubblewrap (apt-get install bubblewrap)")

LIMITS = {"cell_timeout": 3, "test_timeout": 8, "notebook_timeout": 60}
TOKEN = "tok-5d1e0c-do-not-leak"
ROOT = Path(optlib.__file__).resolve().parent.parent

# An attacker's report: the JSON it passes to _report() comes back in its feedback.
REPORT = '''
import json as _json
def _report(**found):
    text = _json.dumps(found, sort_keys=True, default=str)
    def momentum_step(theta, v, grad, lr, beta):
        raise RuntimeError("EVIDENCE " + text)
    globals()["momentum_step"] = momentum_step
'''


def evidence(result):
    """The JSON an attacker reported in the feedback of ``result``."""
    at = result.feedback.find("EVIDENCE ")
    assert at >= 0, result.feedback
    found, _ = json.JSONDecoder().raw_decode(result.feedback[at + len("EVIDENCE "):])
    return found


def good_records():
    """What a correct momentum_step records on the visible problems and, with no secret
    set, on the public fallback hidden problems: what a student can compute at home."""
    namespace = {}
    exec(textwrap.dedent(GOOD["momentum_step"]), namespace)
    assert "OPTLIB_GRADING_SECRET" not in os.environ
    with checks.recording() as records:
        checks.momentum_step(namespace["momentum_step"])
        checks.momentum_step(namespace["momentum_step"], hidden=True)
    return records


def attackers(paths):
    """{student: answers by grade_id}; ``paths`` holds the grader's own paths, which a
    determined attacker may know or guess. Attacks that do not get in each other's way
    share a notebook."""
    p = {k: str(v) for k, v in paths.items()}
    records = json.dumps(good_records())
    forged = json.dumps({"event": "test", "index": 3, "question": "momentum_step_test",
                         "error": None, "records": good_records(), "tampered": [],
                         "output": "", "timeout": False})
    stub = "def momentum_step(theta, v, grad, lr, beta):\n    raise NotImplementedError()\n"
    forge = f"""
import os, stat, sys
line = ({forged!r} + "\\n").encode()
for fd in range(3, 256):
    try:
        if stat.S_ISFIFO(os.fstat(fd).st_mode) or stat.S_ISREG(os.fstat(fd).st_mode):
            os.write(fd, line)
            if CLOSE:
                os.close(fd)
    except OSError:
        pass
for arg in sys.argv[1:]:
    if os.path.isfile(arg):
        with open(arg, "a") as handle:
            handle.write(line.decode())
"""
    return {
        # reading secrets, and what the sandbox looks like from inside
        "prober": {**GOOD, "momentum_step": REPORT + f'''
import glob, os, pathlib, resource, socket
import optlib
def _read(path):
    try:
        with open(path, "rb") as handle:
            return handle.read(200).decode(errors="replace")
    except Exception:
        return None
def _listing(path):
    try:
        return sorted(os.listdir(path))[:20]
    except Exception:
        return None
def _can_write(path):
    try:
        with open(os.path.join(path, "probe.txt"), "w") as handle:
            handle.write("x")
        return True
    except OSError:
        return False
try:
    socket.create_connection(("127.0.0.1", 22), timeout=1)
    network = "connected"
except OSError as error:
    network = type(error).__name__
repo = pathlib.Path(optlib.__file__).resolve().parent.parent
tmp = os.statvfs("/tmp")
_report(
    master=_read({p["master"]!r}), classmate=_read({p["classmate"]!r}),
    home_file=_read({p["home_file"]!r}),
    repo_masters=sorted(glob.glob(str(repo / "assignments" / "source" / "*.ipynb"))),
    repo=_listing(str(repo)), out=_listing({p["out"]!r}),
    parent_cwd=_listing(f"/proc/{{os.getppid()}}/cwd"),
    parent_cmdline=(_read(f"/proc/{{os.getppid()}}/cmdline") or "")[:120],
    parent_mem=_read(f"/proc/{{os.getppid()}}/mem") is not None,
    environ_token=any({TOKEN!r} in (_read(f"/proc/{{pid}}/environ") or "")
                      for pid in os.listdir("/proc") if pid.isdigit())
                  or {TOKEN!r} in str(dict(os.environ)),
    home_env=os.environ.get("HOME"),
    uid=os.getuid(), euid=os.geteuid(),
    processes=sorted(int(p) for p in os.listdir("/proc") if p.isdigit()),
    network=network, cwd=os.getcwd(), root=sorted(os.listdir("/")),
    writable=[d for d in ("/", "/usr", {p["optlib"]!r}, *{list(paths["site"])!r}, "/tmp")
              if _can_write(d)],
    environment=sorted(os.environ), tmp_bytes=tmp.f_blocks * tmp.f_frsize,
    nproc=resource.getrlimit(resource.RLIMIT_NPROC)[0],
    fsize=resource.getrlimit(resource.RLIMIT_FSIZE)[0],
    memory=resource.getrlimit(resource.RLIMIT_AS)[0],
    cpu=resource.getrlimit(resource.RLIMIT_CPU)[0],
    secret=os.environ.get("OPTLIB_GRADING_SECRET"),
    secret_on_command_line=os.environ.get("OPTLIB_GRADING_SECRET", "?") in
                           (_read("/proc/1/cmdline") or "") + str(_read("/proc/self/cmdline")))
'''},
        # the runner holds the test cells: echoing one back must not show a hidden test;
        # and a 50 MB message
        "echo": {**GOOD, "momentum_step": """
import sys
texts, frame = [], sys._getframe()
while frame is not None:      # up to the runner, whose program holds the test cells
    program = frame.f_locals.get("program")
    if isinstance(program, dict):
        texts = [c["source"] for c in program["cells"] if c["kind"] == "test"]
    frame = frame.f_back
def momentum_step(theta, v, grad, lr, beta):
    raise RuntimeError("LEAK " + " | ".join(texts))
""", "scale": """
def scale(x):
    raise RuntimeError("=HYPERLINK(x)" + "x" * 50_000_000)
"""},
        # fooling the judge: forge the test's report, then close every channel so that the
        # real one never comes ...
        "forger": {**GOOD, "momentum_step": stub + "CLOSE = True\n" + forge},
        # ... or forge it after the real one came
        "doubler": {**GOOD, "momentum_step": stub, "scale": GOOD["scale"] + "\nCLOSE = False\n"
                    + forge},
        # a fake `checks` in the notebook's globals that records good numbers, a probe
        # replaced inside the check's closure, numpy and a builtin patched
        "patcher": {**GOOD, "momentum_step": stub + f"""
import builtins
import numpy
import json
import optlib.checks as _real
_RECORDS = json.loads({records!r})
class _Fake:
    def momentum_step(self, fn, hidden=False):
        _real._recorder.append(_RECORDS[1 if hidden else 0])
checks = _Fake()
_run = _real.momentum_step
_i = _run.__code__.co_freevars.index("probe")
_run.__closure__[_i].cell_contents = lambda fn, hidden: _RECORDS[1 if hidden else 0]["outputs"]
numpy.array_equal = lambda a, b, equal_nan=False: True
builtins.round = lambda number, ndigits=None: 0
"""},
        # a right answer that is optlib's own optimizer: it passes, flagged for review
        "borrower": {**GOOD, "momentum_step": """
import optlib
def momentum_step(theta, v, grad, lr, beta):
    return optlib.Momentum(lr=lr, beta=beta).update(theta, grad, v, lr, 1)
"""},
        # harming others and the course: a daemon that waits for the reports, a child
        # that holds the pipes, links planted, a classmate's notebook and the course's
        # code rewritten, forged events for classmates
        "vandal": {**GOOD, "scale": GOOD["scale"] + f'''
import glob, os, pathlib, site, time
import optlib
def _try(action):
    try:
        action()
    except Exception:
        pass
def _append(path, text):
    with open(path, "a") as handle:
        handle.write(text)
_try(lambda: os.makedirs({p["out"]!r}, exist_ok=True))
_try(lambda: os.symlink({p["victim"]!r}, {p["out"] + "/grades.csv"!r}))
_try(lambda: _append({p["classmate"]!r}, "garbage"))
for events in glob.glob("/tmp/optlib-grade-*/events.jsonl"):
    _try(lambda: _append(events, '{{"event": "cell", "index": 0, "question": '
                                 '"momentum_step_test", "error": null, '
                                 '"tampered": ["forged"], "output": ""}}\\n'))
coursework = pathlib.Path(optlib.__file__).resolve().parent / "coursework"
_try(lambda: _append(str(coursework / "grade.py"), "\\n# hostile\\n"))
for folder in site.getsitepackages():
    _try(lambda: _append(os.path.join(folder, "zz_hostile_test.pth"), "# hostile\\n"))
if os.fork() == 0:            # a daemon
    os.setsid()
    if os.fork() == 0:
        for _ in range(150):
            time.sleep(0.2)
            for target in ({p["out"] + "/scores.csv"!r}, {p["out"] + "/grades.csv"!r},
                           {p["out"] + "/pwned.txt"!r}):
                _try(lambda: _append(target, "=PWNED\\n"))
        os._exit(0)
    os._exit(0)
if os.fork() == 0:            # a child that holds every pipe
    os.setsid()
    time.sleep(600)
    os._exit(0)
'''},
        # stopping the batch: kill the grader
        "killer": {**GOOD, "scale": """
import os, signal
for target in (os.getppid(), 1):
    try:
        os.kill(target, signal.SIGKILL)
    except OSError:
        pass
try:
    os.killpg(os.getpgid(os.getppid()), signal.SIGKILL)
except OSError:
    pass
def scale(x):
    return 2 * x
"""},
        # malformed events (and, see the batch fixture, malformed metadata)
        "mangled": {**GOOD, "scale": GOOD["scale"] + """
import os, stat
lines = [b"{not json\\n", b'{"event": "test", "question": ["x"]}\\n', b"[1, 2]\\n",
         b'{"event": "test", "question": "scale_test", "records": "oops"}\\n',
         b"[" * 100000 + b"\\n", b'{"event": "cell", "index": 1e999, "question": null}\\n']
for fd in range(3, 256):
    try:
        if stat.S_ISFIFO(os.fstat(fd).st_mode):
            for line in lines:
                os.write(fd, line)
    except OSError:
        pass
"""},
        # ignore the cell's alarm
        "alarm": {**GOOD, "scale": GOOD["scale"] + """
import signal
signal.signal(signal.SIGALRM, signal.SIG_IGN)
signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGALRM})
while True:
    pass
"""},
        # 200 forks, 100 MB written outside the temporary folder and inside it
        "hog": {**GOOD, "momentum_step": REPORT + f'''
import os, time
forks = 0
for _ in range(200):
    try:
        pid = os.fork()
    except OSError:
        break
    if pid == 0:
        time.sleep(5)
        os._exit(0)
    forks += 1
written = {{}}
for path in ({p["junk_file"]!r}, "/tmp/junk"):
    written[path] = 0
    try:
        with open(path, "wb") as handle:
            for _ in range(100):
                handle.write(b"x" * 1024**2)
                written[path] += 1024**2
    except OSError as error:
        written[path + " error"] = type(error).__name__
_report(forks=forks, **written)
'''},
        # output and junk by the hundred megabytes
        "flooder": {**GOOD, "scale": GOOD["scale"] + """
import os, stat, sys
chunk = b"junk" * 250_000
for _ in range(25):            # 30 MB on stdout, 120 MB on stderr
    sys.__stdout__.write("noise " * 200_000)
    sys.__stderr__.write("noise " * 800_000)
for fd in range(3, 256):
    try:
        if stat.S_ISFIFO(os.fstat(fd).st_mode):
            for _ in range(100):
                os.write(fd, chunk)
    except OSError:
        pass
"""},
    }


@pytest.fixture(scope="module")
def batch(tmp_path_factory):
    """Grade the whole hostile class once; (results by student and question, paths,
    seconds per student, the victim's and the course's files before grading)."""
    tmp = tmp_path_factory.mktemp("hostile")
    source, release, submitted = tmp / "source", tmp / "release", tmp / "submitted"
    source.mkdir()
    nbformat.write(make_master(), str(source / "tiny.ipynb"))
    from optlib.coursework import generate

    generate(source, release)
    home = tmp / "home"
    home.mkdir()
    (home / "token.txt").write_text(TOKEN)
    paths = {"master": source / "tiny.ipynb", "classmate": submitted / "zed" / "tiny.ipynb",
             "home_file": home / "token.txt", "out": tmp / "out", "victim": tmp / "victim.txt",
             "junk_file": tmp / "junk.bin", "optlib": Path(optlib.__file__).resolve().parent,
             "site": tuple(site.getsitepackages())}
    paths["victim"].write_text("precious\n")
    for student, answers in attackers(paths).items():
        submit(release, submitted, student, answers)
    submit(release, submitted, "zed", GOOD)           # the honest classmate
    submit(release, submitted, "=SUM(1,1)", GOOD)     # a name a spreadsheet evaluates
    # metadata a tool would choke on
    mangled = submitted / "mangled" / "tiny.ipynb"
    nb = json.loads(mangled.read_text())
    nb["cells"][0]["metadata"]["nbgrader"] = "oops"
    nb["cells"][1]["metadata"]["nbgrader"]["grade_id"] = 5
    nb["cells"].append({"cell_type": "code", "metadata": {"nbgrader": []}, "source": 7,
                        "outputs": [], "execution_count": None})
    mangled.write_text(json.dumps(nb))
    course = [ROOT / "optlib" / "coursework" / "grade.py", *ROOT.glob("optlib/coursework/*.py")]
    before = {
        "victim": paths["victim"].read_bytes(),
        "classmate": paths["classmate"].read_bytes(),
        "course": {str(f): hashlib.sha256(f.read_bytes()).hexdigest() for f in course},
    }
    lines = []
    memory_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    os.environ["OPTLIB_HOSTILE_TOKEN"] = TOKEN
    old_home = os.environ.get("HOME")
    os.environ["HOME"] = str(home)
    try:
        start = time.monotonic()
        results = grade(submitted, source, paths["out"], jobs=2, progress=lambda line: (
            lines.append(line), print(line)),
                        **LIMITS)
        elapsed = time.monotonic() - start
        memory_growth = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024 - memory_before
    finally:
        os.environ.pop("OPTLIB_HOSTILE_TOKEN", None)
        if old_home is None:
            os.environ.pop("HOME", None)
        else:
            os.environ["HOME"] = old_home
    seconds = {}
    for line in lines:
        match = re.match(r"\s*(\S+) .*\(([\d.]+) s\)$", line)
        if match:
            seconds[match.group(1)] = float(match.group(2))
    time.sleep(2)  # a daemon that survived would write now
    table = {}
    for r in results:
        table.setdefault(r.student, {})[r.question] = r
    yield {"results": table, "paths": paths, "seconds": seconds, "before": before,
           "elapsed": elapsed, "course": course, "memory_growth": memory_growth}
    for folder in site.getsitepackages():
        leftover = Path(folder) / "zz_hostile_test.pth"
        if leftover.exists():
            leftover.unlink()


def results(batch, student, question="momentum_step_test"):
    return batch["results"][student][question]


def test_the_honest_classmate_gets_full_marks(batch):
    zed = batch["results"]["zed"]
    assert (zed["momentum_step_test"].points, zed["scale_test"].points) == (3, 1)
    assert zed["momentum_step_test"].status == "passed"   # no forged "tampered" event
    assert not zed["momentum_step_test"].review


def test_every_student_was_graded(batch):
    assert len(batch["results"]) == len(attackers(batch["paths"])) + 2
    assert (batch["paths"]["out"] / "feedback" / "zed" / "tiny.md").is_file()


# --------------------------------------------------------------------- reading secrets


def test_masters_classmates_home_and_the_grader_are_out_of_reach(batch):
    found = evidence(results(batch, "prober"))
    assert found["master"] is None and found["classmate"] is None
    assert found["home_file"] is None and not found["environ_token"]
    assert found["repo_masters"] == [], "the masters are readable from optlib.__file__"
    assert found["repo"] is not None and set(found["repo"]) <= {"optlib", ".venv"}
    assert found["out"] is None
    assert found["parent_cwd"] is None and not found["parent_mem"]
    for secret_path in ("master", "classmate", "out", "home_file"):
        assert str(batch["paths"][secret_path]) not in found["parent_cmdline"]
    assert found["home_env"] == "/tmp"


def test_a_test_cell_echoed_back_shows_no_hidden_test(batch):
    feedback = results(batch, "echo").feedback
    assert "LEAK checks.momentum_step(momentum_step)" in feedback   # the echo came back ...
    assert "scale(-1.5)" not in feedback and "hidden=True" not in feedback  # ... redacted
    assert "[a hidden test]" in feedback
    # the runner never held a model solution
    assert "SOLUTION" not in feedback and "beta * v + grad" not in feedback


# ------------------------------------------------------------------- fooling the judge


def test_a_forged_report_fails_on_the_secret_hidden_problems(batch):
    r = results(batch, "forger")
    assert r.points == 0, r.feedback
    assert r.status == "failed" and "[hidden test]" in r.feedback, r.feedback


def test_a_forged_report_next_to_the_real_one_counts_for_nothing(batch):
    r = results(batch, "doubler")
    assert (r.points, r.status) == (0, "error"), r.feedback
    assert "reported this test 2 times" in r.feedback


def test_rebinding_checks_a_closure_numpy_or_a_builtin_is_caught(batch):
    r = results(batch, "patcher")
    assert (r.points, r.status) == (0, "tampered"), r.feedback
    for name in ("the name checks", "(a variable of its closure)", "numpy.array_equal",
                 "builtins.round"):
        assert name in r.feedback, name
    assert results(batch, "patcher", "scale_test").points == 1   # all undone for the next


def test_an_answer_that_calls_optlibs_optimizer_is_flagged(batch):
    r = results(batch, "borrower")
    assert r.points == 3, r.feedback
    assert "optlib.Momentum.update" in r.review
    with open(batch["paths"]["out"] / "grades.csv", encoding="utf-8") as handle:
        rows = [row for row in csv.DictReader(handle) if row["student"] == "borrower"]
    assert any("optlib.Momentum.update" in row["review"] for row in rows)
    assert "optlib.Momentum" not in results(batch, "zed").review


# ------------------------------------------------------- harming others and the course


def test_no_process_outlives_its_notebook(batch):
    out = batch["paths"]["out"]
    assert not (out / "pwned.txt").exists()
    for name in ("scores.csv", "grades.csv"):
        assert "PWNED" not in (out / name).read_text(encoding="utf-8")
    vandal = batch["results"]["vandal"]
    assert (vandal["momentum_step_test"].points, vandal["scale_test"].points) == (3, 1)
    # the child holding the pipes did not hold up the grader
    assert batch["seconds"]["vandal"] < LIMITS["notebook_timeout"]


def test_the_course_classmates_and_other_files_are_untouched(batch):
    before, paths = batch["before"], batch["paths"]
    assert paths["victim"].read_bytes() == before["victim"]
    assert paths["classmate"].read_bytes() == before["classmate"]
    assert {str(f): hashlib.sha256(f.read_bytes()).hexdigest()
            for f in batch["course"]} == before["course"]
    for folder in site.getsitepackages():
        assert not (Path(folder) / "zz_hostile_test.pth").exists()
    assert not (paths["out"] / "grades.csv").is_symlink()


def test_spreadsheet_formulas_are_escaped(batch):
    out = batch["paths"]["out"]
    assert results(batch, "=SUM(1,1)").points == 3
    for name in ("grades.csv", "scores.csv"):
        text = (out / name).read_text(encoding="utf-8")
        assert "\n'=SUM(1,1)," in text or "\n\"'=SUM(1,1)" in text, name
        with open(out / name, encoding="utf-8") as handle:
            for row in csv.reader(handle):
                for value in row:
                    assert not value.startswith(("=", "+", "-", "@")), value
    assert [_csv_cell(v) for v in ("=1+1", "+1", "-1", "@x", "\tx", "ok", "3")] == [
        "'=1+1", "'+1", "'-1", "'@x", "'\tx", "ok", "3"]


def test_a_huge_message_is_cut(batch):
    r = results(batch, "echo", "scale_test")
    assert r.points == 0 and "=HYPERLINK" in r.feedback
    assert len(r.feedback) <= FEEDBACK_LIMIT + 100
    assert (batch["paths"]["out"] / "grades.csv").stat().st_size < 1024**2


# ------------------------------------------------------------------- stopping the batch


def test_the_grader_cannot_be_killed_from_a_notebook(batch):
    killer = batch["results"]["killer"]     # its kills fail: no grader in its namespace
    assert (killer["momentum_step_test"].points, killer["scale_test"].points) == (3, 1)
    assert "imports signal" in killer["scale_test"].review


def test_malformed_events_and_metadata_cost_nothing_else(batch):
    mangled = batch["results"]["mangled"]
    assert (mangled["momentum_step_test"].points, mangled["scale_test"].points) == (3, 1), (
        mangled["momentum_step_test"].feedback, mangled["scale_test"].feedback)


def test_ignoring_the_alarm_does_not_defeat_the_cell_limit(batch):
    alarm = batch["results"]["alarm"]
    assert alarm["momentum_step_test"].points == 3
    assert alarm["scale_test"].status == "not run"
    assert "stopped responding" in alarm["scale_test"].feedback
    assert batch["seconds"]["alarm"] < LIMITS["notebook_timeout"]


def test_a_fork_bomb_and_a_disk_filler_are_capped(batch):
    found = evidence(results(batch, "hog"))
    limits = sandbox.Limits(1, 1)
    assert found["forks"] < limits.processes
    junk = str(batch["paths"]["junk_file"])
    assert found[junk] == 0 and not batch["paths"]["junk_file"].exists()
    assert found["/tmp/junk"] <= limits.file_size and "/tmp/junk error" in found


def test_a_flood_of_output_is_cut_off(batch):
    flooder = batch["results"]["flooder"]
    assert flooder["momentum_step_test"].points == 3     # graded before the flood
    assert flooder["scale_test"].points == 0
    assert f"more than {EVENTS_LIMIT // 1024**2} MB" in flooder["scale_test"].feedback
    # the grader keeps the end of the output only: 150 MB of it cost it far less
    assert batch["memory_growth"] < 80 * 1024**2, batch["memory_growth"] / 1024**2


# ------------------------------------------------------------------------- the sandbox


def test_the_sandbox(batch):
    found = evidence(results(batch, "prober"))
    limits = sandbox.Limits(1, 1)
    assert found["uid"] != 0 and found["euid"] != 0
    assert max(found["processes"]) < 10                    # its own PID namespace
    assert found["network"] != "connected"
    assert found["writable"] == ["/tmp"]
    assert found["cwd"] == "/tmp"
    # the root holds the system folders and the first folder of each read-only bind
    # (wherever the clone and its venv live: /work, /home, /check ...), nothing else
    bound = {Path(b).parts[1] for b in sandbox.read_only_binds()}
    assert set(found["root"]) <= {"usr", "bin", "lib", "lib64", "lib32", "sbin", "proc",
                                  "dev", "tmp"} | bound, (found["root"], bound)
    assert "etc" not in found["root"] and "var" not in found["root"]
    assert "OPTLIB_HOSTILE_TOKEN" not in found["environment"]
    assert found["tmp_bytes"] <= limits.tmp_size
    assert (found["nproc"], found["fsize"]) == (limits.processes, limits.file_size)
    assert found["memory"] == MEMORY_LIMIT
    assert 0 < found["cpu"] <= LIMITS["notebook_timeout"] + 60
    assert found["secret"] and found["secret"].isdigit()
    assert not found["secret_on_command_line"]
    assert "OPTLIB_GRADING_SECRET" not in os.environ     # the grader put its own back


def test_each_grading_run_draws_its_own_secret(tmp_path):
    prober = {**GOOD, "momentum_step": REPORT + '''
import os
_report(secret=os.environ.get("OPTLIB_GRADING_SECRET"))
'''}
    source, release = tmp_path / "source", tmp_path / "release"
    source.mkdir()
    nbformat.write(make_master(), str(source / "tiny.ipynb"))
    from optlib.coursework import generate

    generate(source, release)
    path = submit(release, tmp_path / "sub", "p", prober)
    secrets_seen = set()
    for _ in range(2):
        results = grade_notebook(source / "tiny.ipynb", path, "p", **LIMITS)
        secrets_seen.add(evidence(results[0])["secret"])
    assert len(secrets_seen) == 2 and all(s and s.isdigit() for s in secrets_seen)


# ------------------------------------------------------- refusing, and the output folder


def test_without_bubblewrap_the_grader_refuses_and_says_what_to_install(monkeypatch,
                                                                        tmp_path, capsys):
    from optlib.coursework.__main__ import main

    monkeypatch.setattr(sandbox, "BWRAP", str(tmp_path / "no-bwrap"))
    monkeypatch.setenv("PATH", str(tmp_path))
    sandbox.check_sandbox.cache_clear()
    try:
        (tmp_path / "submitted" / "s").mkdir(parents=True)
        source = ROOT / "assignments" / "source"
        assert main(["grade", str(tmp_path / "submitted"), "--source", str(source),
                     "--out", str(tmp_path / "out")]) == 2
        message = capsys.readouterr().err
        assert "bubblewrap" in message and "apt-get install bubblewrap" in message
        assert "--no-sandbox" in message
        assert not (tmp_path / "out").exists()
    finally:
        sandbox.check_sandbox.cache_clear()


def test_no_sandbox_is_an_explicit_choice(tmp_path):
    source, release = tmp_path / "source", tmp_path / "release"
    source.mkdir()
    nbformat.write(make_master(), str(source / "tiny.ipynb"))
    from optlib.coursework import generate

    generate(source, release)
    path = submit(release, tmp_path / "sub", "s", GOOD)
    results = grade_notebook(source / "tiny.ipynb", path, "s", sandbox=False, **LIMITS)
    assert [r.points for r in results] == [3, 1, None]


def test_reports_never_follow_a_planted_link(tmp_path):
    victim = tmp_path / "victim.txt"
    victim.write_text("precious\n")
    out = tmp_path / "out"
    out.mkdir()
    (out / MARKER).write_text("")
    (out / "grades.csv").symlink_to(victim)
    (out / "feedback").symlink_to(tmp_path)
    from optlib.coursework.grade import Result

    results = [Result("s", "tiny", "q", 1.0, 1.0, "passed", "ok")]
    write_reports(results, out)
    assert victim.read_text() == "precious\n"
    assert not (out / "grades.csv").is_symlink() and "passed" in (out / "grades.csv").read_text()
    assert not (out / "feedback").is_symlink()
    # a folder of someone else's files, or a link, is never replaced
    (tmp_path / "mine").mkdir()
    (tmp_path / "mine" / "thesis.tex").write_text("x")
    with pytest.raises(GradingError, match="did not write"):
        write_reports(results, tmp_path / "mine")
    (tmp_path / "link").symlink_to(tmp_path / "mine")
    with pytest.raises(GradingError, match="symbolic link"):
        write_reports(results, tmp_path / "link")
    assert (tmp_path / "mine" / "thesis.tex").read_text() == "x"
