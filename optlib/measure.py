"""Measuring optimizers: steps to a tolerance, a tuned learning rate, a fair race.

Claims like "Adam is 5-10x faster than SGD" are only meaningful with a protocol behind
them. The one this module implements, and the chapter "Comparing optimizers, measured"
uses, has three parts:

1. **A yardstick.** :func:`steps_to_tolerance` counts the updates until
   ``f(theta_k) - f*`` has dropped to ``tol`` or below (and, with ``hold=h``, stays
   there for h more steps); ``None`` if that does not happen within ``max_steps``.
2. **A tuned learning rate per optimizer.** :func:`tune_lr` tries every rate of a grid
   on several runs (starting points, and noise seeds for a :class:`~optlib.landscapes.Noisy`
   landscape) and keeps the rate with the fewest median steps. Every optimizer gets the
   same grid, so none is favoured by a hand-picked rate.
3. **A race with spread.** :func:`race` runs tuned optimizers on (preferably other) runs
   and returns tidy records, one per run; :func:`summarize` turns them into one row per
   (landscape, optimizer) with the median, the range and the speed-up over a baseline.

    >>> from optlib import SGD, Ravine
    >>> from optlib.measure import steps_to_tolerance, tune_lr
    >>> ravine = Ravine(kappa=10)
    >>> steps_to_tolerance(SGD(lr=1.0), ravine, tol=1e-6, max_steps=1000)
    65
    >>> tune_lr(lambda lr: SGD(lr=lr), ravine, [0.5, 1.0, 1.5, 1.8], 1e-6, 1000).lr
    1.8

Conventions:

* ``f*`` is ``landscape.min_value``. A landscape with no minimum (``min_value`` None,
  like :class:`~optlib.landscapes.Saddle`) is measured by f itself, and ``tol`` may be
  negative: "the steps to escape down to f <= tol".
* A Noisy landscape is *replayed from its seed* for every run, so a measurement is a
  pure function of its arguments and every optimizer sees the same noise on run i.

You can skip the implementation on first reading; the docstrings say what is measured.
"""

import math
import numbers
import statistics

import numpy as np

from .landscapes import Landscape, Noisy
from .optimizers import Optimizer, trajectory
from .plotting import suboptimality

#: The first attempt of :func:`steps_to_tolerance` looks for a step count up to this;
#: each further attempt doubles it, up to ``max_steps``. So a run that needs k steps
#: costs about 2k steps of computation, not ``max_steps``.
FIRST_ATTEMPT = 32

#: A run whose f − f* grows to more than this many times its starting value (or
#: overflows) is counted as diverged and stopped early.
BLOW_UP = 1e12


# ------------------------------------------------------------------------ checking input


def _check_int(name, value, least):
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < least:
        raise ValueError(f"{name} must be an integer >= {least}, got {value!r}")
    return int(value)


def _check_tol(tol, landscape):
    if isinstance(tol, bool) or not isinstance(tol, numbers.Real) or not math.isfinite(tol):
        raise ValueError(f"tol must be a finite number, got {tol!r}")
    if tol < 0 and landscape.min_value is not None:
        raise ValueError(
            f"tol must be >= 0 on a landscape with a minimum (f − f* is never negative), "
            f"got {tol!r}"
        )
    return float(tol)


def _check_landscape(landscape):
    if not isinstance(landscape, Landscape):
        raise TypeError(f"landscape must be an optlib Landscape, got {type(landscape).__name__}")


def _check_optimizer(optimizer, what="optimizer"):
    if not isinstance(optimizer, Optimizer):
        raise TypeError(f"{what} must be an optlib Optimizer, got {type(optimizer).__name__}")
    if callable(optimizer.lr):
        raise ValueError(f"{what} has a schedule as lr; these measurements need a constant rate")


def _replay(landscape, seed=None):
    """A fresh copy of a Noisy landscape (its noise starts again from the seed, or from
    ``seed`` if given); any other landscape is returned as it is."""
    if isinstance(landscape, Noisy):
        return Noisy(landscape.landscape, landscape.sigma,
                     landscape.seed if seed is None else seed)
    if seed is not None:
        raise ValueError(f"seeds are only for Noisy landscapes; {landscape.name} has no noise")
    return landscape


