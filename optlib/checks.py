"""Diagnostic checks for the course's assignments.

Each check runs a student's function on small random problems, step by step, next to
optlib, and says *what* is wrong rather than "assertion failed": the first step where
the student's trajectory departs from optlib's, how big the step was against how big it
should have been, and, when the trajectory matches a known mistake exactly (no bias
correction, the source article's Nesterov look-ahead, a sign error ...), that mistake by
name. ::

    from optlib import checks
    checks.momentum_step(momentum_step)           # prints "✓ ..." or raises CheckFailed

A check has two halves, kept apart so that grading can run them in different processes:

* the **probe** calls the student's code on the problems and turns what comes back into
  plain numbers (JSON-ready lists and floats); it is the only half that runs student code;
* the **judge** regenerates the same problems, computes optlib's answers itself and
  compares. It never runs student code.

In a notebook both halves run in turn. The grader (:mod:`optlib.coursework`) runs the
probe inside the process that executes the submission, ships the numbers out as JSON,
and judges them in its own process with an optlib the submission never touched (see
:func:`recording` and :func:`judge`).

You can skip this module on first reading: it is tooling for the assignments.
"""

import contextlib
import functools
import math
import numbers
import os
import statistics
import threading
import traceback
import zlib

import numpy as np

from ._blas import one_blas_thread
from .landscapes import Ravine, Rosenbrock
from .optimizers import SGD, Adam, Momentum, Nesterov

__all__ = [
    "CheckFailed", "Verdict", "CHECKS", "judge", "recording",
    "momentum_step", "momentum_path", "ravine_problem", "ravine_tuning",
    "nesterov_step", "nesterov_rewritten_step", "article_nesterov",
    "adam_moments", "adam_step", "uncorrected_first_step",
    "warmup_cosine", "digits_data", "digits_seeds", "digits_run", "digits_tuning",
    "DIGITS_SETUP", "DIGITS_GRID", "DIGITS_SCHEDULES", "GRADING_SECRET", "grading_secret",
    "rmsprop_step", "clip_global_norm", "training_loop",
]


class CheckFailed(AssertionError):
    """A check found a difference; the message says where and, if it can, why."""


class Verdict:
    """A judge's answer: ``passed`` (bool) and ``message`` (str)."""

    def __init__(self, passed, message):
        self.passed, self.message = bool(passed), str(message)

    def __repr__(self):
        return f"Verdict(passed={self.passed}, message={self.message!r})"


#: name -> (probe, judge). A probe is ``probe(subject, hidden) -> outputs`` (JSON-ready);
#: a judge is ``judge(outputs, hidden) -> Verdict``.
CHECKS = {}

_recorder = None


@contextlib.contextmanager
def recording():
    """Within this block, every check only probes: it appends ``{"check", "hidden",
    "outputs"}`` to the list this context yields, instead of judging. The grader uses it."""
    global _recorder
    previous, records = _recorder, []
    _recorder = records
    try:
        yield records
    finally:
        _recorder = previous


def judge(name, outputs, hidden=False):
    """Judge a probe's ``outputs`` for check ``name``; a :class:`Verdict`. Never raises:
    malformed outputs give a failing verdict."""
    if name not in CHECKS:
        return Verdict(False, f"unknown check {name!r}")
    try:
        return CHECKS[name][1](outputs, bool(hidden))
    except Exception as error:  # malformed outputs (e.g. forged by a submission)
        return Verdict(False, f"the check could not read the results: {type(error).__name__}: "
                              f"{error}")


def _register(name, probe, judge_fn):
    CHECKS[name] = (probe, judge_fn)

    def run(subject, hidden=False):
        outputs = probe(subject, bool(hidden))
        if _recorder is not None:
            _recorder.append({"check": name, "hidden": bool(hidden), "outputs": outputs})
            return None
        verdict = judge(name, outputs, hidden)
        if not verdict.passed:
            raise CheckFailed(verdict.message)
        print("✓ " + verdict.message)
        return None

    run.__name__ = name
    return run


# ------------------------------------------------------------------------------ helpers


def _fmt(x, digits=4):
    """A number or a short vector, compactly."""
    a = np.asarray(x, dtype=float)
    if a.ndim == 0:
        return f"{float(a):.{digits}g}"
    if a.size > 4:
        return "[" + ", ".join(f"{v:.{digits}g}" for v in a.ravel()[:4]) + ", …]"
    return "[" + ", ".join(f"{v:.{digits}g}" for v in a.ravel()) + "]"


def _where(error_tb):
    """'(line N: code)' for the last frame of a traceback in student code."""
    frames = [f for f in traceback.extract_tb(error_tb) if f.filename != __file__]
    if not frames:
        return ""
    frame = frames[-1]
    line = (frame.line or "").strip()
    return f" (line {frame.lineno}: {line})" if line else f" (line {frame.lineno})"


def _describe_error(fn_name, error):
    if isinstance(error, NotImplementedError):
        return f"{fn_name} is not written yet (it raises NotImplementedError)"
    text = f": {error}" if str(error) else ""
    return f"{fn_name} raised {type(error).__name__}{text}{_where(error.__traceback__)}"


class _BadResult(Exception):
    pass


def _arrays(result, count, like, fn_name, names):
    """``result`` as ``count`` float arrays shaped like ``like``, or _BadResult."""
    expected = f"a tuple ({', '.join(names)})" if count > 1 else f"{names[0]}"
    if count > 1:
        if not isinstance(result, (tuple, list)) or len(result) != count:
            if result is None:
                got = "None (is the return statement missing?)"
            elif isinstance(result, (tuple, list)):
                got = f"a {type(result).__name__} of length {len(result)}"
            else:
                got = f"a {type(result).__name__}"
            raise _BadResult(f"{fn_name} returned {got}; it should return {expected}")
        items = list(result)
    else:
        items = [result]
    arrays = []
    for name, item in zip(names, items):
        try:
            array = np.array(item, dtype=float)
        except (TypeError, ValueError):
            raise _BadResult(f"{fn_name} returned {type(item).__name__} for {name}; "
                             f"expected an array shaped like theta {like.shape}") from None
        if array.shape != like.shape:
            raise _BadResult(f"{fn_name} returned {name} with shape {array.shape}; "
                             f"expected {like.shape}, the shape of its input")
        arrays.append(array)
    return arrays


def _lists(a):
    return np.asarray(a, dtype=float).tolist()


def _close(a, b, scale, rtol=1e-7):
    a, b = np.asarray(a, float), np.asarray(b, float)
    if a.shape != b.shape:
        return False
    return bool(np.all(np.abs(a - b) <= rtol * np.maximum(np.abs(b), scale) + 1e-300)
                & np.all(np.isfinite(a) == np.isfinite(b)))


# ------------------------------------------------------------- problems: random quadratics


class _Quadratic:
    """f(θ) = ½ θᵀAθ − bᵀθ with A symmetric positive definite; ∇f = Aθ − b."""

    def __init__(self, seed, scale=1.0):
        rng = np.random.default_rng(seed)
        d = int(rng.integers(1, 5))
        Q, _ = np.linalg.qr(rng.normal(size=(d, d)))
        eigenvalues = np.exp(rng.uniform(np.log(0.05), np.log(1.0), size=d))
        self.A = (Q * eigenvalues) @ Q.T * scale
        self.b = rng.normal(size=d) * scale
        self.theta0 = rng.normal(size=d) * 2
        self.d = d

    def grad(self, theta):
        return self.A @ theta - self.b


#: The environment variable holding the grading secret (a decimal integer). The grader
#: sets it, for the submission's process and for its own, so that the hidden problems are
#: drawn at grading time and appear nowhere in this (public) package.
GRADING_SECRET = "OPTLIB_GRADING_SECRET"

#: Entropy for the hidden problems when no secret is set (a notebook run at home, nbval
#: running the masters): other problems than the visible ones, but public, so passing
#: them at home says nothing about the graded hidden tests.
_NO_SECRET = 0x6E6F5F73


def grading_secret():
    """The grading secret from ``OPTLIB_GRADING_SECRET``, or None when it is not set.

    Raises:
        ValueError: if it is set to anything but a non-negative decimal integer.
    """
    text = os.environ.get(GRADING_SECRET, "").strip()
    if not text:
        return None
    if not text.isdigit():
        raise ValueError(f"{GRADING_SECRET} must be a non-negative decimal integer, got "
                         f"{text[:40]!r}")
    return int(text)


def _hidden_sequence(check):
    """The SeedSequence of check ``check``'s hidden problems: from the grading secret
    when it is set, else from a public fallback (never the visible seeds)."""
    secret = grading_secret()
    if secret is None:
        base = [_NO_SECRET]
    else:  # the secret as 32-bit words (SeedSequence's entropy), marked apart from the fallback
        base = [1]
        while True:
            base.append(secret & 0xFFFFFFFF)
            secret >>= 32
            if not secret:
                break
    return np.random.SeedSequence([*base, zlib.crc32(check.encode("utf-8"))])


def _hidden_rng(check):
    """A generator for check ``check``'s hidden problems (see :func:`_hidden_sequence`)."""
    return np.random.default_rng(_hidden_sequence(check))


def _probe_course_seed():
    """The course seed in the submission's process, recorded with a probe's outputs so
    that the judge builds the same visible problems even if its own environment differs
    (a sandbox may clear ``OPTLIB_SEED``). Any value only picks other public problems."""
    from .seeding import course_seed

    return course_seed()


def _judge_course_seed(outputs):
    """The course seed a probe recorded; ValueError (a failing verdict) if it is not a
    non-negative integer."""
    seed = outputs.get("course_seed")
    if isinstance(seed, bool) or not isinstance(seed, int) or seed < 0:
        raise ValueError(f"course_seed must be a non-negative integer, got {seed!r}")
    return seed


def _seeds(hidden, check, visible, n_hidden=12):
    """The problem seeds of a check: the public ``visible`` ones, or ``n_hidden`` seeds
    drawn from the grading secret."""
    if not hidden:
        return list(visible)
    return [int(s) for s in _hidden_sequence(check).generate_state(n_hidden)]


# ---------------------------------------------------- the stepping checks: shared engine


def _simulate(step, problem, hyper, steps, call):
    """Run ``step`` in a closed loop on ``problem``; the trace as JSON-ready lists.

    ``call(step, theta, state, k) -> (theta, state, queries)`` adapts one update to the
    function's signature. The trace holds the parameters θ_0 … θ_K, the state after each
    step, the gradient queries (Nesterov), and an error (text and step) if the call
    failed; ``mutated`` says whether the function changed one of its inputs in place."""
    theta = problem.theta0.copy()
    state = None
    trace = {"thetas": [_lists(theta)], "states": [], "queries": [], "error": None,
             "error_step": None, "mutated": False}
    for k in range(1, steps + 1):
        try:
            theta, state, queries, mutated = call(step, theta, state, k, problem, hyper)
        except _BadResult as bad:
            trace["error"], trace["error_step"] = str(bad), k
            break
        except Exception as error:
            trace["error"], trace["error_step"] = _describe_error(_name(step), error), k
            break
        trace["thetas"].append(_lists(theta))
        trace["states"].append([_lists(s) for s in state])
        trace["queries"].append([_lists(q) for q in queries])
        trace["mutated"] = trace["mutated"] or mutated
        if not np.all(np.isfinite(theta)):
            break
    return trace


def _name(fn):
    return getattr(fn, "__name__", type(fn).__name__)


def _call_with_grad(n_state, state_names):
    """Adapter for ``fn(theta, *state, grad, **hyper) -> (theta, *state)``."""

    def call(fn, theta, state, k, problem, hyper):
        state = state if state is not None else [np.zeros_like(theta)] * n_state
        g = problem.grad(theta)
        inputs = [theta.copy(), *[s.copy() for s in state], g.copy()]
        kept = [x.copy() for x in inputs]
        result = fn(*inputs, *hyper(k).values())
        out = _arrays(result, 1 + n_state, theta, _name(fn), ["theta_new", *state_names])
        mutated = any(not np.array_equal(a, b) for a, b in zip(inputs, kept))
        return out[0], out[1:], [], mutated

    return call


def _call_with_grad_fn(fn, theta, state, k, problem, hyper):
    """Adapter for ``fn(theta, v, grad_fn, lr, beta) -> (theta, v)``, recording queries."""
    v = state[0] if state is not None else np.zeros_like(theta)
    queries = []

    def grad_fn(point):
        point = np.array(point, dtype=float)
        queries.append(point.copy())
        return problem.grad(point)

    inputs = [theta.copy(), v.copy()]
    kept = [x.copy() for x in inputs]
    result = fn(inputs[0], inputs[1], grad_fn, *hyper(k).values())
    out = _arrays(result, 2, theta, _name(fn), ["theta_new", "v_new"])
    mutated = any(not np.array_equal(a, b) for a, b in zip(inputs, kept))
    return out[0], out[1:], queries, mutated


