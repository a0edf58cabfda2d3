"""Execute one submission, in its own process; the grader starts it (you never need to).

The grader starts it inside the sandbox (:mod:`optlib.coursework.sandbox`) as
``python -c "... from optlib.coursework.runner import main; main()"``, sends the program
(JSON) on stdin and reads the events from a pipe whose file descriptor the program names
(``channel_fd``; the runner's stdout and stderr only feed a short log). The
program is the submission's code cells in order, each marked ``code`` or ``test``, with
the question it belongs to; it holds the master's test and locked cells but never a model
solution. The runner

* runs each code cell with a time limit (a cell that raises or runs too long is recorded
  and skipped; the next cells still run);
* runs each test cell in a **forked child** with a time limit: whatever the test does
  (loop forever, crash, patch things) stays in that child. Inside it, every check only
  *probes* (:func:`optlib.checks.recording`): it calls the student's code and records the
  numbers; the grader's own process judges them, outside the sandbox;
* before each test binds ``checks`` to the real :mod:`optlib.checks`, and counts the
  calls the student's code makes to optlib's own optimizers while the checks run (the
  grader flags them for review);
* after every cell, compares optlib's modules, classes, functions and their closures,
  numpy's modules and the builtins with a snapshot taken before any student code ran,
  names anything that was replaced, and puts the original back, so that patching cannot
  leak from one question into the next.

None of this is a security boundary: the student's code runs in this process and could
undo any of it. The boundary is the sandbox around the process, and the grader, which
trusts nothing that comes back (every event is validated, and every number judged
again outside). These checks name the naive attempts, and honest mistakes.

Each event is one JSON line, written as soon as it happens, so the grader keeps what
finished even if this process is killed.
"""

import contextlib
import io
import json
import linecache
import os
import resource
import signal
import sys
import time
import traceback
import types

OUTPUT_LIMIT = 4000
#: The longest error text the runner reports (the grader truncates again).
ERROR_LIMIT = 1500
#: The file descriptor the events go to (the grader's pipe).
CHANNEL_FD = 3
#: The largest program the runner reads from stdin, in bytes.
PROGRAM_LIMIT = 32 * 1024**2


class CellTimeout(BaseException):
    """Raised in a cell that ran past its time limit (a BaseException, so that a bare
    ``except Exception`` in student code does not swallow it)."""


class _NoShell:
    """Stands in for ``get_ipython()``: magics do nothing when grading."""

    def __getattr__(self, name):
        return lambda *args, **kwargs: None


# ---------------------------------------------------------------- the optlib snapshot


def _optlib_modules():
    return {name: module for name, module in sys.modules.items()
            if (name == "optlib" or name.startswith("optlib.")) and module is not None}


