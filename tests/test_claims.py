"""optlib.seeding (the course seed) and optlib.claims (claims over populations of runs).

Every claim helper is shown to pass on data for which the claim holds AND to fail, with a
message naming the numbers, on data for which it does not."""

import doctest
import math

import numpy as np
import pytest

import optlib.claims
import optlib.seeding
from optlib.claims import (
    ClaimFailed,
    Count,
    at_most,
    between,
    count,
    holds,
    median_between,
    median_interval,
    rate_interval,
    spread,
)
from optlib.seeding import course_seed, rng, seeds

# ----------------------------------------------------------------------------- seeding


def test_course_seed_defaults_to_zero_and_reads_the_environment(monkeypatch):
    monkeypatch.delenv("OPTLIB_SEED", raising=False)
    assert course_seed() == 0
    monkeypatch.setenv("OPTLIB_SEED", "3")
    assert course_seed() == 3
    monkeypatch.setenv("OPTLIB_SEED", " 17 ")
    assert course_seed() == 17


@pytest.mark.parametrize("bad", ["-1", "abc", "1.5", "0x10"])
def test_a_bad_course_seed_is_refused_by_name(monkeypatch, bad):
    monkeypatch.setenv("OPTLIB_SEED", bad)
    with pytest.raises(ValueError, match=r"OPTLIB_SEED must be a non-negative integer.*" +
                       repr(bad).replace(".", r"\.")):
        course_seed()


def test_draws_follow_the_course_seed(monkeypatch):
    monkeypatch.setenv("OPTLIB_SEED", "0")
    a0 = rng("chapter", "starts").uniform(size=5)
    s0 = seeds(4, "chapter", "noise")
    monkeypatch.setenv("OPTLIB_SEED", "3")
    a3 = rng("chapter", "starts").uniform(size=5)
    s3 = seeds(4, "chapter", "noise")
    assert not np.array_equal(a0, a3) and s0 != s3
    monkeypatch.setenv("OPTLIB_SEED", "0")
    np.testing.assert_array_equal(rng("chapter", "starts").uniform(size=5), a0)
    assert seeds(4, "chapter", "noise") == s0


def test_the_derivation_is_numpys_seed_sequence_of_the_seed_and_the_name():
    # Independent of optlib's code: SeedSequence([seed, crc32(name)]), computed here.
    import zlib

    expected = np.random.default_rng(
        np.random.SeedSequence([5, zlib.crc32(b"comparison"), 7])).uniform(size=3)
    np.testing.assert_array_equal(rng("comparison", 7, seed=5).uniform(size=3), expected)


def test_names_keep_draws_apart():
    assert seeds(3, "a", seed=0) != seeds(3, "b", seed=0)
    assert seeds(3, "a", 1, seed=0) != seeds(3, "a", 2, seed=0)
    assert len(set(seeds(1000, "many", seed=0))) == 1000
    assert all(0 <= s < 2**32 and isinstance(s, int) for s in seeds(10, "x", seed=0))


@pytest.mark.parametrize("key, error", [((), ValueError), ((1.5,), TypeError),
                                        ((None,), TypeError), ((-2,), ValueError),
                                        ((True,), TypeError)])
def test_a_bad_name_is_refused(key, error):
    with pytest.raises(error):
        rng(*key, seed=0)


@pytest.mark.parametrize("n", [-1, 2.0, True, "3"])
def test_seeds_needs_a_count(n):
    with pytest.raises(ValueError, match="n must be an integer >= 0"):
        seeds(n, "x", seed=0)


# ------------------------------------------------------------------------------ claims


def test_docstrings_run():
    assert doctest.testmod(optlib.claims).failed == 0
    assert doctest.testmod(optlib.seeding).failed == 0


def test_holds_passes_at_the_threshold_and_fails_one_below():
    assert holds([True] * 35 + [False] * 5, 35, "x") == Count(35, 40)
    with pytest.raises(ClaimFailed, match=r"momentum wins: true in 34 of 40 runs; "
                                          r"the claim needs >= 35"):
        holds([True] * 34 + [False] * 6, 35, "momentum wins")


def test_holds_with_a_fraction_rounds_the_need_up():
    assert holds([True] * 36 + [False] * 4, 0.9).k == 36
    with pytest.raises(ClaimFailed, match="needs >= 36"):
        holds([True] * 35 + [False] * 5, 0.9)
    assert holds(np.array([1, 2, 3]) > 0, 1.0).k == 3  # numpy bools are bools


