"""Tests for the chapter "The same optimizers in PyTorch and optax": optlib.frameworks
(Sutskever's momentum, bfloat16 rounding) and the chapter's explorer."""

import numpy as np
import pytest

from optlib import SGD, Momentum, Ravine, step_decay, trajectory
from optlib.frameworks import SutskeverMomentum, to_bfloat16

# ------------------------------------------------------------------ SutskeverMomentum


def test_sutskever_first_steps_by_hand():
    opt = SutskeverMomentum(lr=0.5, beta=0.9)
    theta = opt.step(np.array([1.0]), np.array([2.0]))  # u = -0.5 * 2 = -1
    np.testing.assert_allclose(theta, [0.0], rtol=0, atol=1e-15)
    theta = opt.step(theta, np.array([4.0]))  # u = 0.9 * -1 - 0.5 * 4 = -2.9
    np.testing.assert_allclose(theta, [-2.9], rtol=1e-15)
    np.testing.assert_allclose(opt.state["u"], [-2.9], rtol=1e-15)


def test_sutskever_weight_decay_is_added_to_the_gradient():
    opt = SutskeverMomentum(lr=0.1, beta=0.5, weight_decay=0.2)
    theta = opt.step(np.array([1.0]), np.array([0.0]))  # g = 0.2 -> u = -0.02
    np.testing.assert_allclose(theta, [0.98], rtol=1e-15)


def test_sutskever_equals_pytorch_style_at_a_constant_rate():
    for lr, beta in ((0.3, 0.9), (1.0, 0.5), (1.5, 0.0)):
        ours = trajectory(SutskeverMomentum(lr=lr, beta=beta), Ravine(kappa=10), steps=80)
        pytorch = trajectory(Momentum(lr=lr, beta=beta), Ravine(kappa=10), steps=80)
        np.testing.assert_allclose(ours, pytorch, rtol=1e-12, atol=1e-14)
    zero = trajectory(SutskeverMomentum(lr=0.5, beta=0.0), Ravine(kappa=10), steps=30)
    np.testing.assert_allclose(zero, trajectory(SGD(lr=0.5), Ravine(kappa=10), steps=30),
                               rtol=1e-14)


def test_under_a_step_decay_the_old_velocity_fades_instead_of_shrinking_at_once():
    schedule = step_decay(1.0, drop=0.1, every=20)
    paths = [trajectory(cls(lr=schedule, beta=0.9), Ravine(kappa=10), steps=40)
             for cls in (Momentum, SutskeverMomentum)]
    np.testing.assert_allclose(paths[0][:21], paths[1][:21], rtol=1e-12, atol=1e-14)
    steps = [np.linalg.norm(np.diff(p, axis=0), axis=1) for p in paths]
    assert steps[0][20] / steps[0][19] < 0.2  # PyTorch: the whole velocity × 0.1
    assert steps[1][20] / steps[1][19] > 0.7  # Sutskever: the old velocity carries on
    assert np.abs(paths[0][30] - paths[1][30]).max() > 1e-2


def test_sutskever_rejects_bad_hyperparameters_like_every_optimizer():
    with pytest.raises(ValueError, match="beta must be a number in \\[0, 1\\), got 1.0"):
        SutskeverMomentum(beta=1.0)
    with pytest.raises(TypeError, match="lr must be"):
        SutskeverMomentum(lr="fast")


# ------------------------------------------------------------------ to_bfloat16


def test_to_bfloat16_known_values():
    # bfloat16 near 1 has spacing 2**-7; ties round to even.
    assert to_bfloat16(1.0) == 1.0
    assert to_bfloat16(1 + 2**-7) == 1 + 2**-7
    assert to_bfloat16(1 + 2**-8) == 1.0  # a tie: to the even neighbour, 1
    assert to_bfloat16(1 + 3 * 2**-8) == 1 + 2**-6  # a tie: to the even neighbour, 1 + 2/128
    assert to_bfloat16(1 + 2**-8 + 2**-12) == 1 + 2**-7  # above the tie: up
    assert to_bfloat16(-3.0) == -3.0
    assert to_bfloat16(np.float32(1e-8)) == pytest.approx(1e-8, rel=2**-8)
    assert to_bfloat16(1e-8) != 0  # float32's range
    out = to_bfloat16(np.array([np.inf, -np.inf, np.nan, 0.0, 3.4e38]))
    assert out[0] == np.inf and out[1] == -np.inf and np.isnan(out[2]) and out[3] == 0
    assert out[4] == np.inf  # above bfloat16's largest finite value, about 3.39e38
    assert out.dtype == np.float32


def test_to_bfloat16_keeps_8_significant_bits():
    x = np.random.default_rng(5).uniform(-1e3, 1e3, size=10000).astype(np.float32)
    b = to_bfloat16(x)
    assert np.all(np.abs(b - x) <= np.abs(x) * 2.0**-8)  # half a unit in the last place
    mantissa = b.view(np.uint32) & 0xFFFF
    assert np.all(mantissa == 0)  # the low 16 bits are gone
    np.testing.assert_array_equal(to_bfloat16(b), b)  # rounding twice changes nothing


def test_to_bfloat16_matches_ml_dtypes_when_installed():
    ml_dtypes = pytest.importorskip("ml_dtypes", reason="ml_dtypes (comes with jax) not installed")
    rng = np.random.default_rng(7)
    x = (rng.standard_normal(50000) * 10.0 ** rng.integers(-38, 38, 50000)).astype(np.float32)
    np.testing.assert_array_equal(to_bfloat16(x), x.astype(ml_dtypes.bfloat16).astype(np.float32))


# ------------------------------------------------------------------ the explorer

ipywidgets = pytest.importorskip("ipywidgets")

from optlib.explorers import EXPLORERS, momentum_conventions_under_a_schedule  # noqa: E402
from optlib.explorers.frameworks import (  # noqa: E402
    CONVENTION_BETAS,
    CONVENTION_SCHEDULES,
    PYTORCH_STYLE,
    SUTSKEVER_STYLE,
)


def test_registered():
    assert EXPLORERS["momentum_conventions_under_a_schedule"] is \
        momentum_conventions_under_a_schedule


def test_constant_rate_gives_one_path_and_schedules_part_them():
    e = momentum_conventions_under_a_schedule()
    assert list(e.choices["schedule"]) == list(CONVENTION_SCHEDULES)
    assert e.choices["beta"] == sorted(CONVENTION_BETAS)
    for beta in CONVENTION_BETAS:
        run = e.run({"schedule": "constant", "beta": beta})
        np.testing.assert_allclose(run.paths[PYTORCH_STYLE], run.paths[SUTSKEVER_STYLE],
                                   rtol=1e-12, atol=1e-12)
        assert "largest distance between the two paths: 0" in e.describe(run)
        for schedule in list(CONVENTION_SCHEDULES)[1:]:
            run = e.run({"schedule": schedule, "beta": beta})
            gap = np.max(np.linalg.norm(run.paths[PYTORCH_STYLE] - run.paths[SUTSKEVER_STYLE],
                                        axis=1))
            assert gap > 1e-5
            assert f"largest distance between the two paths: {gap:.2g}" in e.describe(run)


def test_caption_follows_the_sliders():
    e = momentum_conventions_under_a_schedule()
    _ = e.widget
    e.set(schedule="warm-up 30 + cosine", beta=0.95)
    assert e.caption.value.startswith("schedule = warm-up 30 + cosine · β = 0.95")