class Snapshot:
    """What optlib's modules, classes and functions (with their closures), numpy's modules
    and the builtins are, to detect and undo patching."""

    IGNORE = {"_recorder"}

    def __init__(self):
        import builtins

        self.modules = dict(_optlib_modules())
        self.attributes = {}
        self.classes = {}
        self.functions = {}
        for name, module in self.modules.items():
            self.attributes[name] = dict(vars(module))
            for value in vars(module).values():
                if isinstance(value, type) and value.__module__.startswith("optlib"):
                    self.classes.setdefault(value, dict(vars(value)))
                    for item in vars(value).values():
                        self._function(item)
                self._function(value)
        # numpy's modules and the builtins: what the checks compute with
        self.foreign = {name: (module, dict(vars(module)))
                        for name, module in list(sys.modules.items())
                        if module is not None and (name == "numpy" or name.startswith("numpy."))}
        self.foreign["builtins"] = (builtins, dict(vars(builtins)))

    def _function(self, value, depth=0):
        if isinstance(value, (staticmethod, classmethod)):
            value = value.__func__
        if isinstance(value, property):
            for part in (value.fget, value.fset, value.fdel):
                self._function(part, depth)
            return
        if not (isinstance(value, types.FunctionType) and value.__module__
                and value.__module__.startswith("optlib")) or value in self.functions:
            return
        cells = []
        for cell in value.__closure__ or ():
            try:
                cells.append(cell.cell_contents)
            except ValueError:  # an empty cell
                cells.append(_MISSING)
        self.functions[value] = (value.__code__, value.__defaults__, value.__kwdefaults__,
                                 tuple(cells))
        if depth < 3:  # the functions a check's closure holds (its probe, its judge ...)
            for item in cells:
                self._function(item, depth + 1)

    def restore(self):
        """Undo every change since the snapshot; the list of what had changed."""
        changed = []
        for name, module in self.modules.items():
            if sys.modules.get(name) is not module:
                changed.append(f"sys.modules[{name!r}]")
                sys.modules[name] = module
            current, saved = vars(module), self.attributes[name]
            for key in set(current) | set(saved):
                if key in self.IGNORE or key.startswith("__"):
                    continue
                if key not in saved:
                    value = current[key]
                    if isinstance(value, types.ModuleType) and value.__name__ == f"{name}.{key}":
                        continue  # a submodule imported later: not a change
                    changed.append(f"{name}.{key} (added)")
                    delattr(module, key)
                elif current.get(key, _MISSING) is not saved[key]:
                    changed.append(f"{name}.{key}")
                    setattr(module, key, saved[key])
        for cls, saved in self.classes.items():
            current = dict(vars(cls))
            for key in set(current) | set(saved):
                if key in ("__dict__", "__weakref__", "__doc__", "__abstractmethods__",
                           "_abc_impl"):
                    continue
                if key not in saved:
                    if key.startswith("__"):
                        continue  # e.g. __slotnames__, cached by copy and pickle
                    changed.append(f"{cls.__module__}.{cls.__qualname__}.{key} (added)")
                    delattr(cls, key)
                elif current.get(key, _MISSING) is not saved[key]:
                    changed.append(f"{cls.__module__}.{cls.__qualname__}.{key}")
                    setattr(cls, key, saved[key])
        for function, (code, defaults, kwdefaults, cells) in self.functions.items():
            if (function.__code__ is not code or function.__defaults__ is not defaults
                    or function.__kwdefaults__ is not kwdefaults):
                changed.append(f"{function.__module__}.{function.__qualname__} (its code)")
                function.__code__, function.__defaults__ = code, defaults
                function.__kwdefaults__ = kwdefaults
            for cell, saved in zip(function.__closure__ or (), cells):
                try:
                    now = cell.cell_contents
                except ValueError:
                    now = _MISSING
                if now is not saved and saved is not _MISSING:
                    changed.append(f"{function.__module__}.{function.__qualname__} "
                                   "(a variable of its closure)")
                    cell.cell_contents = saved
        for name, (module, saved) in self.foreign.items():
            if name != "builtins" and sys.modules.get(name) is not module:
                changed.append(f"sys.modules[{name!r}]")
                sys.modules[name] = module
            current = vars(module)
            for key, value in saved.items():
                if key in ("__doc__", "__loader__", "__spec__", "_", "__warningregistry__"):
                    continue
                if current.get(key, _MISSING) is not value:
                    if name != "builtins" and not (callable(value) or isinstance(
                            value, types.ModuleType)):
                        continue  # numpy's own state (caches, options): not the student's
                    changed.append(f"{name}.{key}")
                    setattr(module, key, value)
        return sorted(set(changed))


_MISSING = object()


# ------------------------------------------------------------------------ running cells


def _compile(cell):
    from IPython.core.inputtransformer2 import TransformerManager

    source = TransformerManager().transform_cell(cell["source"])
    filename = f"<cell {cell['index']}>"
    linecache.cache[filename] = (len(source), None, source.splitlines(True), filename)
    return compile(source, filename, "exec")


def _on_alarm(signum, frame):
    raise CellTimeout()