def _reference_trace(optimizer, state_names, problem, steps):
    """optlib's trace in the same format as :func:`_simulate`'s."""
    theta = problem.theta0.copy()
    trace = {"thetas": [_lists(theta)], "states": [], "queries": []}
    for _ in range(steps):
        trace["queries"].append([_lists(theta)])
        theta = optimizer.step(theta, problem.grad(theta))
        state = optimizer.state
        trace["thetas"].append(_lists(theta))
        trace["states"].append([_lists(state[n]) for n in state_names])
    return trace


def _first_departure(trace, reference, scale):
    """(step, what) of the first difference between two traces, or None if they agree.
    ``what`` is "theta" or the index of the state array that differs first. A state array
    is compared more loosely, relative to its own largest value over the run: a state
    error worth naming (v in other units, m̂ stored for m) is never subtle."""
    state_scales = [1e-2 * max(1e-300, max(float(np.max(np.abs(step[i]), initial=0.0))
                                           for step in reference["states"]))
                    for i in range(len(reference["states"][0]) if reference["states"] else 0)]
    for k in range(1, len(reference["thetas"])):
        if k >= len(trace["thetas"]):
            return k, "missing"
        if not _close(trace["thetas"][k], reference["thetas"][k], scale):
            return k, "theta"
        for i, (mine, ref) in enumerate(zip(trace["states"][k - 1], reference["states"][k - 1])):
            if not _close(mine, ref, state_scales[i], rtol=1e-5):
                return k, i
    return None


def _matches(trace, other, scale):
    """Whether two traces agree on θ at every step the shorter one has."""
    n = min(len(trace["thetas"]), len(other["thetas"]))
    return n > 1 and all(_close(trace["thetas"][k], other["thetas"][k], scale)
                         for k in range(1, n))


def _stepping_judge(*, fn_label, reference_label, problems, reference, variants,
                    state_names, diagnose_state=None, diagnose_queries=None):
    """Build a judge for a stepping check.

    problems(hidden) -> list of (problem, hyper, steps, description);
    reference(problem, hyper, steps) -> trace;
    variants: list of (step function, call, message) for known mistakes: when the
    student's θ trace equals a variant's at every step, the message names the mistake.
    """

    def judge_fn(outputs, hidden):
        traces = outputs["traces"]
        cases = problems(hidden)
        if len(traces) != len(cases):
            return Verdict(False, f"expected results for {len(cases)} problems, got "
                                  f"{len(traces)}")
        for p, ((problem, hyper, steps, description), trace) in enumerate(zip(cases, traces)):
            where = f"problem {p + 1} ({description})"
            ref = reference(problem, hyper, steps)
            scale = 1e-3 * max(1.0, float(np.max(np.abs(problem.theta0))))
            if trace["error"] is not None:
                k = trace["error_step"]
                return Verdict(False, f"{where}, step {k}: {trace['error']}")
            if trace["mutated"]:
                return Verdict(False, f"{where}: {fn_label} changed one of its input arrays "
                                      "in place (e.g. `theta -= ...`). Build new arrays "
                                      "instead (`theta = theta - ...`): the caller's arrays "
                                      "must not change.")
            if diagnose_queries is not None:
                for j, queries in enumerate(trace["queries"], start=1):
                    if len(queries) != 1:
                        return Verdict(False, f"{where}, step {j}: {fn_label} called grad_fn "
                                              f"{len(queries)} times; one gradient per step, at "
                                              "the look-ahead point θ − αβv, is all it needs.")
            departure = _first_departure(trace, ref, scale)
            if departure is None:
                continue
            k, what = departure
            if diagnose_queries is not None:
                message = diagnose_queries(trace, ref, hyper, k)
                if message:
                    return Verdict(False, f"{where}, step {k}: {message}")
            for step, call, message in variants:
                with np.errstate(all="ignore"):
                    other = _simulate(step, problem, hyper, steps, call)
                if (len(other["thetas"]) == len(trace["thetas"])
                        and _matches(trace, other, scale) and not _matches(other, ref, scale)):
                    k_theta = _first_departure({**trace, "states": ref["states"]}, ref, scale)
                    k_theta = k if k_theta is None else k_theta[0]
                    return Verdict(False, _first_step_note(trace, ref, k_theta, where,
                                                           reference_label) + message)
            if what == "theta":
                return Verdict(False, _first_step_note(trace, ref, k, where, reference_label)
                               + _mismatch_hint(trace, ref, k))
            if what == "missing":
                return Verdict(False, f"{where}: your trajectory stops at step {k - 1} "
                                      "(it became inf or nan).")
            mine, theirs = trace["states"][k - 1][what], ref["states"][k - 1][what]
            extra = diagnose_state(mine, theirs, hyper(k), what) if diagnose_state else ""
            return Verdict(False, f"{where}, step {k}: θ matches {reference_label}, but your "
                                  f"{state_names[what]} is {_fmt(mine)} where it should be "
                                  f"{_fmt(theirs)}. {extra}".rstrip())
        steps = sum(c[2] for c in cases)
        return Verdict(True, f"{fn_label} matches {reference_label} on {len(cases)} "
                             f"{'hidden ' if hidden else ''}random problems ({steps} steps "
                             "in all).")

    return judge_fn


def _first_step_note(trace, ref, k, where, reference_label):
    before = np.asarray(ref["thetas"][k - 1], float)
    mine = np.asarray(trace["thetas"][k], float)
    theirs = np.asarray(ref["thetas"][k], float)
    mine_before = np.asarray(trace["thetas"][k - 1], float)
    moved = float(np.linalg.norm(mine - mine_before))
    should = float(np.linalg.norm(theirs - before))
    ordinal = "first step" if k == 1 else f"step {k}"
    matched = "" if k == 1 else f" (steps 1–{k - 1} matched)"
    if abs(moved - should) <= 1e-3 * should:
        size = f"your {ordinal} has the right length ({should:.3g}) but goes elsewhere"
    else:
        size = f"your {ordinal} moved θ by {moved:.3g} instead of {should:.3g}"
    return (f"{where}: {size}{matched}; θ is {_fmt(mine)} where {reference_label} gives "
            f"{_fmt(theirs)}. ")


def _mismatch_hint(trace, ref, k):
    mine_before = np.asarray(trace["thetas"][k - 1], float)
    step_mine = np.asarray(trace["thetas"][k], float) - mine_before
    step_ref = np.asarray(ref["thetas"][k], float) - np.asarray(ref["thetas"][k - 1], float)
    n_ref = np.linalg.norm(step_ref)
    if n_ref == 0:
        return ""
    cosine = float(step_mine @ step_ref / (np.linalg.norm(step_mine) * n_ref + 1e-300))
    ratio = float(np.linalg.norm(step_mine) / n_ref)
    if cosine < -0.99:
        return "Your step points the opposite way: is there a sign error (θ + … instead of θ − …)?"
    if cosine > 0.999 and not 0.999 < ratio < 1.001:
        return f"Your step has the right direction but {ratio:.3g}× the length."
    return "Compare your update with the equations line by line."


# -------------------------------------------------------------------------------- momentum


def _momentum_problems(hidden):
    cases = []
    for i, seed in enumerate(_seeds(hidden, "momentum_step", (1, 2, 3))):
        problem = _Quadratic(seed)
        lr = [0.1, 0.3, 0.05, 0.2][i % 4]
        beta = [0.9, 0.5, 0.99, 0.0, 0.8][i % 5]
        cases.append((problem, (lambda k, lr=lr, beta=beta: {"lr": lr, "beta": beta}), 25,
                      f"d = {problem.d}, lr = {lr}, beta = {beta}"))
    return cases


def _momentum_reference(problem, hyper, steps):
    return _reference_trace(Momentum(**hyper(1)), ["v"], problem, steps)


_CALL_MOMENTUM = _call_with_grad(1, ["v_new"])


def _mom_sign(theta, v, grad, lr, beta):
    v = beta * v + grad
    return theta + lr * v, v


def _mom_ema(theta, v, grad, lr, beta):
    v = beta * v + (1 - beta) * grad
    return theta - lr * v, v


def _mom_old_v(theta, v, grad, lr, beta):
    theta_new = theta - lr * v
    return theta_new, beta * v + grad


def _mom_no_beta(theta, v, grad, lr, beta):
    return theta - lr * grad, grad


def _mom_sutskever(theta, v, grad, lr, beta):
    # v in parameter units (lr inside v); θ identical for a constant lr, v differs
    v = beta * v - lr * grad
    return theta + v, v


def _momentum_state_hint(mine, theirs, hyper, what):
    mine, theirs = np.asarray(mine), np.asarray(theirs)
    lr = hyper["lr"]
    if np.allclose(mine, -lr * theirs, rtol=1e-6, atol=1e-12):
        return ("Your v is −lr × optlib's: that is Sutskever's form, with the learning rate "
                "inside v (v ← βv − αg, θ ← θ + v). This assignment keeps v in gradient "
                "units: v ← βv + g, θ ← θ − αv.")
    if np.allclose(mine, lr * theirs, rtol=1e-6, atol=1e-12):
        return ("Your v is lr × optlib's: keep v in gradient units (v ← βv + g) and "
                "multiply by α only in the θ update.")
    return ""


def _momentum_probe(fn, hidden):
    return {"traces": [_simulate(fn, problem, hyper, steps, _CALL_MOMENTUM)
                       for problem, hyper, steps, _ in _momentum_problems(hidden)]}


momentum_step = _register("momentum_step", _momentum_probe, _stepping_judge(
    fn_label="momentum_step", reference_label="optlib.Momentum",
    problems=_momentum_problems, reference=_momentum_reference, state_names=["v"],
    diagnose_state=_momentum_state_hint,
    variants=[
        (_mom_sign, _CALL_MOMENTUM, "Your steps go uphill: θ ← θ + αv is a sign error; "
                                    "it should be θ ← θ − αv."),
        (_mom_ema, _CALL_MOMENTUM, "You wrote v ← βv + (1 − β)g, an average of gradients "
         "(like Adam's m): it makes every step (1 − β)× too short, 10× for β = 0.9. "
         "Heavy-ball momentum adds the whole gradient: v ← βv + g."),
        (_mom_old_v, _CALL_MOMENTUM, "You moved θ with the old velocity and updated v "
         "afterwards. Update v first (v ← βv + g), then move with the new v (θ ← θ − αv)."),
        (_mom_no_beta, _CALL_MOMENTUM, "Your update ignores the velocity: that is plain "
         "gradient descent. Keep v from step to step: v ← βv + g."),
    ]))
momentum_step.__doc__ = """Check ``momentum_step(theta, v, grad, lr, beta) -> (theta_new, v_new)``
against :class:`optlib.Momentum` (v ← βv + g, θ ← θ − αv) on random quadratics."""


# ---------------------------------------------------------------------- momentum: a path


def _path_cases(hidden):
    """(landscape, start, lr, beta, steps): one public case, or three hidden ones drawn
    from the grading secret (two rotated ravines, Rosenbrock from near (−1, 1.5))."""
    if not hidden:
        return [(Ravine(kappa=10), (2.0, 1.0), 0.3, 0.9, 30)]
    gen = _hidden_rng("momentum_path")
    cases = []
    for _ in range(2):
        kappa = round(float(gen.uniform(5, 60)), 1)
        start = tuple(round(float(x), 2) for x in gen.uniform(-3, 3, size=2))
        cases.append((Ravine(kappa=kappa, angle=round(float(gen.uniform(0, math.pi)), 3)),
                      start, round(float(gen.uniform(0.1, 1.5)), 2),
                      round(float(gen.uniform(0.5, 0.95)), 2), int(gen.integers(20, 50))))
    start = (round(float(gen.uniform(-1.2, -0.8)), 2), round(float(gen.uniform(1.3, 1.7)), 2))
    cases.append((Rosenbrock(), start, 0.001, round(float(gen.uniform(0.5, 0.9)), 2), 60))
    return cases


def _path_probe(fn, hidden):
    runs = []
    for landscape, start, lr, beta, steps in _path_cases(hidden):
        try:
            path = fn(landscape, np.array(start, dtype=float), lr, beta, steps)
            path = np.array(path, dtype=float)
            runs.append({"path": _lists(path), "error": None})
        except Exception as error:
            runs.append({"path": None, "error": _describe_error(_name(fn), error)})
    return {"runs": runs}