def _runs(landscape, starts, seeds):
    """The runs to measure, as (landscape, start, seed) triples: run i starts at
    ``starts[i]`` and, on a Noisy landscape, draws its noise from ``seeds[i]``."""
    _check_landscape(landscape)
    starts = [landscape.start] if starts is None else list(starts)
    if not starts:
        raise ValueError("starts must hold at least one starting point")
    for start in starts:
        if len(start) != 2 or not all(math.isfinite(float(c)) for c in start):
            raise ValueError(f"every start must be a finite point (x, y), got {start!r}")
    if seeds is None:
        seeds = [None] * len(starts)
    elif len(seeds) != len(starts):
        raise ValueError(f"seeds must have one seed per start: got {len(seeds)} seeds for "
                         f"{len(starts)} starts")
    return [(_replay(landscape, seed), tuple(float(c) for c in start), seed)
            for start, seed in zip(starts, seeds)]


# ------------------------------------------------------------------------- the yardstick


def _settled(gap, tol, last, hold):
    """The first k <= ``last`` with gap[j] <= tol for every j in k, ..., k + hold."""
    n = len(gap) - 1
    with np.errstate(invalid="ignore"):
        bad = ~(gap <= tol)  # nan (diverged) is bad too
    # first_bad_from[k]: the first bad index >= k (n + 1 if none)
    first_bad_from = np.minimum.accumulate(np.where(bad, np.arange(n + 1), n + 1)[::-1])[::-1]
    k = np.arange(min(last, n - hold) + 1)
    ok = np.flatnonzero(first_bad_from[k] > k + hold)
    return int(ok[0]) if ok.size else None


def _attempt(optimizer, landscape, tol, last, start, hold):
    """One path of ``last + hold`` steps: (the steps to tolerance if at most ``last``,
    else None; whether the path diverged; the lowest f − f* on it)."""
    path = trajectory(optimizer, _replay(landscape), start, last + hold)
    gap = suboptimality(landscape, path)
    k = _settled(gap, tol, last, hold)
    lowest = float(np.nanmin(gap)) if np.isfinite(gap).any() else math.inf
    diverged = not np.isfinite(gap[-1]) or gap[-1] > BLOW_UP * max(abs(gap[0]), abs(tol))
    return k, k is None and bool(diverged), lowest


def steps_to_tolerance(optimizer, landscape, tol, max_steps, start=None, hold=0):
    """The first step k at which f(θ_k) − f* <= ``tol``, and stays so for ``hold`` more
    steps (f(θ_j) − f* <= ``tol`` for j = k, ..., k + hold). None if there is no such
    k <= ``max_steps``.

    k = 0 means the start already meets the tolerance. ``hold`` matters when the path
    does not settle: an oscillating or hovering path (momentum, an adaptive method with
    a constant rate, noisy gradients) can pass through the tolerance and leave it
    again; with ``hold=h`` a visit counts only if it lasts h + 1 steps.

    The path is computed with :func:`optlib.trajectory` (``optimizer`` itself is not
    changed) in attempts that look for k <= 32, 64, 128, ... (each computing the path
    from the start again) until one succeeds or ``max_steps`` is reached, so a run
    that needs k steps costs about 2k + 2 * hold steps of computation, not
    ``max_steps``. A run that overflows, or whose f − f* grows past :data:`BLOW_UP`
    times its start value, has diverged: None.

    Args:
        optimizer: an :class:`~optlib.optimizers.Optimizer` with a constant ``lr``.
        landscape: a 2-D landscape. A :class:`~optlib.landscapes.Noisy` one is replayed
            from its seed (the object you pass is not consumed).
        tol: the tolerance on f − f*; on a landscape without a minimum, on f itself
            (may then be negative: the steps to escape down to f <= tol).
        max_steps: the largest step count to report, an integer >= 0.
        start: starting point; default ``landscape.start``.
        hold: how many more steps the tolerance must hold, an integer >= 0.

    Returns:
        An int, or None.
    """
    _check_optimizer(optimizer)
    _check_landscape(landscape)
    tol = _check_tol(tol, landscape)
    max_steps = _check_int("max_steps", max_steps, 0)
    hold = _check_int("hold", hold, 0)
    last = min(FIRST_ATTEMPT, max_steps)
    while True:
        k, diverged, _ = _attempt(optimizer, landscape, tol, last, start, hold)
        if k is not None or diverged or last == max_steps:
            return k
        last = min(2 * last, max_steps)


def score(steps):
    """The median of a list of step counts, None (never reached) counting as infinity.

    For an even number of runs this is the larger of the two middle values
    (``statistics.median_high``), so it is always a count some run needed.
    """
    return statistics.median_high([math.inf if s is None else s for s in steps])


# ------------------------------------------------------------------------ tuning the rate