def _describe(error, limit):
    if isinstance(error, CellTimeout):
        return f"did not finish within {limit:g} s (an endless loop?)"
    frames = traceback.extract_tb(error.__traceback__)
    student = [f for f in frames if f.filename.startswith("<cell ")]
    where = ""
    if student:
        frame = student[-1]
        where = f" ({frame.filename[1:-1]}, line {frame.lineno}: {(frame.line or '').strip()})"
    if isinstance(error, NotImplementedError):
        return f"NotImplementedError: not answered yet{where}"
    try:
        text = str(error)
    except BaseException:  # noqa: BLE001 - a student's exception whose __str__ raises
        text = "(its message could not be read)"
    text = f": {text[:ERROR_LIMIT]}" if text else ""
    return f"{type(error).__name__}{text}{where}"[:ERROR_LIMIT + 300]


def run_code(cell, namespace, limit):
    """Run one code cell; (error text or None, captured output, whether it timed out)."""
    out = io.StringIO()
    error, timed_out = None, False
    signal.signal(signal.SIGALRM, _on_alarm)
    try:
        code = _compile(cell)
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(out):
            signal.setitimer(signal.ITIMER_REAL, limit)
            try:
                exec(code, namespace)
            finally:
                signal.setitimer(signal.ITIMER_REAL, 0)
    except BaseException as exc:  # noqa: BLE001 - a cell may raise anything, even SystemExit
        error, timed_out = _describe(exc, limit), isinstance(exc, CellTimeout)
    return error, out.getvalue()[-OUTPUT_LIMIT:], timed_out


def _count_optimizer_calls():
    """Wrap the ``update`` of every optimizer in :mod:`optlib.optimizers` with a counter;
    (counts, undo)."""
    from optlib import optimizers

    counts, originals = {}, []
    for cls in list(vars(optimizers).values()):
        if not (isinstance(cls, type) and issubclass(cls, optimizers.Optimizer)
                and "update" in vars(cls)):
            continue
        original, label = vars(cls)["update"], f"optlib.{cls.__name__}.update"

        def counted(*args, _original=original, _label=label, **kwargs):
            counts[_label] = counts.get(_label, 0) + 1
            return _original(*args, **kwargs)

        originals.append((cls, original))
        cls.update = counted

    def undo():
        for cls, original in originals:
            cls.update = original

    return counts, undo


def _in_sandbox():
    """True in the bubblewrap sandbox: this runner's parent is the first process of a PID
    namespace of its own (bubblewrap), so every other process there is the notebook's."""
    if os.environ.get("OPTLIB_SANDBOX") != "bubblewrap" or os.getppid() != 1:
        return False
    try:
        with open("/proc/1/cmdline", "rb") as handle:
            return b"bwrap" in handle.read().split(b"\0")[0]
    except OSError:
        return False


def _end_strays():
    """End every process of the sandbox but the runner and bubblewrap: what a cell left
    behind (a daemon, sleeping children) holds no process slot, pipe or CPU into the next
    cell. Only called in the sandbox (see :func:`_in_sandbox`)."""
    me = os.getpid()
    for name in os.listdir("/proc"):
        if name.isdigit() and int(name) not in (1, me):
            try:
                os.kill(int(name), signal.SIGKILL)
            except OSError:
                pass
    deadline = time.monotonic() + 2
    while time.monotonic() < deadline:  # reap our own children (zombies hold a slot)
        try:
            pid, _ = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return
        if pid == 0:
            time.sleep(0.01)