def _path_judge(outputs, hidden):
    from .optimizers import trajectory

    cases = _path_cases(hidden)
    for run, (landscape, start, lr, beta, steps) in zip(outputs["runs"], cases, strict=True):
        where = (f"{landscape.name} from {start} with lr = {lr}, beta = {beta}, "
                 f"steps = {steps}")
        if run["error"]:
            return Verdict(False, f"{where}: {run['error']}")
        path = np.asarray(run["path"], dtype=float)
        if path.shape != (steps + 1, 2):
            return Verdict(False, f"{where}: your path has shape {path.shape}; expected "
                                  f"({steps + 1}, 2): the start, then one row per step.")
        ref = trajectory(Momentum(lr=lr, beta=beta), landscape, start, steps)
        if not np.allclose(path[0], start):
            return Verdict(False, f"{where}: row 0 should be the start {start}, "
                                  f"got {_fmt(path[0])}.")
        for k in range(1, steps + 1):
            if not _close(path[k], ref[k], 1e-3):
                hint = ""
                if k > 1 and np.allclose(path[k - 1], path[k]):
                    hint = " Your path stops moving: do you feed θ and v back each step?"
                elif np.allclose(path[k], trajectory(SGD(lr=lr), landscape, start,
                                                     steps)[k]):
                    hint = " That is gradient descent's path: is v carried between steps?"
                rows = "row 0 matches" if k == 1 else f"rows 0–{k - 1} match"
                return Verdict(False, f"{where}: {rows} optlib, but row {k} "
                                      f"is {_fmt(path[k])} where optlib.trajectory gives "
                                      f"{_fmt(ref[k])}.{hint}")
    return Verdict(True, f"run_momentum's paths match optlib.trajectory on {len(cases)} "
                         f"{'hidden ' if hidden else ''}landscape(s).")


momentum_path = _register("momentum_path", _path_probe, _path_judge)
momentum_path.__doc__ = """Check ``run_momentum(landscape, start, lr, beta, steps)`` (an array
(steps + 1, 2): the start, then θ after each update) against :func:`optlib.trajectory`."""


# ------------------------------------------------------------------------- the ravine


def _ravine_starts(gen, n):
    """``n`` starts on the ravine's walls: at distance 2 to 4 from the minimum, 15° to 75°
    away from the valley floor, in any quadrant (rounded to 2 decimals)."""
    radius = gen.uniform(2.0, 4.0, size=n)
    angle = np.deg2rad(gen.uniform(15.0, 75.0, size=n)) * gen.choice([-1.0, 1.0], size=n)
    side = gen.choice([-1.0, 1.0], size=n)
    return [(round(float(side[i] * radius[i] * np.cos(angle[i])), 2),
             round(float(radius[i] * np.sin(angle[i])), 2)) for i in range(n)]


def ravine_problem(seed=None):
    """The ravine of assignment 1: ``dict(landscape, tuning_starts, test_starts, tol,
    max_steps)``: 3 starts to tune on and 5 others to score on, drawn from the course
    seed (:mod:`optlib.seeding`, ``OPTLIB_SEED``; ``seed`` overrides it)."""
    from .seeding import rng

    starts = _ravine_starts(rng("assignment 1", "ravine starts", seed=seed), 8)
    return {"landscape": Ravine(kappa=100), "tuning_starts": starts[:3],
            "test_starts": starts[3:], "tol": 1e-6, "max_steps": 3000}


def _ravine_probe(values, hidden):
    gd_lr, momentum_lr, momentum_beta = values
    out = {}
    for name, value in (("gd_lr", gd_lr), ("momentum_lr", momentum_lr),
                        ("momentum_beta", momentum_beta)):
        ok = isinstance(value, numbers.Real) and not isinstance(value, bool)
        out[name] = float(value) if ok else repr(value)
    out["course_seed"] = _probe_course_seed()
    return out


def _median_steps(optimizer, problem, starts):
    """The median steps to tolerance over ``starts`` (a run that never gets there
    counts as infinitely many), or None if that median is infinite."""
    from .measure import steps_to_tolerance

    steps = [steps_to_tolerance(optimizer, problem["landscape"], problem["tol"],
                                problem["max_steps"], start=start) for start in starts]
    median = float(np.median([math.inf if k is None else k for k in steps]))
    return None if math.isinf(median) else median


#: The rates the judge searches for gradient descent's best on the ravine: every
#: 0.01 up to the stability limit 2/L = 2. (The theory's 2/(μ + L) is the best *rate
#: of convergence*; from a given start a slightly smaller rate can need fewer steps.)
_GD_GRID = [round(0.01 * i, 2) for i in range(1, 200)]


@functools.lru_cache(maxsize=8)
def _best_gd_steps(starts, tol, max_steps):
    from .measure import tune_lr

    tuning = tune_lr(lambda lr: SGD(lr=lr), ravine_problem()["landscape"], _GD_GRID, tol,
                     max_steps, starts=list(starts))
    return float(tuning.median)


def _ravine_judge(outputs, hidden):
    problem = ravine_problem(_judge_course_seed(outputs))
    landscape = problem["landscape"]
    for name in ("gd_lr", "momentum_lr", "momentum_beta"):
        value = outputs[name]
        if not isinstance(value, float) or not math.isfinite(value):
            return Verdict(False, f"{name} should be a finite number, got {value}")
    gd_lr, lr, beta = outputs["gd_lr"], outputs["momentum_lr"], outputs["momentum_beta"]
    if not 0 < gd_lr:
        return Verdict(False, f"gd_lr must be > 0, got {gd_lr}")
    if not (0 < lr and 0 <= beta < 1):
        return Verdict(False, f"momentum needs lr > 0 and 0 <= beta < 1, got lr = {lr}, "
                              f"beta = {beta}")
    if hidden:  # starts the student never saw, drawn from the grading secret
        starts = _ravine_starts(_hidden_rng("ravine_tuning"), 5)
        where = f"on {len(starts)} hidden starts"
    else:
        starts = problem["test_starts"]
        where = f"on the {len(starts)} test starts"
    best = _best_gd_steps(tuple(starts), problem["tol"], problem["max_steps"])
    mine = _median_steps(SGD(lr=gd_lr), problem, starts)
    if mine is None:
        hint = (f" It diverges: gradient descent needs lr < 2/L = {2 / landscape.L:g}."
                if gd_lr >= 2 / landscape.L else " It is too slow.")
        return Verdict(False, f"{where}, gradient descent with gd_lr = {gd_lr:g} does not "
                              f"reach f − f* <= {problem['tol']:g} within "
                              f"{problem['max_steps']} steps (median).{hint}")
    if mine > 1.25 * best:
        return Verdict(False, f"{where}, gradient descent with gd_lr = {gd_lr:g} needs a "
                              f"median of {mine:g} steps; the best constant rate needs "
                              f"{best:g}. Search a finer grid of rates, up to where gradient "
                              "descent diverges (2/L).")
    steps = _median_steps(Momentum(lr=lr, beta=beta), problem, starts)
    if steps is None or steps > best / 4:
        got = "does not converge" if steps is None else f"needs a median of {steps:g} steps"
        return Verdict(False, f"{where}, momentum with lr = {lr:g}, beta = {beta:g} {got}; "
                              f"tuned, it needs at most a quarter of gradient descent's best "
                              f"({best:g} / 4 = {best / 4:.0f}). Tune lr and beta together, "
                              "on a grid over both, on all the tuning starts.")
    return Verdict(True, f"{where} of the ravine (κ = 100), gradient descent needs a median "
                         f"of {mine:g} steps (best constant rate {best:g}); momentum needs "
                         f"{steps:g}, {mine / steps:.1f}× fewer.")


_ravine = _register("ravine_tuning", _ravine_probe, _ravine_judge)


def ravine_tuning(gd_lr, momentum_lr, momentum_beta, hidden=False):
    """Check the tuned rates of assignment 1, scored on starts they were not tuned on (the
    problem's ``test_starts``; hidden: other starts drawn from the grading secret):
    gradient descent with ``gd_lr`` within 25% of the best constant rate's median step
    count, momentum with (``momentum_lr``, ``momentum_beta``) needing at most a quarter
    of that best."""
    return _ravine((gd_lr, momentum_lr, momentum_beta), hidden)


# -------------------------------------------------------------------------------- Nesterov


def _nesterov_problems(hidden):
    cases = []
    for i, seed in enumerate(_seeds(hidden, "nesterov", (4, 5, 6))):
        problem = _Quadratic(seed)
        lr = [0.1, 0.3, 0.05, 0.2][i % 4]
        beta = [0.9, 0.5, 0.8, 0.95][i % 4]
        cases.append((problem, (lambda k, lr=lr, beta=beta: {"lr": lr, "beta": beta}), 25,
                      f"d = {problem.d}, lr = {lr}, beta = {beta}"))
    return cases


def _nesterov_lookahead_reference(problem, hyper, steps):
    """optlib.Nesterov runs the rewritten form, whose parameters are the look-ahead points
    φ = θ − αβv; map them back: v is optlib's b, θ = φ + αβv."""
    h = hyper(1)
    optimizer = Nesterov(**h)
    phi = problem.theta0.copy()
    trace = {"thetas": [_lists(phi)], "states": [], "queries": []}
    for _ in range(steps):
        trace["queries"].append([_lists(phi)])
        phi = optimizer.step(phi, problem.grad(phi))
        b = optimizer.state["v"]
        trace["thetas"].append(_lists(phi + h["lr"] * h["beta"] * b))
        trace["states"].append([_lists(b)])
    return trace


def _nesterov_uphill(theta, v, grad_fn, lr, beta):
    """The right look-ahead, but a sign error in the step."""
    g = grad_fn(theta - lr * beta * v)
    v = beta * v + g
    return theta + lr * v, v


def _nesterov_queries(trace, ref, hyper, k):
    """Where the student took the gradient, named."""
    for j in range(1, len(trace["queries"]) + 1):
        queries = trace["queries"][j - 1]
        h = hyper(j)
        if len(queries) != 1:
            return (f"(step {j}) nesterov_step called grad_fn {len(queries)} times; Nesterov "
                    "needs exactly one gradient per step, at the look-ahead point θ − αβv.")
        theta = np.asarray(trace["thetas"][j - 1], float)
        v = np.asarray(trace["states"][j - 2][0], float) if j > 1 else np.zeros_like(theta)
        q = np.asarray(queries[0], float)
        lr, beta = h["lr"], h["beta"]
        if np.allclose(q, theta - lr * beta * v, rtol=1e-9, atol=1e-12):
            continue
        for point, text in (
                (theta - beta * v, "your gradient is taken at θ − βv; it should be θ − αβv. "
                                   "v is in gradient units, so the look-ahead αβv needs the "
                                   "learning rate: θ − βv looks 1/α times too far ahead "
                                   "(the source article's bug)."),
                (theta, "your gradient is taken at θ itself: that is heavy-ball momentum. "
                        "Nesterov looks ahead first, to θ − αβv."),
                (theta + lr * beta * v, "your gradient is taken at θ + αβv, behind θ: a sign "
                                        "error. The look-ahead point is θ − αβv."),
                (theta - lr * v, "your gradient is taken at θ − αv; the look-ahead includes "
                                 "β: θ − αβv.")):
            if np.allclose(q, point, rtol=1e-9, atol=1e-12):
                return f"(gradient at step {j}) {text}"
        return (f"(gradient at step {j}) you took the gradient at {_fmt(q)}; the look-ahead "
                f"point θ − αβv is {_fmt(theta - lr * beta * v)}.")
    return None


_CALL_REWRITTEN = _call_with_grad(1, ["b_new"])

nesterov_step = _register("nesterov_step", lambda fn, hidden: {"traces": [
    _simulate(fn, problem, hyper, steps, _call_with_grad_fn)
    for problem, hyper, steps, _ in _nesterov_problems(hidden)]}, _stepping_judge(
    fn_label="nesterov_step", reference_label="optlib.Nesterov (mapped to θ, v)",
    problems=_nesterov_problems, reference=_nesterov_lookahead_reference, state_names=["v"],
    diagnose_queries=_nesterov_queries,
    variants=[
        (_nesterov_uphill, _call_with_grad_fn,
         "Your steps go uphill: θ ← θ + αv is a sign error; it should be θ ← θ − αv."),
    ]))
nesterov_step.__doc__ = """Check ``nesterov_step(theta, v, grad_fn, lr, beta)``
(returns ``(theta_new, v_new)``; look-ahead form: g = ∇f(θ − αβv), v ← βv + g,
θ ← θ − αv) against :class:`optlib.Nesterov`, and say where the gradient was taken if
that is what differs."""


def _rewritten_reference(problem, hyper, steps):
    return _reference_trace(Nesterov(**hyper(1)), ["v"], problem, steps)


def _rw_no_beta_g(theta, b, grad, lr, beta):
    b = beta * b + grad
    return theta - lr * b, b