@pytest.mark.parametrize("flags, at_least, error", [
    ([], 1, ValueError), ([1, 0], 1, TypeError), ([True], 2, ValueError),
    ([True], 0.0, ValueError), ([True], 1.5, ValueError), ([True], "1", TypeError),
])
def test_holds_refuses_bad_input(flags, at_least, error):
    with pytest.raises(error):
        holds(flags, at_least)


def test_at_most_counts_failures():
    assert at_most([False] * 39 + [True], 2, "failures").k == 1
    assert at_most([False] * 40, 0).k == 0
    with pytest.raises(ClaimFailed, match="failures: true in 3 of 40 runs; the claim allows <= 2"):
        at_most([True] * 3 + [False] * 37, 2, "failures")
    with pytest.raises(ClaimFailed, match="allows <= 0"):
        at_most([True] + [False] * 39, 0)
    with pytest.raises(ClaimFailed, match="allows <= 2"):  # 5% of 40 is 2
        at_most([True] * 3 + [False] * 37, 0.05)


def test_between_and_its_message():
    assert between(1.9, 1.4, 2.5) == 1.9
    assert between(1.4, 1.4, 2.5) == 1.4
    with pytest.raises(ClaimFailed, match=r"speed-up: 2.7 is outside \[1.4, 2.5\]"):
        between(2.7, 1.4, 2.5, "speed-up")
    with pytest.raises(TypeError):
        between(float("nan"), 0, 1)
    with pytest.raises(ValueError, match="low <= high"):
        between(1, 2, 0)


def test_spread_median_range_and_format():
    s = spread([2.4, 1.5, 1.9, 2.0, 1.8])
    assert (s.median, s.low, s.high, s.n) == (1.9, 1.5, 2.4, 5)
    assert f"{s:.2g}" == "1.9 (1.5–2.4, 5 runs)"
    assert str(spread([3])) == "3 (3–3, 1 run)"
    failed = spread([10, None, 20])  # a failed run counts as infinitely many steps
    assert failed.median == 20 and failed.high == math.inf
    assert spread([0, 10]).quantile(0.25) == 2.5
    with pytest.raises(ValueError):
        spread([])


def test_median_between():
    assert median_between([1.5, 1.9, 2.6], 1.4, 2.5, "speed-up").median == 1.9
    with pytest.raises(ClaimFailed, match=r"speed-up \(median of 3 runs, range 1.5–3.1\): "
                                          r"2.6 is outside"):
        median_between([1.5, 2.6, 3.1], 1.4, 2.5, "speed-up")


def test_median_interval_covers_the_median_as_often_as_it_promises():
    # Coverage measured by simulation, against the population median of an exponential
    # distribution (ln 2): a 95% interval must cover it in about 95% of samples or more.
    generator = np.random.default_rng(12345)
    covered = 0
    trials = 2000
    for _ in range(trials):
        lo, hi = median_interval(generator.exponential(size=40), 0.95)
        covered += lo <= math.log(2) <= hi
    assert 0.94 <= covered / trials <= 0.995
    # Known order statistics for n = 40 at 95%: the 14th smallest to the 14th largest.
    assert median_interval(range(1, 41)) == (14, 27)
    assert median_interval([1, 2, 3]) == (1, 3)  # too few runs: the whole range


def test_rate_interval_matches_wilsons_formula():
    # Wilson (1927) for 38 of 40 at 95% (z = 1.959964), worked by hand:
    # centre = (0.95 + z²/80) / (1 + z²/40), half = z √(0.95·0.05/40 + z²/6400) / (1 + z²/40)
    z = 1.959963984540054
    centre = (0.95 + z * z / 80) / (1 + z * z / 40)
    half = z * math.sqrt(0.95 * 0.05 / 40 + z * z / 6400) / (1 + z * z / 40)
    lo, hi = rate_interval(38, 40)
    assert lo == pytest.approx(centre - half, rel=1e-12)
    assert hi == pytest.approx(centre + half, rel=1e-12)
    assert 0.83 < lo < 0.84 and 0.98 < hi < 0.99
    assert rate_interval(0, 10)[0] == 0.0 and rate_interval(10, 10)[1] == 1.0
    with pytest.raises(ValueError):
        rate_interval(11, 10)


def test_count_of_flags():
    assert count([True, False, True]) == Count(2, 3)
    assert str(Count(2, 3)) == "2 of 3" and Count(2, 4).rate == 0.5