def run_test(cell, namespace, limit, snapshot, emit, checks_module):
    """Run a test cell in a forked child; emit its event (or a timeout)."""
    try:
        pid = os.fork()
    except OSError as error:
        emit({"event": "test", "index": cell["index"], "question": cell["question"],
              "error": f"the test could not start ({type(error).__name__}: {error})",
              "records": [], "tampered": [], "output": ""})
        return
    if pid == 0:  # the child: probe, check for tampering, report, exit
        try:
            tampered = snapshot.restore()
            if namespace.get("checks", checks_module) is not checks_module:
                tampered.append("the name checks (rebound in the notebook)")
            namespace["checks"] = checks_module  # the test calls the real checks
            calls, undo = _count_optimizer_calls()
            with checks_module.recording() as records:
                error, output, timed_out = run_code(cell, namespace, limit)
            undo()
            tampered += snapshot.restore()
            emit({"event": "test", "index": cell["index"], "question": cell["question"],
                  "error": error, "records": records, "tampered": sorted(set(tampered)),
                  "output": output, "timeout": timed_out, "optlib_calls": calls})
        except BaseException as exc:  # noqa: BLE001
            emit({"event": "test", "index": cell["index"], "question": cell["question"],
                  "error": "the test could not report: " + _describe(exc, limit),
                  "records": [], "tampered": [], "output": ""})
        finally:
            os._exit(0)
    deadline = time.monotonic() + limit + 5
    while True:
        done, status = os.waitpid(pid, os.WNOHANG)
        if done:
            if os.WIFSIGNALED(status) or os.WEXITSTATUS(status) != 0:
                emit({"event": "test", "index": cell["index"], "question": cell["question"],
                      "error": "the test's process died (status "
                               f"{status}) before reporting", "records": [], "tampered": [],
                      "output": "", "died": True})
            return
        if time.monotonic() > deadline:
            os.kill(pid, signal.SIGKILL)
            os.waitpid(pid, 0)
            emit({"event": "test", "index": cell["index"], "question": cell["question"],
                  "error": f"did not finish within {limit:g} s (an endless loop?)",
                  "records": [], "tampered": [], "output": "", "timeout": True})
            return
        time.sleep(0.02)


def _set_limits(limits):
    """Set the limits the sandbox would set (a runner started with --no-sandbox)."""
    for name, value in limits:
        number = getattr(resource, name)
        soft, hard = resource.getrlimit(number)
        value = int(value) if hard == resource.RLIM_INFINITY else min(int(value), hard)
        resource.setrlimit(number, (value, value))


def _channel(fd):
    """A function that writes one event (one JSON line) to the grader's pipe ``fd``."""
    os.set_inheritable(fd, True)  # the test's forked child writes to it too

    def emit(event):
        data = (json.dumps(event, default=repr) + "\n").encode("utf-8", "replace")
        while data:
            data = data[os.write(fd, data):]

    return emit


def main(argv=None):
    raw = sys.stdin.buffer.read(PROGRAM_LIMIT + 1)
    if len(raw) > PROGRAM_LIMIT:
        raise SystemExit("the program is too large")
    program = json.loads(raw)
    os.close(0)
    os.open(os.devnull, os.O_RDONLY)  # fd 0 again: nothing more comes on stdin
    if os.environ.pop("OPTLIB_RUNNER_RLIMITS", None):
        _set_limits(program.get("rlimits") or [])
    limit = program.get("memory_limit")
    if limit:
        resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
    if program.get("secret"):
        # the hidden problems' seed, for optlib.checks (never on a command line)
        os.environ["OPTLIB_GRADING_SECRET"] = str(program["secret"])
    emit = _channel(int(program.get("channel_fd", CHANNEL_FD)))

    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import numpy  # noqa: F401

    import optlib
    import optlib.checks
    import optlib.coursework.runner  # noqa: F401
    import optlib.measure  # noqa: F401

    checks_module = optlib.checks
    sandboxed = _in_sandbox()
    del optlib
    plt.show = lambda *args, **kwargs: None
    snapshot = Snapshot()
    namespace = {"__name__": "__main__", "get_ipython": _NoShell}
    emit({"event": "start", "pid": os.getpid()})
    for cell in program["cells"]:
        emit({"event": "begin", "index": cell["index"], "kind": cell["kind"]})
        if cell["kind"] == "test":
            run_test(cell, namespace, program["test_timeout"], snapshot, emit, checks_module)
            if sandboxed:
                _end_strays()
            continue
        error, output, timed_out = run_code(cell, namespace, program["cell_timeout"])
        if sandboxed:
            _end_strays()
        tampered = snapshot.restore()
        if namespace.get("checks", checks_module) is not checks_module:
            tampered.append("the name checks (rebound in the notebook)")
            namespace["checks"] = checks_module
        plt.close("all")
        emit({"event": "cell", "index": cell["index"], "question": cell["question"],
              "error": error, "tampered": tampered, "output": output, "timeout": timed_out})
    emit({"event": "end"})


if __name__ == "__main__":
    main()