class Tuning:
    """The result of :func:`tune_lr`.

    Attributes:
        lr: the best rate of the grid (None if no rate reached ``tol`` on at least half
            of the runs within ``max_steps``).
        median: its score (median steps; inf if ``lr`` is None).
        table: ``{rate: [steps of run 0, run 1, ...]}`` for every rate of the grid,
            smallest rate first. Every count is exact; None means "not reached within
            the steps this run was given" (at most ``budget``) or "not run, because this
            rate could no longer win". So only ``lr`` and ``median`` are final answers.
        budget: the step budget every run had when the search stopped.
        runs: the (start, seed) of each run, in the order of the table's lists.
    """

    def __init__(self, lr, median, table, budget, runs):
        self.lr, self.median, self.table, self.budget, self.runs = (
            lr, median, table, budget, runs)

    def medians(self):
        """``{rate: score}``; inf where fewer than half of the runs were within budget."""
        return {lr: score(steps) for lr, steps in self.table.items()}

    def __repr__(self):
        return f"Tuning(lr={self.lr!r}, median={self.median!r}, budget={self.budget})"


def log_grid(low, high, per_decade=4):
    """Learning rates 10^(j / per_decade) from ``low`` to ``high``, rounded to 3 digits.

    ``log_grid(1e-3, 10)`` has 17 rates, each about 1.78 times the last.
    """
    if not (isinstance(low, numbers.Real) and isinstance(high, numbers.Real) and 0 < low < high):
        raise ValueError(f"need 0 < low < high, got low={low!r}, high={high!r}")
    per_decade = _check_int("per_decade", per_decade, 1)
    first = round(math.log10(low) * per_decade)
    last = round(math.log10(high) * per_decade)
    return [float(f"{10 ** (j / per_decade):.3g}") for j in range(first, last + 1)]


