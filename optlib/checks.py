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
import threading
import traceback
import zlib

import numpy as np

from ._blas import one_blas_thread
from .landscapes import Ravine, Rosenbrock
from .optimizers import OPTIMIZERS, SGD, Adam, Momentum, Nesterov

__all__ = [
    "CheckFailed", "Verdict", "CHECKS", "judge", "recording",
    "momentum_step", "momentum_path", "ravine_problem", "ravine_tuning",
    "nesterov_step", "nesterov_rewritten_step", "article_nesterov",
    "adam_moments", "adam_step", "uncorrected_first_step",
    "warmup_cosine", "digits_data", "digits_tuning", "DIGITS_SETUP", "DIGITS_GRID",
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


def ravine_problem():
    """The ravine of assignment 1: ``dict(landscape, tuning_starts, test_starts, tol,
    max_steps)``: 3 starts to tune on and 5 others to score on, drawn from the course
    seed (:mod:`optlib.seeding`, ``OPTLIB_SEED``)."""
    from .seeding import rng

    starts = _ravine_starts(rng("assignment 1", "ravine starts"), 8)
    return {"landscape": Ravine(kappa=100), "tuning_starts": starts[:3],
            "test_starts": starts[3:], "tol": 1e-6, "max_steps": 3000}


def _ravine_probe(values, hidden):
    gd_lr, momentum_lr, momentum_beta = values
    out = {}
    for name, value in (("gd_lr", gd_lr), ("momentum_lr", momentum_lr),
                        ("momentum_beta", momentum_beta)):
        ok = isinstance(value, numbers.Real) and not isinstance(value, bool)
        out[name] = float(value) if ok else repr(value)
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
def _best_gd_steps(starts):
    from .measure import tune_lr

    problem = ravine_problem()
    tuning = tune_lr(lambda lr: SGD(lr=lr), problem["landscape"], _GD_GRID, problem["tol"],
                     problem["max_steps"], starts=list(starts))
    return float(tuning.median)


def _ravine_judge(outputs, hidden):
    problem = ravine_problem()
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
    best = _best_gd_steps(tuple(starts))
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

#: The set-up of assignment 4, shared by the notebook and the grader.
DIGITS_SETUP = {"sizes": [64, 32, 10], "epochs": 8, "batch_size": 64, "seed": 0,
                "warmup_epochs": 1}
#: The learning rates assignment 4 tries for each optimizer.
DIGITS_GRID = {"SGD": [0.1, 0.3, 1.0, 3.0, 10.0], "Momentum": [0.01, 0.03, 0.1, 0.3, 1.0],
               "Adam": [0.001, 0.003, 0.01, 0.03, 0.1]}
_SCHEDULES = ("constant", "warmup_cosine")


def digits_data():
    """The digits, split and standardised (:func:`optlib.datasets.digits_split`)."""
    from .datasets import digits_split

    return digits_split()


_digits_lock = threading.Lock()


def _digits_reference():
    """{(name, schedule, lr): validation accuracy} for the whole grid, trained by optlib
    once per process (the grader judges from several threads)."""
    with _digits_lock, one_blas_thread():
        return _digits_table()


@functools.lru_cache(maxsize=1)
def _digits_table():
    from .models import MLP
    from .schedules import warmup_cosine as schedule_fn
    from .training import DivergenceError, train

    data = digits_data()
    setup = DIGITS_SETUP
    model = MLP(setup["sizes"])
    steps_per_epoch = -(-len(data["X_train"]) // setup["batch_size"])
    table = {}
    for name, rates in DIGITS_GRID.items():
        for schedule in _SCHEDULES:
            for lr in rates:
                rate = lr if schedule == "constant" else schedule_fn(
                    lr, warmup_steps=setup["warmup_epochs"] * steps_per_epoch,
                    total_steps=setup["epochs"] * steps_per_epoch)
                try:
                    _, history = train(model, model.init(seed=setup["seed"]),
                                       OPTIMIZERS[name](lr=rate), data["X_train"],
                                       data["y_train"], epochs=setup["epochs"],
                                       batch_size=setup["batch_size"], seed=setup["seed"],
                                       X_val=data["X_val"], y_val=data["y_val"],
                                       progress=False)
                    table[name, schedule, lr] = float(history.val_accuracy[-1])
                except DivergenceError:
                    table[name, schedule, lr] = 0.0
    return table


def _digits_probe(results, hidden):
    rows = []
    if not isinstance(results, dict):
        return {"rows": None, "error": f"results should be a dict, got {type(results).__name__}"}
    for key, value in results.items():
        row = {"key": repr(key)}
        if isinstance(key, tuple) and len(key) == 2 and all(isinstance(k, str) for k in key):
            row["name"], row["schedule"] = key
        if isinstance(value, dict):
            for field in ("lr", "val_accuracy"):
                item = value.get(field)
                if isinstance(item, numbers.Real) and not isinstance(item, bool):
                    row[field] = float(item)
        rows.append(row)
    return {"rows": rows, "error": None}


def _digits_judge(outputs, hidden):
    if outputs["error"]:
        return Verdict(False, outputs["error"])
    table = _digits_reference()
    found = {}
    for row in outputs["rows"]:
        if "name" not in row:
            return Verdict(False, f"results has the key {row['key']}; keys should be pairs "
                                  "(name, schedule), e.g. ('Adam', 'warmup_cosine').")
        found[row["name"], row["schedule"]] = row
    one_image = 1 / 360
    for name, rates in DIGITS_GRID.items():
        for schedule in _SCHEDULES:
            where = f"results[{name!r}, {schedule!r}]"
            row = found.get((name, schedule))
            if row is None:
                return Verdict(False, f"{where} is missing; results needs all "
                                      f"{len(DIGITS_GRID) * len(_SCHEDULES)} combinations.")
            if "lr" not in row or "val_accuracy" not in row:
                return Verdict(False, f"{where} should be a dict with numbers 'lr' and "
                                      "'val_accuracy'.")
            lr = row["lr"]
            match = [r for r in rates if abs(r - lr) <= 1e-9 * r]
            if not match:
                return Verdict(False, f"{where}: lr = {lr:g} is not in GRID[{name!r}] = "
                                      f"{rates}.")
            lr = match[0]
            truth = table[name, schedule, lr]
            if abs(row["val_accuracy"] - truth) > 1.5 * one_image:
                hint = ""
                other = "warmup_cosine" if schedule == "constant" else "constant"
                if abs(row["val_accuracy"] - table[name, other, lr]) <= 1.5 * one_image:
                    hint = (f" That is the accuracy of the {other!r} run: is the schedule "
                            "passed to the optimizer as its lr (or left out)?")
                return Verdict(False, f"{where}: you report validation accuracy "
                                      f"{row['val_accuracy']:.4f} at lr = {lr:g}, but training "
                                      f"with SETUP gives {truth:.4f}.{hint}")
            best = max(table[name, schedule, r] for r in rates)
            if truth < best - 1.5 * one_image:
                best_lr = min(r for r in rates if table[name, schedule, r] == best)
                return Verdict(False, f"{where}: lr = {lr:g} gives {truth:.4f}, but lr = "
                                      f"{best_lr:g} in the grid gives {best:.4f}: pick the "
                                      "rate with the highest validation accuracy.")
    return Verdict(True, "every tuned rate is the best of its grid, and every reported "
                         "accuracy is what that rate gives (retrained independently).")


digits_tuning = _register("digits_tuning", _digits_probe, _digits_judge)
digits_tuning.__doc__ = """Check assignment 4's ``results``: ``{(name, schedule): {"lr",
"val_accuracy"}}`` for name in DIGITS_GRID and schedule "constant" / "warmup_cosine".
Retrains every rate of the grid with optlib (once per process) and compares."""