def _rw_sign(theta, b, grad, lr, beta):
    b = beta * b + grad
    return theta + lr * (grad + beta * b), b


def _rw_old_b(theta, b, grad, lr, beta):
    theta = theta - lr * (grad + beta * b)
    return theta, beta * b + grad


nesterov_rewritten_step = _register("nesterov_rewritten_step", lambda fn, hidden: {"traces": [
    _simulate(fn, problem, hyper, steps, _CALL_REWRITTEN)
    for problem, hyper, steps, _ in _nesterov_problems(hidden)]}, _stepping_judge(
    fn_label="nesterov_rewritten_step", reference_label="optlib.Nesterov",
    problems=_nesterov_problems, reference=_rewritten_reference, state_names=["b"],
    variants=[
        (_rw_no_beta_g, _CALL_REWRITTEN, "θ ← θ − αb is heavy-ball momentum. The rewritten "
         "Nesterov step adds the fresh gradient again: θ ← θ − α(g + βb)."),
        (_rw_sign, _CALL_REWRITTEN, "Your steps go uphill: a sign error in θ ← θ − α(g + βb)."),
        (_rw_old_b, _CALL_REWRITTEN, "You used the old b in θ ← θ − α(g + βb). Update b "
         "first (b ← βb + g), then step with the new b."),
    ]))
nesterov_rewritten_step.__doc__ = """Check ``nesterov_rewritten_step(theta, b, grad, lr, beta)``
(b ← βb + g, θ ← θ − α(g + βb), PyTorch's form) against :class:`optlib.Nesterov`."""


# ---------------------------------------------------------- the source article's Nesterov

_ARTICLE = {"lr": 1e-3, "beta": 0.9, "start": (-1.0, 1.0), "steps": 40}


def _article_settings(hidden):
    """The article's own setting; when hidden, also two others drawn from the grading
    secret (other starts, rates and β), on which article_step must follow the rule too."""
    settings = [_ARTICLE]
    if hidden:
        gen = _hidden_rng("article_nesterov")
        for _ in range(2):
            settings.append({"lr": float(gen.choice([5e-4, 2e-3, 5e-3])),
                             "beta": round(float(gen.uniform(0.5, 0.95)), 2),
                             "start": tuple(round(float(x), 2)
                                            for x in gen.uniform((-1.5, -0.5), (1.0, 2.0))),
                             "steps": 40})
    return settings


def _article_reference(setting):
    """The article's look-ahead, θ − βv, on Rosenbrock: (path, first non-finite update)."""
    landscape = Rosenbrock()
    theta = np.array(setting["start"])
    v = np.zeros(2)
    path = [theta]
    lr, beta = setting["lr"], setting["beta"]
    with np.errstate(over="ignore", invalid="ignore"):
        for k in range(1, setting["steps"] + 1):
            v = beta * v + landscape.gradient(theta - beta * v)
            theta = theta - lr * v
            path.append(theta)
            if not np.all(np.isfinite(theta)):
                return np.array(path), k
    return np.array(path), None


def _article_probe(values, hidden):
    fn, first_nonfinite = values
    landscape = Rosenbrock()
    traces = []
    for setting in _article_settings(hidden):

        class _Problem:
            theta0 = np.array(setting["start"])

            @staticmethod
            def grad(theta):
                return landscape.gradient(theta)

        hyper = {"lr": setting["lr"], "beta": setting["beta"]}
        with np.errstate(over="ignore", invalid="ignore"):
            traces.append(_simulate(fn, _Problem, lambda k, hyper=hyper: hyper,
                                    setting["steps"], _call_with_grad_fn))
    ok = isinstance(first_nonfinite, numbers.Integral) and not isinstance(first_nonfinite, bool)
    return {"traces": traces,
            "first_nonfinite": int(first_nonfinite) if ok else repr(first_nonfinite)}


def _article_path_verdict(trace, setting):
    """None if ``trace`` follows the article's rule in ``setting``, else a failing Verdict."""
    path, first = _article_reference(setting)
    where = ("" if setting is _ARTICLE else
             f" (hidden setting: from {setting['start']}, lr = {setting['lr']:g}, "
             f"β = {setting['beta']:g})")
    if trace["error"]:
        return Verdict(False, f"article_step{where}, step {trace['error_step']}: "
                              f"{trace['error']}")
    thetas = np.asarray(trace["thetas"], float)
    n = min(len(thetas), len(path))
    for k in range(1, n):
        if np.all(np.isfinite(path[k])) and not _close(thetas[k], path[k], 1e-3):
            q = np.asarray(trace["queries"][k - 1][0], float) if trace["queries"][k - 1] else None
            theta_prev = thetas[k - 1]
            v_prev = (np.asarray(trace["states"][k - 2][0], float) if k > 1
                      else np.zeros(2))
            hint = ""
            if q is not None and np.allclose(q, theta_prev - setting["lr"] * setting["beta"]
                                             * v_prev):
                hint = (" You took the gradient at θ − αβv: that is the correct Nesterov. "
                        "This question asks for the article's look-ahead, θ − βv.")
            return Verdict(False, f"article_step{where}: step {k} gives θ = {_fmt(thetas[k])}, "
                                  f"but the article's rule gives {_fmt(path[k])}.{hint}")
    if len(thetas) < len(path):
        return Verdict(False, f"article_step's run{where} stops after {len(thetas) - 1} "
                              f"updates, before θ becomes non-finite (after update {first}).")
    return None


def _article_judge(outputs, hidden):
    settings = _article_settings(hidden)
    traces = outputs["traces"]
    if len(traces) != len(settings):
        return Verdict(False, f"expected results for {len(settings)} settings, got "
                              f"{len(traces)}")
    for trace, setting in zip(traces, settings):
        verdict = _article_path_verdict(trace, setting)
        if verdict is not None:
            return verdict
    _, first = _article_reference(_ARTICLE)
    claimed = outputs["first_nonfinite"]
    if claimed != first:
        extra = ""
        if isinstance(claimed, int) and claimed == first - 1:
            extra = (" (Counting from 0? 1 means θ is non-finite after the first update.)")
        return Verdict(False, f"first_nonfinite is {claimed}, but with the article's rule θ "
                              f"first contains inf or nan after update {first}.{extra}")
    others = (f" It follows the rule in {len(settings) - 1} hidden settings too."
              if hidden else "")
    return Verdict(True, f"article_step reproduces the article's rule: θ is non-finite after "
                         f"update {first}, from (−1, 1) with lr = 1e-3 and β = 0.9.{others}")


_article = _register("article_nesterov", _article_probe, _article_judge)


def article_nesterov(article_step, first_nonfinite, hidden=False):
    """Check the source article's (wrong) Nesterov, look-ahead θ − βv, reproduced as
    ``article_step(theta, v, grad_fn, lr, beta)``, and ``first_nonfinite``: the number of
    updates after which θ first holds inf or nan on Rosenbrock from (−1, 1), lr = 1e-3,
    β = 0.9."""
    return _article((article_step, first_nonfinite), hidden)


# ------------------------------------------------------------------------------------ Adam


class _GradientSequence:
    """A fixed sequence of random gradients (Adam's moments do not need θ)."""

    def __init__(self, seed, scale):
        rng = np.random.default_rng(seed)
        d = int(rng.integers(1, 5))
        self.gradients = rng.normal(size=(40, d)) * scale
        self.theta0 = np.zeros(d)
        self.d = d


def _moments_problems(hidden):
    cases = []
    for i, seed in enumerate(_seeds(hidden, "adam_moments", (7, 8, 9))):
        scale = [1.0, 1e-3, 50.0][i % 3]
        beta1, beta2 = [(0.9, 0.999), (0.8, 0.99), (0.5, 0.9), (0.95, 0.9999)][i % 4]
        cases.append((_GradientSequence(seed, scale), beta1, beta2, 20,
                      f"gradients of size ~{scale:g}, beta1 = {beta1}, beta2 = {beta2}"))
    return cases


def _moments_run(fn, problem, beta1, beta2, steps):
    m = v = np.zeros(problem.d)
    rows = {"m": [], "v": [], "error": None, "error_step": None, "mutated": False}
    for k in range(steps):
        g = problem.gradients[k]
        inputs = [m.copy(), v.copy(), g.copy()]
        kept = [x.copy() for x in inputs]
        try:
            m, v = _arrays(fn(*inputs, beta1, beta2), 2, g, _name(fn), ["m_new", "v_new"])
        except _BadResult as bad:
            rows["error"], rows["error_step"] = str(bad), k + 1
            break
        except Exception as error:
            rows["error"], rows["error_step"] = _describe_error(_name(fn), error), k + 1
            break
        rows["mutated"] = rows["mutated"] or any(
            not np.array_equal(a, b) for a, b in zip(inputs, kept))
        rows["m"].append(_lists(m))
        rows["v"].append(_lists(v))
    return rows


def _moments_probe(fn, hidden):
    return {"runs": [_moments_run(fn, problem, b1, b2, steps)
                     for problem, b1, b2, steps, _ in _moments_problems(hidden)]}


def _moments_reference(problem, beta1, beta2, steps):
    optimizer = Adam(lr=1e-3, beta1=beta1, beta2=beta2)
    theta = np.zeros(problem.d)
    m, v = [], []
    for k in range(steps):
        theta = optimizer.step(theta, problem.gradients[k])
        m.append(optimizer.state["m"])
        v.append(optimizer.state["v"])
    return m, v


_MOMENT_MISTAKES = [
    (lambda m, v, g, b1, b2: (b1 * m + g, b2 * v + g * g),
     "you dropped the (1 − β) factors: m ← β1·m + (1 − β1)·g and v ← β2·v + (1 − β2)·g²."),
    (lambda m, v, g, b1, b2: ((1 - b1) * m + b1 * g, (1 - b2) * v + b2 * g * g),
     "the weights are swapped: the old value gets β (m ← β1·m + (1 − β1)·g), the new "
     "gradient gets 1 − β."),
    (lambda m, v, g, b1, b2: (b2 * m + (1 - b2) * g, b1 * v + (1 - b1) * g * g),
     "β1 and β2 are swapped: β1 (0.9) belongs to m, β2 (0.999) to v."),
    (lambda m, v, g, b1, b2: (b1 * m + (1 - b1) * g, b2 * v + (1 - b2) * np.abs(g)),
     "v averages |g|; it should average the squared gradient g²."),
    (lambda m, v, g, b1, b2: (b1 * m + (1 - b1) * g, b2 * v + (1 - b2) * g),
     "v averages g; it should average the squared gradient g²."),
]


def _moments_judge(outputs, hidden):
    cases = _moments_problems(hidden)
    for p, (run, (problem, b1, b2, steps, description)) in enumerate(
            zip(outputs["runs"], cases, strict=True)):
        where = f"problem {p + 1} ({description})"
        if run["error"]:
            return Verdict(False, f"{where}, step {run['error_step']}: {run['error']}")
        if run["mutated"]:
            return Verdict(False, f"{where}: adam_moments changed an input array in place; "
                                  "return new arrays instead.")
        ref_m, ref_v = _moments_reference(problem, b1, b2, steps)
        scale = 1e-12
        for k in range(steps):
            for name, mine, ref in (("m", run["m"][k], ref_m[k]), ("v", run["v"][k], ref_v[k])):
                if not _close(mine, ref, scale):
                    note = ""
                    for mistake, text in _MOMENT_MISTAKES:
                        other = _moments_run(mistake, problem, b1, b2, steps)
                        if all(_close(run[name][j], other[name][j], scale)
                               for j in range(steps)):
                            note = " It looks like " + text
                            break
                    return Verdict(False, f"{where}, step {k + 1}: your {name} is {_fmt(mine)} "
                                          f"where optlib.Adam's is {_fmt(ref)}.{note}")
    return Verdict(True, f"adam_moments matches optlib.Adam's m and v on {len(cases)} "
                         f"{'hidden ' if hidden else ''}random gradient sequences.")


adam_moments = _register("adam_moments", _moments_probe, _moments_judge)
adam_moments.__doc__ = """Check ``adam_moments(m, v, grad, beta1, beta2) -> (m_new, v_new)``
against the moments of :class:`optlib.Adam`."""


def _adam_problems(hidden):
    cases = []
    for i, seed in enumerate(_seeds(hidden, "adam_step", (10, 11, 12))):
        scale = [1.0, 1e-5, 1.0, 30.0][i % 4]
        problem = _Quadratic(seed, scale=scale)
        lr = [1e-3, 0.01, 0.1, 0.05][i % 4]
        beta1, beta2 = [(0.9, 0.999), (0.9, 0.999), (0.8, 0.99), (0.5, 0.9)][i % 4]
        hyper = {"lr": lr, "beta1": beta1, "beta2": beta2, "eps": 1e-8}
        cases.append((problem, (lambda k, hyper=hyper: dict(hyper, t=k)), 30,
                      f"d = {problem.d}, gradients ~{scale:g}, lr = {lr}, beta1 = {beta1}, "
                      f"beta2 = {beta2}"))
    return cases