def tune_lr(make_optimizer, landscape, grid, tol, max_steps, starts=None, seeds=None,
            hold=0):
    """The rate of ``grid`` with the fewest median steps to ``tol`` over several runs.

    Every rate is run from every start (and, on a Noisy landscape, with every seed);
    the score of a rate is the median of its step counts (:func:`score`), a run that
    never reaches ``tol`` counting as infinitely many. The best rate has the smallest
    score; on a tie, the smallest such rate wins.

    All rates are searched together with a growing budget: every run may count up to
    32 steps, then the unfinished ones up to 64, 128, ... (at most ``max_steps``), and
    the search stops at the first budget within which some rate's score fits: no rate
    needing more steps can beat that one. Within that last round, once a rate fits,
    the rates tried after it only need to be run long enough to beat it, and a rate
    stops as soon as too many of its runs missed for its median to win. So the answer
    is exactly the best rate of the grid, and a hopeless rate costs about as much as
    the best one, not ``max_steps``. It is also why ``table`` holds None for slow
    rates: "not within the steps it was given" (at most ``budget``).

    Args:
        make_optimizer: a function ``lr -> Optimizer``, e.g. ``lambda lr: Adam(lr=lr)``
            (other hyperparameters stay as that function sets them).
        landscape: a 2-D landscape, possibly :class:`~optlib.landscapes.Noisy`.
        grid: the learning rates to try (positive numbers), e.g. :func:`log_grid`.
        tol, max_steps, hold: as in :func:`steps_to_tolerance`.
        starts: starting points, one run each; default ``[landscape.start]``.
        seeds: for a Noisy landscape only, one noise seed per start (default: the
            landscape's own seed for every run).

    Returns:
        A :class:`Tuning`.
    """
    if not callable(make_optimizer):
        raise TypeError("make_optimizer must be a function lr -> Optimizer")
    grid = sorted({float(lr) for lr in grid})
    if not grid or grid[0] <= 0 or not all(math.isfinite(lr) for lr in grid):
        raise ValueError(f"grid must hold finite learning rates > 0, got {grid!r}")
    runs = _runs(landscape, starts, seeds)
    tol = _check_tol(tol, landscape)
    max_steps = _check_int("max_steps", max_steps, 0)
    hold = _check_int("hold", hold, 0)
    optimizers = {lr: make_optimizer(lr) for lr in grid}
    for optimizer in optimizers.values():
        _check_optimizer(optimizer, "make_optimizer(lr)")
    allowed_misses = len(runs) - (len(runs) // 2 + 1)  # one more and the median is worse
    table = {lr: [None] * len(runs) for lr in grid}
    final = {lr: [False] * len(runs) for lr in grid}  # reached tol, or diverged
    lowest = {lr: [math.inf] * len(runs) for lr in grid}  # lowest f − f* seen so far
    budget = min(FIRST_ATTEMPT, max_steps)
    while True:
        cap = budget  # once a rate fits, the others need only be run long enough to beat it
        for lr in sorted(grid, key=lambda lr: statistics.median_high(lowest[lr])):
            misses = 0  # runs not within cap
            for i, (run, start, _) in enumerate(runs):
                if misses > allowed_misses:
                    break  # this rate's score is above cap: it cannot win in this round
                if not final[lr][i]:
                    k, diverged, lowest[lr][i] = _attempt(optimizers[lr], run, tol, cap,
                                                          start, hold)
                    table[lr][i], final[lr][i] = k, k is not None or diverged
                misses += table[lr][i] is None or table[lr][i] > cap
            cap = min(cap, score(table[lr]))
        if min(score(steps) for steps in table.values()) <= budget or budget == max_steps:
            break
        budget = min(2 * budget, max_steps)
    best = min(score(steps) for steps in table.values())
    best_lr = next(lr for lr in grid if score(table[lr]) == best) if best < math.inf else None
    return Tuning(best_lr, best, table, budget, [(start, seed) for _, start, seed in runs])


# ------------------------------------------------------------------------------ the race


def race(optimizers, landscape, tol, max_steps, starts=None, seeds=None, hold=0, name=None):
    """Run each optimizer on the same runs; one record per (optimizer, run).

    Args:
        optimizers: ``{name: Optimizer}``, usually at tuned rates.
        landscape, tol, max_steps, starts, seeds, hold: as in :func:`tune_lr`.
        name: the landscape's name in the records; default ``landscape.name``.

    Returns:
        A list of dicts with keys ``landscape``, ``optimizer``, ``lr``, ``run`` (its
        index), ``start``, ``seed`` and ``steps`` (an int, or None if ``tol`` was not
        reached within ``max_steps``).
    """
    if not isinstance(optimizers, dict) or not optimizers:
        raise TypeError("optimizers must be a non-empty dict {name: Optimizer}")
    for label, optimizer in optimizers.items():
        _check_optimizer(optimizer, f"optimizers[{label!r}]")
    runs = _runs(landscape, starts, seeds)
    name = landscape.name if name is None else name
    return [
        {"landscape": name, "optimizer": label, "lr": optimizer.lr, "run": i,
         "start": start, "seed": seed,
         "steps": steps_to_tolerance(optimizer, run, tol, max_steps, start, hold)}
        for label, optimizer in optimizers.items()
        for i, (run, start, seed) in enumerate(runs)
    ]


def summarize(records, baseline="SGD"):
    """One row per (landscape, optimizer) of :func:`race` records, in their order.

    Each row is a dict with ``landscape``, ``optimizer``, ``lr``, ``runs``, ``failed``
    (runs that never reached the tolerance), ``median`` (:func:`score`; inf if at least
    half failed), ``low`` and ``high`` (the fewest and most steps; inf if any failed),
    and the speed-up over ``baseline``: ``speedup`` is the median over runs of
    ``baseline steps / these steps`` on the *same* run (same start and seed), and
    ``speedup_low``/``speedup_high`` its range. A failed run counts as infinitely many
    steps, so a ratio can be 0 (this optimizer failed) or inf (the baseline failed); a
    run on which both failed has no ratio. The speed-ups are None when there is no
    ratio (e.g. no ``baseline`` records for that landscape).
    """
    groups = {}
    for record in records:
        groups.setdefault((record["landscape"], record["optimizer"]), []).append(record)
    rows = []
    for (landscape, optimizer), group in groups.items():
        steps = [math.inf if r["steps"] is None else r["steps"] for r in group]
        row = {"landscape": landscape, "optimizer": optimizer, "lr": group[0]["lr"],
               "runs": len(group), "failed": steps.count(math.inf),
               "median": score(steps), "low": min(steps), "high": max(steps),
               "speedup": None, "speedup_low": None, "speedup_high": None}
        base = {r["run"]: r["steps"] for r in groups.get((landscape, baseline), [])}
        ratios = [speedup(base[r["run"]], r["steps"]) for r in group if r["run"] in base]
        ratios = [ratio for ratio in ratios if ratio is not None]
        if ratios:
            row.update(speedup=statistics.median_high(ratios), speedup_low=min(ratios),
                       speedup_high=max(ratios))
        rows.append(row)
    return rows


def speedup(baseline_steps, steps):
    """``baseline_steps / steps``, where None (never reached) counts as infinity.

    0 steps (the start already met the tolerance) is an infinite speed-up unless the
    baseline needed 0 too; None when both never reached it.
    """
    base = math.inf if baseline_steps is None else baseline_steps
    mine = math.inf if steps is None else steps
    if base == mine:
        return None if base == math.inf else 1.0
    if mine == 0 or base == math.inf:
        return math.inf
    return base / mine
