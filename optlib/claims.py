"""Claims about random experiments, stated and checked in one line each.

A sentence such as "momentum beats SGD on the noisy ravine" is a statement about a
*population* of runs (starts, noise seeds), not about one draw. So the chapters check it
the way it is meant, with a margin:

    >>> from optlib.claims import holds, between, spread
    >>> wins = [True] * 38 + [False] * 2
    >>> holds(wins, at_least=35, what="momentum beats SGD")     # "in >= 35 of 40 runs"
    Count(38 of 40)
    >>> s = spread([1.5, 1.8, 1.9, 2.0, 2.4])
    >>> f"{s:.2g}"
    '1.9 (1.5–2.4, 5 runs)'
    >>> between(s.median, 1.4, 2.5, what="median speed-up")
    1.9

Every check raises :class:`ClaimFailed` (an ``AssertionError``, so nbval and pytest report
it as a failed check) with a message that names the claim and the numbers measured.

For reporting, :func:`median_interval` (a distribution-free confidence interval for a
median) and :func:`rate_interval` (Wilson's interval for a success rate) say how far a
measured median or rate could be from the population's.
"""

import math
import numbers
import statistics

import numpy as np


class ClaimFailed(AssertionError):
    """A claim did not hold for the runs measured."""


def _label(what):
    return f"{what}: " if what else ""


def _number(value, name):
    if isinstance(value, bool) or not isinstance(value, numbers.Real) or math.isnan(value):
        raise TypeError(f"{name} must be a real number (not NaN), got {value!r}")
    return float(value)


def _values(values):
    """Floats; None (a run that never got there) counts as infinity."""
    out = []
    for v in values:
        out.append(math.inf if v is None else _number(v, "every value"))
    if not out:
        raise ValueError("values must hold at least one run")
    return out


class Spread:
    """The median, range and number of runs of some measurements.

    Attributes: ``values`` (sorted), ``n``, ``median`` (``statistics.median``; inf values,
    e.g. failed runs, are allowed), ``low``, ``high``.

    Formatting applies a float format to each number: ``f"{s:.2g}"`` gives
    ``"1.9 (1.5–2.4, 5 runs)"``; plain ``str(s)`` uses ``.3g``.
    """

    def __init__(self, values):
        self.values = tuple(sorted(_values(values)))
        self.n = len(self.values)
        self.median = statistics.median(self.values)
        self.low, self.high = self.values[0], self.values[-1]

    def quantile(self, q):
        """The q-quantile (0 <= q <= 1) by linear interpolation between sorted values."""
        q = _number(q, "q")
        if not 0 <= q <= 1:
            raise ValueError(f"q must lie in [0, 1], got {q!r}")
        position = q * (self.n - 1)
        lo, hi = math.floor(position), math.ceil(position)
        if lo == hi or self.values[lo] == self.values[hi]:
            return self.values[lo]
        return self.values[lo] + (position - lo) * (self.values[hi] - self.values[lo])

    def __format__(self, spec):
        spec = spec or ".3g"
        runs = "run" if self.n == 1 else "runs"
        return (f"{format(self.median, spec)} ({format(self.low, spec)}–"
                f"{format(self.high, spec)}, {self.n} {runs})")

    def __str__(self):
        return format(self, "")

    def __repr__(self):
        return f"Spread({self})"


def spread(values):
    """The :class:`Spread` of ``values`` (numbers; None counts as infinity)."""
    return Spread(values)


class Count:
    """k of n runs had some property. ``rate`` is k / n; ``str()`` is "k of n"."""

    def __init__(self, k, n):
        self.k, self.n = k, n
        self.rate = k / n

    def interval(self, confidence=0.95):
        """Wilson's confidence interval for the rate (see :func:`rate_interval`)."""
        return rate_interval(self.k, self.n, confidence)

    def __str__(self):
        return f"{self.k} of {self.n}"

    def __repr__(self):
        return f"Count({self})"

    def __eq__(self, other):
        return isinstance(other, Count) and (self.k, self.n) == (other.k, other.n)

    def __hash__(self):
        return hash((self.k, self.n))


def count(flags):
    """How many of ``flags`` (one bool per run) are true, as a :class:`Count`."""
    flags = list(flags)
    if not flags:
        raise ValueError("flags must hold one bool per run, got none")
    for f in flags:
        if not isinstance(f, (bool, np.bool_)):
            raise TypeError(f"every flag must be a bool (one per run), got {f!r}")
    return Count(sum(bool(f) for f in flags), len(flags))