def _adam_reference(problem, hyper, steps):
    h = dict(hyper(1))
    del h["t"]
    return _reference_trace(Adam(**h), ["m", "v"], problem, steps)


def _call_adam(fn, theta, state, k, problem, hyper):
    m, v = state if state is not None else (np.zeros_like(theta), np.zeros_like(theta))
    g = problem.grad(theta)
    inputs = [theta.copy(), m.copy(), v.copy(), g.copy()]
    kept = [x.copy() for x in inputs]
    h = hyper(k)
    result = fn(inputs[0], inputs[1], inputs[2], inputs[3], h["t"], h["lr"], h["beta1"],
                h["beta2"], h["eps"])
    out = _arrays(result, 3, theta, _name(fn), ["theta_new", "m_new", "v_new"])
    mutated = any(not np.array_equal(a, b) for a, b in zip(inputs, kept))
    return out[0], out[1:], [], mutated


def _adam_variant(correct_m=True, correct_v=True, eps_inside=False, sign=1.0, shift=0):
    def step(theta, m, v, grad, t, lr, beta1, beta2, eps):
        m = beta1 * m + (1 - beta1) * grad
        v = beta2 * v + (1 - beta2) * grad**2
        m_hat = m / (1 - beta1 ** (t + shift)) if correct_m else m
        v_hat = v / (1 - beta2 ** (t + shift)) if correct_v else v
        denominator = np.sqrt(v_hat + eps) if eps_inside else np.sqrt(v_hat) + eps
        return theta - sign * lr * m_hat / denominator, m, v

    return step


def _adam_state_hint(mine, theirs, hyper, what):
    name, beta = [("m", hyper["beta1"]), ("v", hyper["beta2"])][what]
    corrected = np.asarray(theirs) / (1 - beta ** hyper["t"])
    if np.allclose(mine, corrected, rtol=1e-6, atol=0):
        return (f"Your {name} is the bias-corrected {name}̂. Return the raw moving average "
                f"{name}: the correction is applied afresh at every step and never stored.")
    return ""


adam_step = _register("adam_step", lambda fn, hidden: {"traces": [
    _simulate(fn, problem, hyper, steps, _call_adam)
    for problem, hyper, steps, _ in _adam_problems(hidden)]}, _stepping_judge(
    fn_label="adam_step", reference_label="optlib.Adam", problems=_adam_problems,
    reference=_adam_reference, state_names=["m", "v"], diagnose_state=_adam_state_hint,
    variants=[
        (_adam_variant(correct_m=False, correct_v=False), _call_adam,
         "Your steps match Adam WITHOUT bias correction at every step: is bias correction "
         "missing? Divide m by 1 − β1^t and v by 1 − β2^t before the update."),
        (_adam_variant(correct_m=True, correct_v=False), _call_adam,
         "Your steps match Adam with only m bias-corrected: correct v too (v̂ = v/(1 − β2^t))."),
        (_adam_variant(correct_m=False, correct_v=True), _call_adam,
         "Your steps match Adam with only v bias-corrected: correct m too (m̂ = m/(1 − β1^t))."),
        (_adam_variant(eps_inside=True), _call_adam,
         "You put ε inside the square root, √(v̂ + ε). optlib (like PyTorch) adds it outside: "
         "√v̂ + ε. Inside, ε = 1e-8 caps the denominator at ≥ 1e-4 and shrinks steps when "
         "gradients are tiny."),
        (_adam_variant(sign=-1.0), _call_adam,
         "Your steps go uphill: a sign error, θ ← θ + … instead of θ ← θ − α·m̂/(√v̂ + ε)."),
        (_adam_variant(shift=1), _call_adam,
         "Your bias correction uses t + 1: t is already the number of this update (1 for the "
         "first)."),
        (_adam_variant(shift=-1), _call_adam,
         "Your bias correction uses t − 1: t is already the number of this update (1 for the "
         "first)."),
    ]))
adam_step.__doc__ = """Check ``adam_step(theta, m, v, grad, t, lr, beta1, beta2, eps)
-> (theta_new, m_new, v_new)`` (t = 1 for the first update) against :class:`optlib.Adam`."""


def _ratio_probe(value, hidden):
    ok = isinstance(value, numbers.Real) and not isinstance(value, bool)
    return {"value": float(value) if ok else repr(value)}


def _ratio_judge(outputs, hidden):
    value = outputs["value"]
    if not isinstance(value, float) or not math.isfinite(value):
        return Verdict(False, f"first_step_ratio should be a finite number, got {value}")
    beta1, beta2 = 0.9, 0.999
    expected = (1 - beta1) / math.sqrt(1 - beta2)
    if abs(value - expected) <= 2e-3 * expected:
        return Verdict(True, f"first_step_ratio = {value:.4g}: without bias correction the "
                             f"first step is {expected:.4g}α, not α.")
    for guess, text in ((1.0, "that is the step WITH bias correction (exactly α); the question "
                              "asks for the uncorrected one."),
                        ((1 - beta1) / (1 - beta2), "it looks like the square root of v is "
                                                    "missing."),
                        (1 - beta1, "it looks like v was bias-corrected but m was not."),
                        (1 / math.sqrt(1 - beta2), "it looks like m was bias-corrected but v "
                                                   "was not.")):
        if abs(value - guess) <= 2e-3 * guess:
            return Verdict(False, f"first_step_ratio = {value:.4g}: {text}")
    return Verdict(False, f"first_step_ratio = {value:.4g} is not the length of Adam's first "
                          "uncorrected step divided by α (β1 = 0.9, β2 = 0.999). Run one step "
                          "with m = (1 − β1)g and v = (1 − β2)g², and no correction.")


uncorrected_first_step = _register("uncorrected_first_step", _ratio_probe, _ratio_judge)
uncorrected_first_step.__doc__ = """Check the length of Adam's first update without bias
correction, divided by α, for β1 = 0.9 and β2 = 0.999."""


# ---------------------------------------------------------------------------- a schedule


def _schedule_cases(hidden):
    """(peak_lr, warmup_steps, total_steps): three public cases, or four hidden ones drawn
    from the grading secret (one without warm-up, one whose decay lasts one step)."""
    if not hidden:
        return [(0.1, 10, 110), (0.05, 0, 50), (1.0, 5, 6)]
    gen = _hidden_rng("warmup_cosine")
    cases = []
    for kind in ("no warm-up", "one decay step", "any", "any"):
        peak = float(f"{10 ** gen.uniform(-3, 0.5):.2g}")
        total = int(gen.integers(8, 150))
        warmup = {"no warm-up": 0, "one decay step": total - 1}.get(
            kind, int(gen.integers(1, total)))
        cases.append((peak, warmup, total))
    return cases


def _schedule_probe(fn, hidden):
    runs = []
    for peak, warmup, total in _schedule_cases(hidden):
        values, error = [], None
        for t in range(total + 6):
            try:
                value = fn(t, peak, warmup, total)
                values.append(float(value))
            except Exception as exc:
                error = f"at t = {t}: " + _describe_error(_name(fn), exc)
                break
        runs.append({"values": values, "error": error})
    return {"runs": runs}


def _schedule_judge(outputs, hidden):
    from .schedules import warmup_cosine as reference

    cases = _schedule_cases(hidden)
    for run, (peak, warmup, total) in zip(outputs["runs"], cases, strict=True):
        where = f"peak_lr = {peak}, warmup_steps = {warmup}, total_steps = {total}"
        if run["error"]:
            hint = (" (with warmup_steps = 0 there is no warm-up: avoid dividing by it)"
                    if warmup == 0 and "ZeroDivision" in run["error"] else "")
            return Verdict(False, f"{where}: {run['error']}{hint}")
        schedule = reference(peak, warmup_steps=warmup, total_steps=total)
        ref = [schedule(t) for t in range(total + 6)]
        mine = run["values"]
        for t, (a, b) in enumerate(zip(mine, ref)):
            if not abs(a - b) <= 1e-9 * peak:
                hint = ""
                if all(abs(mine[s] - ref[s + 1]) <= 1e-9 * peak for s in range(total)):
                    hint = (" Your schedule is one step ahead: the first update uses t = 0, "
                            "which must give rate 0 at the start of the warm-up.")
                elif all(abs(mine[s + 1] - ref[s]) <= 1e-9 * peak for s in range(total)):
                    hint = " Your schedule is one step behind (t starts at 0, not 1)."
                elif t > total:
                    hint = (f" After total_steps the rate must stay at 0; yours is {a:.4g} at "
                            f"t = {t}.")
                elif t == warmup:
                    hint = " The peak must be reached exactly at t = warmup_steps."
                return Verdict(False, f"{where}: at t = {t} your rate is {a:.6g}, but "
                                      f"optlib.warmup_cosine gives {b:.6g}.{hint}")
    return Verdict(True, f"warmup_cosine_lr matches optlib.warmup_cosine on {len(cases)} "
                         f"{'hidden ' if hidden else ''}settings, every step.")


warmup_cosine = _register("warmup_cosine", _schedule_probe, _schedule_judge)
warmup_cosine.__doc__ = """Check ``warmup_cosine_lr(t, peak_lr, warmup_steps, total_steps)``
against :func:`optlib.warmup_cosine` at every step and a few steps beyond the end."""


# ------------------------------------------------------------------- the digits experiment

# The checks of assignment 4, tuning on the digits (part of :mod:`optlib.checks`).
#
# A training run of a neural network is not reproducible to the last bit across machines:
# BLAS kernels (OpenBLAS on another CPU, Accelerate on a Mac, MKL) round matrix products
# differently, and at a learning rate near the edge of stability such a difference grows
# until the final accuracy differs by several images. So these checks do not ask a
# submission to match one machine's numbers exactly. They judge
#
# * **the training function** (:func:`digits_run`) on settings where training is stable,
#   so that optlib's run, retrained here, gives the same accuracy on any machine (up to
#   one image); a mismatch is compared with the typical mistakes, which are named;
# * **the protocol** (:func:`digits_tuning`): at least 3 seeds, every optimizer tuned on its
#   whole grid with both schedules, on the validation set, the mean and the standard
#   deviation over seeds computed right, and the rate with the best *mean* chosen; and a
#   sample of the reported runs retrained. A run that turns out to be *chaotic* (its
#   accuracy changes when the initial weights change by one part in 10¹²) is compared
#   loosely, since no machine can reproduce it exactly.
#
# Which configuration wins is not graded: the differences between the tuned optimizers are
# of the size of the noise between seeds, and saying so is part of the written answer.

#: The set-up of assignment 4, shared by the notebook and the grader.
DIGITS_SETUP = {"sizes": [64, 32, 10], "epochs": 8, "batch_size": 64, "warmup_epochs": 1,
                "n_seeds": 3}
#: The learning rates assignment 4 tries for each optimizer (neighbours differ by ~3×).
DIGITS_GRID = {"SGD": [0.1, 0.3, 1.0, 3.0, 10.0], "Momentum": [0.01, 0.03, 0.1, 0.3, 1.0],
               "Adam": [0.001, 0.003, 0.01, 0.03, 0.1]}
DIGITS_SCHEDULES = ("constant", "warmup_cosine")

#: Two accuracies closer than this are "the same" (one validation image, and a little):
#: a stable run can flip one borderline image on another BLAS build.
_ONE_IMAGE = 1.0 + 1e-6
#: How far a chaotic run's accuracy may be from optlib's, in images. Measured: at SGD's
#: rate 10, three OpenBLAS kernels (Haswell, SkylakeX, Sandybridge) gave final
#: accuracies up to 10 images apart for the same seed.
_CHAOTIC_IMAGES = 15


def _split_seed(course=None):
    from .seeding import seeds

    return seeds(1, "assignment 4", "split", seed=course)[0]


@functools.lru_cache(maxsize=4)
def _split(seed):
    from .datasets import digits_split

    data = digits_split(seed=seed)
    for array in data.values():
        array.flags.writeable = False  # the judge's copy: nothing may change it
    return data


def digits_data():
    """The digits, split at random (from the course seed) into 1077 training, 360
    validation and 360 test images and standardised (:func:`optlib.datasets.digits_split`).
    Fresh arrays at every call."""
    return {key: array.copy() for key, array in _split(_split_seed()).items()}


