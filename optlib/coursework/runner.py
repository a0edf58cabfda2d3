"""Execute one submission, in its own process; the grader starts it (you never need to).

    python -m optlib.coursework.runner RESULTS_FILE  < program.json

The program (JSON on stdin) is the submission's code cells in order, each marked
``code`` or ``test``, with the question it belongs to. The runner

* runs each code cell with a time limit (a cell that raises or runs too long is recorded
  and skipped; the next cells still run);
* runs each test cell in a **forked child** with a time limit: whatever the test does
  (loop forever, crash, patch things) stays in that child. Inside it, every check only
  *probes* (:func:`optlib.checks.recording`): it calls the student's code and records the
  numbers; the grader's own process judges them;
* after every cell, compares optlib's modules with a snapshot taken before any student
  code ran, names anything that was replaced, and puts the original back, so that
  patching optlib cannot leak from one question into the next.

Each event is appended to RESULTS_FILE as one JSON line, as soon as it happens, so the
grader keeps what finished even if this process is killed.
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
    """What optlib's modules, classes and functions are, to detect and undo patching."""

    IGNORE = {"_recorder"}

    def __init__(self):
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

    def _function(self, value):
        if isinstance(value, types.FunctionType) and value.__module__ and \
                value.__module__.startswith("optlib"):
            self.functions.setdefault(value, (value.__code__, value.__defaults__,
                                              value.__kwdefaults__))

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
        for function, (code, defaults, kwdefaults) in self.functions.items():
            if (function.__code__ is not code or function.__defaults__ is not defaults
                    or function.__kwdefaults__ is not kwdefaults):
                changed.append(f"{function.__module__}.{function.__qualname__} (its code)")
                function.__code__, function.__defaults__ = code, defaults
                function.__kwdefaults__ = kwdefaults
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
    text = f": {error}" if str(error) else ""
    return f"{type(error).__name__}{text}{where}"


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


def run_test(cell, namespace, limit, snapshot, emit):
    """Run a test cell in a forked child; emit its event (or a timeout)."""
    pid = os.fork()
    if pid == 0:  # the child: probe, check for tampering, report, exit
        try:
            from optlib import checks

            with checks.recording() as records:
                error, output, timed_out = run_code(cell, namespace, limit)
            tampered = snapshot.restore()
            emit({"event": "test", "index": cell["index"], "question": cell["question"],
                  "error": error, "records": records, "tampered": tampered,
                  "output": output, "timeout": timed_out})
        except BaseException as exc:  # noqa: BLE001
            emit({"event": "test", "index": cell["index"], "question": cell["question"],
                  "error": f"the test could not report: {type(exc).__name__}: {exc}",
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


def main(argv=None):
    argv = sys.argv[1:] if argv is None else argv
    results_path = argv[0]
    program = json.load(sys.stdin)
    limit = program.get("memory_limit")
    if limit:
        resource.setrlimit(resource.RLIMIT_AS, (limit, limit))

    def emit(event):
        line = json.dumps(event, default=repr) + "\n"
        with open(results_path, "a", encoding="utf-8") as handle:
            handle.write(line)

    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import numpy  # noqa: F401

    import optlib
    import optlib.checks  # noqa: F401
    import optlib.coursework.runner  # noqa: F401
    import optlib.measure  # noqa: F401

    del optlib
    plt.show = lambda *args, **kwargs: None
    snapshot = Snapshot()
    namespace = {"__name__": "__main__", "get_ipython": _NoShell}
    emit({"event": "start", "pid": os.getpid()})
    for cell in program["cells"]:
        if cell["kind"] == "test":
            run_test(cell, namespace, program["test_timeout"], snapshot, emit)
            continue
        error, output, timed_out = run_code(cell, namespace, program["cell_timeout"])
        tampered = snapshot.restore()
        plt.close("all")
        emit({"event": "cell", "index": cell["index"], "question": cell["question"],
              "error": error, "tampered": tampered, "output": output, "timeout": timed_out})
    emit({"event": "end"})


if __name__ == "__main__":
    main()