def _needed(at_least, n):
    """``at_least`` as a count of n runs: an integer count, or a fraction in (0, 1]."""
    if isinstance(at_least, bool) or not isinstance(at_least, numbers.Real):
        raise TypeError(f"at_least must be a count (int) or a fraction in (0, 1], "
                        f"got {at_least!r}")
    if isinstance(at_least, numbers.Integral):
        if not 0 <= at_least <= n:
            raise ValueError(f"at_least must be a count between 0 and {n} (the runs), "
                             f"got {at_least}")
        return int(at_least)
    if not 0 < at_least <= 1:
        raise ValueError(f"at_least as a fraction must lie in (0, 1], got {at_least!r}")
    return math.ceil(at_least * n - 1e-9)


def holds(flags, at_least, what=""):
    """Check "true in at least ``at_least`` of the runs"; return the :class:`Count`.

    Args:
        flags: one bool per run (e.g. ``[m < s for m, s in zip(momentum, sgd)]``).
        at_least: a count (``35``: in >= 35 runs) or a fraction (``0.9``: in >= 90%).
        what: the claim in words, for the message.

    Raises:
        ClaimFailed: "momentum beats SGD: true in 33 of 40 runs; the claim needs >= 35".
    """
    c = count(flags)
    need = _needed(at_least, c.n)
    if c.k < need:
        raise ClaimFailed(f"{_label(what)}true in {c} runs; the claim needs >= {need}")
    return c


def at_most(flags, most, what=""):
    """Check "true in at most ``most`` of the runs" (e.g. failures); return the Count.

    ``most`` is a count (``2``) or a fraction of the runs (``0.05``).
    """
    c = count(flags)
    if isinstance(most, bool) or not isinstance(most, numbers.Real):
        raise TypeError(f"most must be a count (int) or a fraction in [0, 1], got {most!r}")
    if isinstance(most, numbers.Integral):
        if most < 0:
            raise ValueError(f"most must be a count >= 0, got {most}")
        limit = int(most)
    elif 0 <= most <= 1:
        limit = math.floor(most * c.n + 1e-9)
    else:
        raise ValueError(f"most as a fraction must lie in [0, 1], got {most!r}")
    if c.k > limit:
        raise ClaimFailed(f"{_label(what)}true in {c} runs; the claim allows <= {limit}")
    return c


def between(value, low, high, what=""):
    """Check ``low <= value <= high`` and return ``value``.

    Raises:
        ClaimFailed: "median speed-up: 2.7 is outside [1.4, 2.5]".
    """
    value, low, high = (_number(value, "value"), _number(low, "low"), _number(high, "high"))
    if low > high:
        raise ValueError(f"need low <= high, got low={low!r}, high={high!r}")
    if not low <= value <= high:
        raise ClaimFailed(f"{_label(what)}{value:.4g} is outside [{low:.4g}, {high:.4g}]")
    return value


def median_between(values, low, high, what=""):
    """Check that the median of ``values`` lies in [low, high]; return their Spread."""
    s = spread(values)
    between(s.median, low, high, f"{what} (median of {s.n} runs, range "
                                 f"{s.low:.3g}–{s.high:.3g})" if what else
            f"median of {s.n} runs")
    return s


def median_interval(values, confidence=0.95):
    """A distribution-free confidence interval (lo, hi) for the population median.

    The interval between the j-th smallest and j-th largest value, with the largest j
    for which a Binomial(n, 1/2) count falls in [j, n - j] with probability >=
    ``confidence``. With too few runs for the confidence asked, it is (low, high), the
    whole range (e.g. n < 6 at 95%).
    """
    values = sorted(_values(values))
    confidence = _number(confidence, "confidence")
    if not 0 < confidence < 1:
        raise ValueError(f"confidence must lie in (0, 1), got {confidence!r}")
    n = len(values)
    pmf = [math.comb(n, i) / 2**n for i in range(n + 1)]
    best = 1
    for j in range(1, n // 2 + 1):
        if sum(pmf[j : n - j + 1]) >= confidence:
            best = j
        else:
            break
    return values[best - 1], values[n - best]


def rate_interval(k, n, confidence=0.95):
    """Wilson's score interval (lo, hi) for a success rate measured as k of n."""
    if isinstance(k, bool) or isinstance(n, bool) or not (
            isinstance(k, numbers.Integral) and isinstance(n, numbers.Integral)) \
            or n < 1 or not 0 <= k <= n:
        raise ValueError(f"need integers 0 <= k <= n and n >= 1, got k={k!r}, n={n!r}")
    confidence = _number(confidence, "confidence")
    if not 0 < confidence < 1:
        raise ValueError(f"confidence must lie in (0, 1), got {confidence!r}")
    z = statistics.NormalDist().inv_cdf(0.5 + confidence / 2)
    p = k / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    lo = 0.0 if k == 0 else max(0.0, centre - half)  # exact ends where round-off would
    hi = 1.0 if k == n else min(1.0, centre + half)  # leave them a hair off
    return lo, hi