def digits_seeds(seed=None):
    """The ``DIGITS_SETUP["n_seeds"]`` training seeds of assignment 4 (initial weights and
    minibatch order), from the course seed (``OPTLIB_SEED``; ``seed`` overrides it)."""
    from .seeding import seeds

    return seeds(DIGITS_SETUP["n_seeds"], "assignment 4", "training", seed=seed)


# ------------------------------------------------------------------- optlib's own runs

_lock = threading.Lock()

#: The mistakes a training function is compared with, by name: what the run does instead.
_VARIANTS = ("constant rate", "schedule always", "warm-up in epochs", "init seed 0",
             "shuffle seed 0", "seeds 0", "perturbed")


def _reference(name, lr, schedule, seed, variant="", course=None):
    """Accuracies of one optlib run: ``{"val", "train", "test", "best_val"}`` (fractions;
    all 0.0 if training diverged). Trained once per process, on one BLAS thread (the
    grader judges from several threads)."""
    with _lock, one_blas_thread():
        return _train(_split_seed(course), name, float(lr), schedule, int(seed), variant)


@functools.lru_cache(maxsize=4096)
def _train(split_seed, name, lr, schedule, seed, variant):
    from .models import MLP
    from .optimizers import OPTIMIZERS
    from .schedules import warmup_cosine
    from .training import DivergenceError, train

    data = _split(split_seed)
    setup = DIGITS_SETUP
    steps_per_epoch = math.ceil(len(data["X_train"]) / setup["batch_size"])
    scheduled = (schedule == "warmup_cosine") != (variant in ("constant rate",
                                                              "schedule always"))
    rate = lr
    if scheduled:
        per = 1 if variant == "warm-up in epochs" else steps_per_epoch
        rate = warmup_cosine(lr, warmup_steps=setup["warmup_epochs"] * per,
                             total_steps=setup["epochs"] * per)
    init_seed = 0 if variant in ("init seed 0", "seeds 0") else seed
    shuffle_seed = 0 if variant in ("shuffle seed 0", "seeds 0") else seed
    model = MLP(setup["sizes"])
    params = model.init(seed=init_seed)
    if variant == "perturbed":
        params = {key: value * (1 + 1e-12) for key, value in params.items()}
    try:
        params, history = train(model, params, OPTIMIZERS[name](lr=rate), data["X_train"],
                                data["y_train"], epochs=setup["epochs"],
                                batch_size=setup["batch_size"], seed=shuffle_seed,
                                X_val=data["X_val"], y_val=data["y_val"], progress=False)
    except DivergenceError:
        return {"val": 0.0, "train": 0.0, "test": 0.0, "best_val": 0.0, "loss": math.inf}
    with np.errstate(over="ignore", invalid="ignore"):
        test = float(model.accuracy(params, data["X_test"], data["y_test"]))
    return {"val": float(history.val_accuracy[-1]), "train": float(history.train_accuracy[-1]),
            "test": test, "best_val": float(max(history.val_accuracy)),
            "loss": float(history.epoch_loss[-1])}


def _n_val(course=None):
    return len(_split(_split_seed(course))["y_val"])


_MISTAKES = {
    "train": "that is the accuracy on the *training* images: return "
             "history.val_accuracy[-1], the validation accuracy.",
    "test": "that is the accuracy on the *test* images, which tuning must never see: "
            "return history.val_accuracy[-1].",
    "best_val": "that is the best validation accuracy over the epochs: return the one "
                "after the last epoch, history.val_accuracy[-1].",
    "constant rate": "that is what the constant rate lr gives: is the schedule passed to "
                     "the optimizer as its lr (optimizer = OPTIMIZERS[name](lr=rate), with "
                     "rate the function of t)?",
    "schedule always": "that is what warm-up + cosine gives: with schedule == 'constant' the "
                       "rate is lr itself.",
    "warm-up in epochs": "that is the schedule counted in epochs: the optimizer's t counts "
                         "updates, so warmup_steps and total_steps are epochs × "
                         "steps_per_epoch.",
    "init seed 0": "that is the run with the initial weights of seed 0: pass the seed to "
                   "model.init(seed=seed) too.",
    "shuffle seed 0": "that is the run with the minibatch order of seed 0: pass the seed to "
                      "optlib.train(..., seed=seed) too.",
    "seeds 0": "that is the run of seed 0 whatever the seed: pass the seed to model.init and "
               "to optlib.train.",
}


def _diagnose(value, name, lr, schedule, seed, course=None):
    """None if ``value`` is the validation accuracy of this run (within one image, or
    loosely for a chaotic run); else what is wrong, with the mistake named if it is one
    of the typical ones."""
    n = _n_val(course)
    truth = _reference(name, lr, schedule, seed, course=course)
    if abs(value - truth["val"]) * n <= _ONE_IMAGE:
        return None
    # Chaotic: a change of one part in 10¹² in the initial weights has grown a millionfold
    # or more by the end (in the final training loss). Only such a run can end with
    # another accuracy on another BLAS build, whose rounding differs by ~1e-16.
    perturbed = _reference(name, lr, schedule, seed, "perturbed", course)
    chaotic = (abs(perturbed["val"] - truth["val"]) * n > 0.5
               or not abs(perturbed["loss"] - truth["loss"]) <= 1e-6 * abs(truth["loss"]))
    if chaotic and abs(value - truth["val"]) * n <= _CHAOTIC_IMAGES:
        return None
    said = (f"{value:.4f} ({value * n:.0f}/{n} images), but optlib's run gives "
            f"{truth['val']:.4f} ({truth['val'] * n:.0f}/{n})")
    if chaotic:
        said += (f"; this run is chaotic (it changes with the last bits of the floats), so "
                 f"it is only required to be within {_CHAOTIC_IMAGES} images")
    candidates = [(key, truth[key]) for key in ("train", "test", "best_val")]
    wanted = {"constant": ("schedule always",),
              "warmup_cosine": ("constant rate", "warm-up in epochs")}.get(schedule, ())
    candidates += [(v, None) for v in (*wanted, "seeds 0", "init seed 0", "shuffle seed 0")]
    for key, other in candidates:
        if other is None:
            other = _reference(name, lr, schedule, seed, key, course)["val"]
        if abs(other - truth["val"]) * n > _ONE_IMAGE and abs(value - other) * n <= 0.5:
            return f"{said}: {_MISTAKES[key]}"
    return said + "."


def _real(value):
    return isinstance(value, numbers.Real) and not isinstance(value, bool) and math.isfinite(
        float(value))


# ------------------------------------------------------------------ the training function


def _run_cases(hidden, course=None):
    """(name, lr, schedule, seed): runs where training is stable (its accuracy is the
    same on every machine), chosen so that the typical mistakes change the result.
    Hidden: drawn from the grading secret."""
    if not hidden:
        first, second, third = digits_seeds(course)[:3]
        return [("SGD", 1.0, "constant", first), ("Adam", 0.003, "warmup_cosine", second),
                ("Momentum", 0.03, "warmup_cosine", third)]
    gen = _hidden_rng("digits_run")
    names = [str(x) for x in gen.permutation(list(DIGITS_GRID))]
    schedules = ["constant", "warmup_cosine", "warmup_cosine"]
    cases = []
    for name, schedule in zip(names, schedules):
        lr = float(gen.choice(DIGITS_GRID[name][:3]))
        cases.append((name, lr, schedule, int(gen.integers(2**31))))
    return cases


def _run_probe(fn, hidden):
    runs = []
    course = _probe_course_seed()
    for name, lr, schedule, seed in _run_cases(hidden, course):
        try:
            value = fn(name, lr, schedule, seed)
        except Exception as error:
            runs.append({"value": None, "error": _describe_error(_name(fn), error)})
            continue
        runs.append({"value": float(value) if _real(value) else repr(value), "error": None})
    return {"runs": runs, "course_seed": course}


def _run_judge(outputs, hidden):
    course = _judge_course_seed(outputs)
    cases = _run_cases(hidden, course)
    runs = outputs["runs"]
    if len(runs) != len(cases):
        return Verdict(False, f"expected {len(cases)} runs, got {len(runs)}")
    for run, (name, lr, schedule, seed) in zip(runs, cases):
        where = f"run({name!r}, {lr:g}, {schedule!r}, seed={seed})"
        if run["error"]:
            return Verdict(False, f"{where}: {run['error']}.")
        value = run["value"]
        if not isinstance(value, float) or not 0 <= value <= 1:
            return Verdict(False, f"{where} returned {value}; it should return the final "
                                  "validation accuracy, a float between 0 and 1.")
        problem = _diagnose(value, name, lr, schedule, seed, course)
        if problem:
            return Verdict(False, f"{where} returned {problem}")
    return Verdict(True, f"run gives optlib's validation accuracy on {len(cases)} "
                         f"{'hidden ' if hidden else ''}settings (retrained independently).")


digits_run = _register("digits_run", _run_probe, _run_judge)
digits_run.__doc__ = """Check assignment 4's ``run(name, lr, schedule, seed)`` (the final
validation accuracy of one training run) against optlib's own runs, on
settings where training is stable; typical mistakes are named."""


# ------------------------------------------------------------------------ the protocol


def _tuning_probe(values, hidden):
    accuracy, results, seeds = values
    out = {"error": None, "seeds": None, "table": [], "results": [],
           "course_seed": _probe_course_seed()}
    try:
        seed_list = list(seeds)
    except TypeError:
        out["error"] = f"SEEDS should be a list of integers, got {type(seeds).__name__}"
        return out
    out["seeds"] = [int(s) if isinstance(s, numbers.Integral) and not isinstance(s, bool)
                    else repr(s) for s in seed_list]
    for label, table in (("accuracy", accuracy), ("results", results)):
        if not isinstance(table, dict):
            out["error"] = f"{label} should be a dict, got {type(table).__name__}"
            return out
    for key, value in accuracy.items():
        row = {"key": repr(key)[:80]}
        if (isinstance(key, tuple) and len(key) == 3 and all(isinstance(k, str) for k in key[:2])
                and _real(key[2])):
            row["name"], row["schedule"], row["lr"] = key[0], key[1], float(key[2])
        try:
            items = list(value)
        except TypeError:
            items = None
        if items is not None:
            row["values"] = [float(v) if _real(v) else repr(v) for v in items]
        out["table"].append(row)
    for key, value in results.items():
        row = {"key": repr(key)[:80]}
        if isinstance(key, tuple) and len(key) == 2 and all(isinstance(k, str) for k in key):
            row["name"], row["schedule"] = key
        if isinstance(value, dict):
            for field in ("lr", "mean", "sd"):
                if _real(value.get(field)):
                    row[field] = float(value[field])
        out["results"].append(row)
    return out


def _grid_rate(name, lr):
    match = [r for r in DIGITS_GRID.get(name, []) if abs(r - lr) <= 1e-9 * r]
    return match[0] if match else None


def _tuning_judge(outputs, hidden):
    course = _judge_course_seed(outputs)
    if outputs["error"]:
        return Verdict(False, outputs["error"])
    seeds = outputs["seeds"]
    if (not all(isinstance(s, int) for s in seeds) or len(set(seeds)) < 3
            or len(set(seeds)) != len(seeds)):
        return Verdict(False, f"SEEDS = {seeds}: use at least 3 different integer seeds "
                              "(checks.digits_seeds()): one run per seed says nothing about "
                              "the noise between runs.")
    table = {}
    for row in outputs["table"]:
        if "name" not in row:
            return Verdict(False, f"accuracy has the key {row['key']}; keys should be triples "
                                  "(name, schedule, lr), e.g. ('Adam', 'constant', 0.01).")
        lr = _grid_rate(row["name"], row["lr"])
        if row["name"] not in DIGITS_GRID or row["schedule"] not in DIGITS_SCHEDULES:
            return Verdict(False, f"accuracy has the key {row['key']}: the names are "
                                  f"{list(DIGITS_GRID)} and the schedules "
                                  f"{list(DIGITS_SCHEDULES)}.")
        if lr is None:
            return Verdict(False, f"accuracy has lr = {row['lr']:g} for {row['name']}, which "
                                  f"is not in GRID[{row['name']!r}]: every optimizer is tuned "
                                  "on its own grid and nothing else, so that none gets more "
                                  "tries than the others.")
        table[row["name"], row["schedule"], lr] = row.get("values")
    for name, rates in DIGITS_GRID.items():
        for schedule in DIGITS_SCHEDULES:
            for lr in rates:
                where = f"accuracy[{name!r}, {schedule!r}, {lr:g}]"
                values = table.get((name, schedule, lr))
                if values is None:
                    return Verdict(False, f"{where} is missing: tune every optimizer on the "
                                          f"whole of GRID[{name!r}], with both schedules.")
                if len(values) != len(seeds) or not all(
                        isinstance(v, float) and 0 <= v <= 1 for v in values):
                    return Verdict(False, f"{where} should hold {len(seeds)} accuracies "
                                          f"between 0 and 1, one per seed of SEEDS; got "
                                          f"{values}.")
    found = {(r["name"], r["schedule"]): r for r in outputs["results"] if "name" in r}
    for name, rates in DIGITS_GRID.items():
        for schedule in DIGITS_SCHEDULES:
            where = f"results[{name!r}, {schedule!r}]"
            row = found.get((name, schedule))
            if row is None:
                return Verdict(False, f"{where} is missing; results needs all "
                                      f"{len(DIGITS_GRID) * len(DIGITS_SCHEDULES)} pairs.")
            if not all(field in row for field in ("lr", "mean", "sd")):
                return Verdict(False, f"{where} should be a dict with numbers 'lr', 'mean' "
                                      "and 'sd'.")
            lr = _grid_rate(name, row["lr"])
            if lr is None:
                return Verdict(False, f"{where}: lr = {row['lr']:g} is not in "
                                      f"GRID[{name!r}] = {rates}.")
            values = table[name, schedule, lr]
            mean, sd = statistics.fmean(values), statistics.stdev(values)
            if abs(row["mean"] - mean) > 1e-9:
                return Verdict(False, f"{where}: mean = {row['mean']:.6f}, but the mean of "
                                      f"your accuracies at lr = {lr:g} is {mean:.6f}.")
            if abs(row["sd"] - sd) > 1e-9:
                hint = ""
                if abs(row["sd"] - statistics.pstdev(values)) <= 1e-9:
                    hint = (" You divided by n; the sample standard deviation divides by "
                            "n − 1 (np.std(..., ddof=1), statistics.stdev).")
                return Verdict(False, f"{where}: sd = {row['sd']:.6f}, but the sample "
                                      f"standard deviation of your accuracies at lr = {lr:g} "
                                      f"is {sd:.6f}.{hint}")
            means = {r: statistics.fmean(table[name, schedule, r]) for r in rates}
            best = max(means.values())
            best_lr = min(r for r in rates if means[r] >= best - 1e-12)
            if lr != best_lr:
                return Verdict(False, f"{where}: lr = {lr:g} has a mean of {means[lr]:.4f} "
                                      f"over your seeds, but lr = {best_lr:g} has "
                                      f"{best:.4f}: pick the rate with the highest mean "
                                      "validation accuracy (on a tie, the smaller rate).")
    chosen = {(name, schedule): _grid_rate(name, found[name, schedule]["lr"])
              for name in DIGITS_GRID for schedule in DIGITS_SCHEDULES}
    if hidden:  # other entries of the table, drawn from the grading secret
        others = [(name, schedule, lr) for (name, schedule), best in chosen.items()
                  for lr in DIGITS_GRID[name] if lr != best]
        gen = _hidden_rng("digits_tuning")
        entries = [others[i] for i in sorted(gen.choice(len(others), size=6, replace=False))]
    else:
        entries = [(name, schedule, lr) for (name, schedule), lr in chosen.items()]
    for name, schedule, lr in entries:
        for seed, value in zip(seeds, table[name, schedule, lr]):
            problem = _diagnose(value, name, lr, schedule, seed, course)
            if problem:
                return Verdict(False, f"accuracy[{name!r}, {schedule!r}, {lr:g}], seed "
                                      f"{seed}: you report {problem}")
    runs = len(entries) * len(seeds)
    which = "other" if hidden else "tuned"
    return Verdict(True, f"the protocol holds: {len(seeds)} seeds, every optimizer on its "
                         "whole grid with both schedules, the best mean chosen, mean and sd "
                         f"right; {runs} of your runs ({which} rates) retrained by optlib "
                         "agree.")


_tuning = _register("digits_tuning", _tuning_probe, _tuning_judge)


def digits_tuning(accuracy, results, seeds, hidden=False):
    """Check assignment 4's tuning protocol: ``accuracy`` ``{(name, schedule, lr): [one
    validation accuracy per seed]}`` over the whole grid, ``results`` ``{(name, schedule):
    {"lr", "mean", "sd"}}`` with the best mean chosen, and ``seeds`` (at least 3). Retrains
    a sample of the runs (the tuned rates; hidden: others drawn from the grading secret)."""
    return _tuning((accuracy, results, seeds), hidden)


# ------------------------------------------------- assignment 5: an adaptive training loop


def _rmsprop_problems(hidden):
    cases = []
    for i, seed in enumerate(_seeds(hidden, "rmsprop_step", (13, 14, 15))):
        scale = [1.0, 1e-5, 30.0, 1e-3][i % 4]
        problem = _Quadratic(seed, scale=scale)
        lr = [0.01, 0.003, 0.05, 0.02][i % 4]
        beta = [0.9, 0.99, 0.5, 0.95][i % 4]
        hyper = {"lr": lr, "beta": beta, "eps": 1e-8}
        cases.append((problem, (lambda k, hyper=hyper: hyper), 30,
                      f"d = {problem.d}, gradients ~{scale:g}, lr = {lr}, beta = {beta}"))
    return cases


def _rmsprop_reference(problem, hyper, steps):
    from .optimizers import RMSprop

    return _reference_trace(RMSprop(**hyper(1)), ["s"], problem, steps)


_CALL_RMSPROP = _call_with_grad(1, ["s_new"])


def _rmsprop_variant(eps_inside=False, average=True, square=True, sign=1.0, old_s=False,
                     swapped=False):
    def step(theta, s, grad, lr, beta, eps):
        new = grad**2 if square else np.abs(grad)
        if swapped:
            s_new = (1 - beta) * s + beta * new
        else:
            s_new = beta * s + (1 - beta) * new if average else beta * s + new
        used = s if old_s else s_new
        denominator = np.sqrt(used + eps) if eps_inside else np.sqrt(used) + eps
        with np.errstate(divide="ignore", invalid="ignore"):
            return theta - sign * lr * grad / denominator, s_new

    return step


rmsprop_step = _register("rmsprop_step", lambda fn, hidden: {"traces": [
    _simulate(fn, problem, hyper, steps, _CALL_RMSPROP)
    for problem, hyper, steps, _ in _rmsprop_problems(hidden)]}, _stepping_judge(
    fn_label="rmsprop_step", reference_label="optlib.RMSprop",
    problems=_rmsprop_problems, reference=_rmsprop_reference, state_names=["s"],
    variants=[
        (_rmsprop_variant(eps_inside=True), _CALL_RMSPROP,
         "You put ε inside the square root, √(s + ε). optlib (like PyTorch) adds it outside: "
         "√s + ε. Inside, ε = 1e-8 keeps the denominator above 1e-4: for tiny gradients "
         "(~1e-5) the steps shrink by orders of magnitude, and even for large ones they "
         "differ."),
        (_rmsprop_variant(sign=-1.0), _CALL_RMSPROP,
         "Your steps go uphill: a sign error, θ ← θ + … instead of θ ← θ − α·g/(√s + ε)."),
        (_rmsprop_variant(average=False), _CALL_RMSPROP,
         "Your s adds the whole g² (s ← βs + g²): that is not an average. Weigh the new "
         "square by 1 − β: s ← βs + (1 − β)g²."),
        (_rmsprop_variant(swapped=True), _CALL_RMSPROP,
         "The weights are swapped: the old s gets β and the new g² gets 1 − β "
         "(s ← βs + (1 − β)g²)."),
        (_rmsprop_variant(square=False), _CALL_RMSPROP,
         "Your s averages |g|; RMSprop averages the squared gradient g² (and takes the "
         "square root in the step)."),
        (_rmsprop_variant(old_s=True), _CALL_RMSPROP,
         "You divided by the old s. Update s first (s ← βs + (1 − β)g²), then step with the "
         "new s."),
    ]))
rmsprop_step.__doc__ = """Check ``rmsprop_step(theta, s, grad, lr, beta, eps) -> (theta_new,
s_new)`` (s ← βs + (1 − β)g², θ ← θ − αg/(√s + ε)) against :class:`optlib.RMSprop`."""


# ---------------------------------------------------------------- global-norm clipping


def _clip_cases(hidden):
    """(list of arrays, max_norm): public cases, or ones drawn from the grading secret.
    Each set mixes arrays of different sizes, so that clipping each array by its own
    norm, or by one array's norm, gives another answer than the global norm."""
    gen = np.random.default_rng(16) if not hidden else _hidden_rng("clip_global_norm")
    cases = []
    for i in range(3 if not hidden else 5):
        shapes = [(int(gen.integers(1, 6)),), tuple(int(n) for n in gen.integers(1, 5, 2))]
        if i % 2:
            shapes.append((int(gen.integers(1, 4)),))
        grads = [gen.normal(size=shape) * float(gen.choice([0.3, 1.0, 5.0])) for shape in shapes]
        norm = float(np.sqrt(sum(float(np.sum(g**2)) for g in grads)))
        # below the threshold (nothing changes), just above, far above
        factor = [2.0, 0.8, 0.1, 0.5, 1.5][i]
        cases.append((grads, round(norm * factor, 3)))
    return cases


def _clip_probe(fn, hidden):
    runs = []
    for grads, max_norm in _clip_cases(hidden):
        inputs = [g.copy() for g in grads]
        try:
            result = fn(inputs, max_norm)
        except Exception as error:
            runs.append({"error": _describe_error(_name(fn), error)})
            continue
        run = {"error": None, "mutated": any(not np.array_equal(a, b)
                                             for a, b in zip(inputs, grads))}
        if not isinstance(result, (tuple, list)) or len(result) != 2 or not _real(result[1]):
            got = (f"a {type(result).__name__} of length {len(result)}"
                   if isinstance(result, (tuple, list)) else type(result).__name__)
            run["error"] = (f"{_name(fn)} returned {got}; it should return a pair "
                            "(clipped, norm): the list of clipped arrays and the global norm "
                            "before clipping, a float")
        else:
            clipped, norm = result
            try:
                run["clipped"] = [np.array(c, dtype=float).tolist() for c in clipped]
                run["shapes"] = [list(np.shape(c)) for c in clipped]
            except (TypeError, ValueError):
                run["error"] = f"{_name(fn)} returned clipped = {type(clipped).__name__}"
            run["norm"] = float(norm) if _real(norm) else repr(norm)
        runs.append(run)
    return {"runs": runs}


def _clip_judge(outputs, hidden):
    from .clipping import clip_by_global_norm

    cases = _clip_cases(hidden)
    for p, (run, (grads, max_norm)) in enumerate(zip(outputs["runs"], cases, strict=True)):
        sizes = ", ".join(str(tuple(g.shape)) for g in grads)
        where = f"case {p + 1} ({len(grads)} arrays of shapes {sizes}, max_norm = {max_norm:g})"
        if run["error"]:
            return Verdict(False, f"{where}: {run['error']}.")
        if run["mutated"]:
            return Verdict(False, f"{where}: clip_global_norm changed the arrays it was given "
                                  "(e.g. `g *= scale`). Return new arrays: the caller's "
                                  "gradients must not change.")
        expected, norm = clip_by_global_norm(grads, max_norm)
        if run["shapes"] != [list(g.shape) for g in grads]:
            return Verdict(False, f"{where}: clipped has shapes {run['shapes']}; it should be "
                                  "a list of arrays shaped like the input.")
        mine = [np.asarray(c, float) for c in run["clipped"]]
        if not isinstance(run["norm"], float) or abs(run["norm"] - norm) > 1e-9 * norm:
            own = [float(np.linalg.norm(g)) for g in grads]
            hint = ""
            if isinstance(run["norm"], float):
                after = min(norm, max_norm)
                if abs(run["norm"] - after) <= 1e-9 * after:
                    hint = " That is the norm after clipping; return the one before."
                elif any(abs(run["norm"] - n) <= 1e-9 * n for n in own):
                    hint = " That is the norm of one array; the global norm covers them all."
                elif abs(run["norm"] - sum(own)) <= 1e-9 * sum(own):
                    hint = (" That is the sum of the arrays' norms; the global norm is the "
                            "root of the sum of their squares.")
            return Verdict(False, f"{where}: you return norm = {run['norm']}, but the global "
                                  f"norm of the gradients is {norm:.6g} (√ of the sum of every "
                                  f"squared entry of every array).{hint}")
        if all(np.allclose(m, e, rtol=1e-9, atol=1e-12) for m, e in zip(mine, expected)):
            continue
        per_array = [g * min(1.0, max_norm / max(float(np.linalg.norm(g)), 1e-300))
                     for g in grads]
        always = [g * (max_norm / norm) for g in grads]
        by_value = [np.clip(g, -max_norm, max_norm) for g in grads]
        hint = "Compare with the formula: every array times min(1, max_norm / norm)."
        for other, text in (
                (per_array, "You clipped each array by its own norm. That changes the "
                            "direction of the update; scale every array by the same "
                            "factor, max_norm / (global norm), when the global norm is "
                            "above max_norm."),
                (always, "You rescaled although the global norm is below max_norm: clipping "
                         "only ever shrinks (leave the gradients as they are when the norm is "
                         "at most max_norm)."),
                (by_value, "You clamped every entry to [−max_norm, max_norm] (clipping by "
                           "value); this question asks for clipping by the global norm.")):
            if all(np.allclose(m, o, rtol=1e-9, atol=1e-12) for m, o in zip(mine, other)):
                hint = text
                break
        state = "above" if norm > max_norm else "at most"
        should = _fmt(np.concatenate([e.ravel() for e in expected]))
        yours = _fmt(np.concatenate([m.ravel() for m in mine]))
        return Verdict(False, f"{where}: the global norm {norm:.4g} is {state} max_norm, so "
                              f"the result should be {should}; yours is {yours}. {hint}")
    return Verdict(True, f"clip_global_norm matches optlib.clip_by_global_norm on {len(cases)} "
                         f"{'hidden ' if hidden else ''}lists of gradients (norms above and "
                         "below max_norm).")


clip_global_norm = _register("clip_global_norm", _clip_probe, _clip_judge)
clip_global_norm.__doc__ = """Check ``clip_global_norm(grads, max_norm) -> (clipped, norm)``
for a list of arrays against :func:`optlib.clip_by_global_norm`."""


# --------------------------------------------------------------- a minibatch training loop


def _loop_factor(kind, length):
    """The schedule factor the loop check hands to the student's loop: a function of t
    (completed updates) that *scales* the base rate."""
    if kind == "warmup":
        def factor(t):
            return min(1.0, (t + 1) / length)
    else:
        def factor(t):
            return 0.05 + 0.95 * 0.5 * (1 + math.cos(math.pi * min(t, length) / length))
    return factor


def _loop_cases(hidden):
    """Training set-ups for the loop check: dicts with the data's size, the minibatch size
    (never a divisor of it, so there is always a last, smaller minibatch), the epochs, the
    base rate, the schedule, max_norm and the seeds."""
    if not hidden:
        return [{"n": 50, "batch_size": 16, "epochs": 3, "lr": 0.05, "schedule": "warmup",
                 "length": 4, "max_norm": 1.0, "seed": 17, "data_seed": 18, "beta": 0.9,
                 "eps": 1e-8}]
    gen = _hidden_rng("training_loop")
    cases = []
    for kind in ("warmup", "decay"):
        batch_size = int(gen.integers(6, 20))
        n = int(gen.integers(3, 7)) * batch_size + int(gen.integers(1, batch_size))
        cases.append({"n": n, "batch_size": batch_size, "epochs": int(gen.integers(2, 4)),
                      "lr": float(gen.choice([0.01, 0.03, 0.1])), "schedule": kind,
                      "length": int(gen.integers(3, 12)),
                      "max_norm": float(gen.choice([0.5, 1.0, 2.0])),
                      "seed": int(gen.integers(2**31)), "data_seed": int(gen.integers(2**31)),
                      "beta": float(gen.choice([0.9, 0.99])), "eps": 1e-8})
    return cases


class _LoopProblem:
    """Least squares with two parameter arrays, W (d × k) and b (k): the loss of a
    minibatch is the mean of ½‖xW + b − y‖². Column 0 of X is the sample's index (the
    model ignores it), so that the check can see which samples each minibatch held."""

    def __init__(self, case):
        rng = np.random.default_rng(case["data_seed"])
        n, d, k = case["n"], 3, 2
        features = rng.normal(size=(n, d))
        self.X = np.column_stack([np.arange(n, dtype=float), features])
        self.y = features @ rng.normal(size=(d, k)) * 10 + rng.normal(size=(n, k))
        self.params = [rng.normal(size=(d, k)) * 0.1, np.zeros(k)]

    @staticmethod
    def loss_and_grad(params, X, y):
        W, b = params
        residual = X[:, 1:] @ W + b - y
        m = len(X)
        return (float(0.5 * np.sum(residual**2) / m),
                [X[:, 1:].T @ residual / m, residual.sum(axis=0) / m])


def _loop_probe(fn, hidden):
    runs = []
    for case in _loop_cases(hidden):
        problem = _LoopProblem(case)
        calls = []

        def loss_and_grad(params, X, y, problem=problem, calls=calls):
            X = np.asarray(X, dtype=float)
            params = [np.asarray(p, dtype=float) for p in params]
            calls.append({"rows": [int(r) for r in X[:, 0]], "params": [_lists(p) for p in params]})
            return problem.loss_and_grad(params, X, np.asarray(y, dtype=float))

        run = {"calls": calls, "error": None, "params": None, "losses": None}
        try:
            params, losses = fn([p.copy() for p in problem.params], loss_and_grad,
                                problem.X.copy(), problem.y.copy(), lr=case["lr"],
                                schedule=_loop_factor(case["schedule"], case["length"]),
                                batch_size=case["batch_size"], epochs=case["epochs"],
                                max_norm=case["max_norm"], seed=case["seed"],
                                beta=case["beta"], eps=case["eps"])
            run["params"] = [_lists(p) for p in params]
            run["losses"] = [float(v) if _real(v) else repr(v) for v in losses]
        except Exception as error:
            run["error"] = _describe_error(_name(fn), error)
        if len(calls) > 10_000:
            del calls[10_000:]
        runs.append(run)
    return {"runs": runs}


def _loop_reference(case, variant=""):
    """optlib's run of the loop (RMSprop, global-norm clipping, the schedule scaling the
    base rate, every minibatch including the last), or of one of its typical mistakes."""
    from .clipping import clip_by_global_norm
    from .optimizers import RMSprop

    problem = _LoopProblem(case)
    factor = _loop_factor(case["schedule"], case["length"])
    lr = case["lr"]
    rate = {"override": factor, "t + 1": lambda t: lr * factor(t + 1)}.get(
        variant, lambda t: lr * factor(t))
    optimizer = RMSprop(lr=rate, beta=case["beta"], eps=case["eps"])
    params = [p.copy() for p in problem.params]
    n, size = case["n"], case["batch_size"]
    rng = np.random.default_rng(case["seed"])
    calls, losses = [], []
    for _ in range(case["epochs"]):
        if variant == "rng per epoch":
            rng = np.random.default_rng(case["seed"])
        order = np.arange(n) if variant == "no shuffle" else rng.permutation(n)
        stop = n - n % size if variant == "drop last" else n
        for start in range(0, stop, size):
            batch = order[start:start + size]
            calls.append({"rows": [int(r) for r in batch], "params": [_lists(p) for p in params]})
            loss, grads = problem.loss_and_grad(params, problem.X[batch], problem.y[batch])
            if variant == "per array":
                grads = [clip_by_global_norm(g, case["max_norm"])[0] for g in grads]
            elif variant != "no clipping":
                grads, _ = clip_by_global_norm(grads, case["max_norm"])
            params = optimizer.step(params, grads)
            losses.append(loss)
    return {"calls": calls, "params": [_lists(p) for p in params], "losses": losses}


_LOOP_MISTAKES = {
    "override": "the schedule overrides the rate: your updates use schedule(t) as the learning "
                "rate, so lr is never used (the source article's bug). The schedule scales "
                "the base rate: rate = lr * schedule(t).",
    "t + 1": "your schedule is one step ahead: the first update uses schedule(0) (t counts "
             "the updates made so far).",
    "per array": "you clipped each array by its own norm. Clip all of them together, by "
                 "their global norm (your clip_global_norm on the whole list).",
    "no clipping": "the gradients are not clipped: clip them with clip_global_norm(grads, "
                   "max_norm) before each update.",
}


def _loop_judge(outputs, hidden):
    cases = _loop_cases(hidden)
    for p, (run, case) in enumerate(zip(outputs["runs"], cases, strict=True)):
        n, size, epochs = case["n"], case["batch_size"], case["epochs"]
        where = (f"set-up {p + 1} (n = {n} samples, batch_size = {size}, epochs = {epochs}, "
                 f"lr = {case['lr']:g}, max_norm = {case['max_norm']:g}, seed = {case['seed']})")
        if run["error"]:
            return Verdict(False, f"{where}: {run['error']}.")
        ref = _loop_reference(case)
        calls = run["calls"]
        per_epoch = math.ceil(n / size)
        if len(calls) != len(ref["calls"]):
            if len(calls) == epochs * (n // size):
                return Verdict(False, f"{where}: your loop made {len(calls)} updates, "
                                      f"{n // size} per epoch: the last partial batch is dropped "
                                      f"(the source article's bug), so {n % size} samples are "
                                      f"never seen in each epoch. Use every minibatch: "
                                      f"{per_epoch} per epoch, the last one with {n % size} "
                                      "samples (range(0, n, batch_size)).")
            return Verdict(False, f"{where}: loss_and_grad was called {len(calls)} times; it "
                                  f"should be called once per minibatch, {epochs} × "
                                  f"ceil({n}/{size}) = {len(ref['calls'])} times.")
        for k, (mine, theirs) in enumerate(zip(calls, ref["calls"]), start=1):
            if sorted(mine["rows"]) == sorted(theirs["rows"]):
                continue
            epoch, index = divmod(k - 1, per_epoch)
            hint = ("Make rng = np.random.default_rng(seed) once, before the epochs, and "
                    "take order = rng.permutation(n) at the start of each epoch; minibatch i "
                    "is order[i * batch_size:(i + 1) * batch_size].")
            for variant, text in (("no shuffle", "Your minibatches are not shuffled. "),
                                  ("rng per epoch", "You make a new generator every epoch, so "
                                                    "every epoch has the same order. ")):
                other = _loop_reference(case, variant)["calls"]
                if all(sorted(a["rows"]) == sorted(b["rows"]) for a, b in zip(calls, other)):
                    hint = text + hint
                    break
            return Verdict(False, f"{where}: minibatch {index + 1} of epoch {epoch + 1} holds "
                                  f"other samples than it should. {hint}")
        scale = 1e-6
        for k, (mine, theirs) in enumerate(zip(calls, ref["calls"])):
            if all(_close(a, b, scale) for a, b in zip(mine["params"], theirs["params"])):
                continue
            for variant, text in _LOOP_MISTAKES.items():
                other = _loop_reference(case, variant)["calls"]
                if all(_close(a, b, scale) for c, o in zip(calls, other)
                       for a, b in zip(c["params"], o["params"])):
                    return Verdict(False, f"{where}: from update {max(k, 1)} on, your "
                                          f"parameters follow another run: {text}")
            if k == 0:
                return Verdict(False, f"{where}: the first call of loss_and_grad gets other "
                                      "parameters than the ones train_loop was given.")
            matched = "" if k == 1 else f" (updates 1–{k - 1} matched)"
            return Verdict(False, f"{where}: after update {k} your parameters differ from "
                                  f"optlib's{matched}: "
                                  f"W is {_fmt(mine['params'][0])} where it should be "
                                  f"{_fmt(theirs['params'][0])}. Check the order: gradient, "
                                  "clipping, rate = lr * schedule(t), one rmsprop_step per "
                                  "array, t += 1.")
        if run["params"] is None or len(run["params"]) != len(ref["params"]) or not all(
                _close(a, b, scale) for a, b in zip(run["params"], ref["params"])):
            return Verdict(False, f"{where}: every update matches, but the parameters you "
                                  "return are not those after the last update.")
        if run["losses"] is None or len(run["losses"]) != len(ref["losses"]) or not all(
                isinstance(a, float) and abs(a - b) <= 1e-9 * max(1.0, abs(b))
                for a, b in zip(run["losses"], ref["losses"])):
            got = "nothing" if run["losses"] is None else f"{len(run['losses'])} values"
            return Verdict(False, f"{where}: losses should hold the loss of every minibatch, "
                                  f"in order ({len(ref['losses'])} values); got {got}.")
    return Verdict(True, f"train_loop matches optlib (RMSprop, global-norm clipping, the "
                         f"schedule scaling lr, every minibatch) on {len(cases)} "
                         f"{'hidden ' if hidden else ''}set-up(s).")


training_loop = _register("training_loop", _loop_probe, _loop_judge)
training_loop.__doc__ = """Check assignment 5's ``train_loop(params, loss_and_grad, X, y, *,
lr, schedule, batch_size, epochs, max_norm, seed, beta, eps) -> (params, losses)``
against optlib: the minibatches (shuffled, the last partial one kept), global-norm
clipping, the schedule scaling the base rate, RMSprop's updates."""
