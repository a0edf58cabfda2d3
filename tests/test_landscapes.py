"""The 2-D landscapes: analytic gradients, minima, float/array agreement, validation."""

import math

import numpy as np
import pytest

from optlib.landscapes import LANDSCAPES, Beale, Himmelblau, Rastrigin, Ravine, Rosenbrock, Saddle

ALL = {**LANDSCAPES, "ravine_rotated": Ravine(kappa=50, L=2.0, angle=0.6)}


@pytest.mark.parametrize("name", ALL)
def test_gradient_matches_central_differences(name):
    land = ALL[name]
    rng = np.random.default_rng(0)
    (x0, x1), (y0, y1) = land.bounds
    h = 1e-6
    for x, y in zip(rng.uniform(x0, x1, 20), rng.uniform(y0, y1, 20)):
        x, y = float(x), float(y)
        gx, gy = land.grad(x, y)
        nx = (land.value(x + h, y) - land.value(x - h, y)) / (2 * h)
        ny = (land.value(x, y + h) - land.value(x, y - h)) / (2 * h)
        scale = 1 + abs(nx) + abs(ny)
        assert abs(gx - nx) < 1e-6 * scale and abs(gy - ny) < 1e-6 * scale, (x, y)


@pytest.mark.parametrize("name", ALL)
def test_minima_have_min_value_and_zero_gradient(name):
    land = ALL[name]
    for x, y in land.minima:
        assert land.value(x, y) == pytest.approx(land.min_value, abs=1e-10)
        gx, gy = land.grad(x, y)
        assert abs(gx) < 1e-8 and abs(gy) < 1e-8


@pytest.mark.parametrize("name", ALL)
def test_floats_and_arrays_agree(name):
    land = ALL[name]
    rng = np.random.default_rng(1)
    pts = rng.uniform(-2, 2, size=(7, 2))
    values = land.f(pts)
    grads = land.gradient(pts)
    assert values.shape == (7,) and grads.shape == (7, 2)
    for (x, y), v, g in zip(pts, values, grads):
        assert land.value(float(x), float(y)) == pytest.approx(v, rel=1e-12)
        assert np.allclose(land.grad(float(x), float(y)), g, rtol=1e-12)
    assert isinstance(land.value(0.5, 0.25), float)
    assert all(isinstance(c, float) for c in land.grad(0.5, 0.25))


@pytest.mark.parametrize("name", ALL)
def test_metadata_is_usable_for_plots(name):
    land = ALL[name]
    (x0, x1), (y0, y1) = land.bounds
    assert x0 < x1 and y0 < y1
    sx, sy = land.start
    assert x0 <= sx <= x1 and y0 <= sy <= y1
    assert isinstance(land.name, str) and land.name
    assert math.isfinite(land.value(sx, sy))


def test_known_values_by_hand():
    assert Rosenbrock().value(-1.0, 1.0) == 4.0  # (1 - -1)^2 + 100 (1 - 1)^2
    assert Rosenbrock().grad(0.0, 0.0) == (-2.0, 0.0)
    assert Beale().value(0.0, 0.0) == pytest.approx(1.5**2 + 2.25**2 + 2.625**2)
    assert Himmelblau().value(0.0, 0.0) == 121 + 49
    assert Saddle().grad(1.0, 2.0) == (2.0, -4.0)
    assert Rastrigin().value(0.0, 0.0) == 0.0
    assert Rastrigin().value(1.0, 0.0) == pytest.approx(1.0)  # a local minimum's neighbourhood


def test_ravine_hessian_and_eigenvalues():
    land = Ravine(kappa=25.0, L=4.0, angle=0.3)
    H = land.hessian
    assert np.allclose(H, H.T)
    assert np.allclose(np.linalg.eigvalsh(H), sorted(land.eigenvalues))
    assert land.eigenvalues == pytest.approx((4.0 / 25.0, 4.0))
    # The gradient of a quadratic is H theta.
    theta = np.array([0.7, -1.3])
    assert np.allclose(land.gradient(theta), H @ theta)
    assert land.f(theta) == pytest.approx(0.5 * theta @ H @ theta)


def test_ravine_axis_aligned_is_shallow_along_x():
    land = Ravine(kappa=10.0)
    assert land.value(1.0, 0.0) == pytest.approx(0.05)  # curvature 1/10 along x
    assert land.value(0.0, 1.0) == pytest.approx(0.5)  # curvature 1 across


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"kappa": 0.5}, r"kappa must be a finite number >= 1, got 0\.5"),
        ({"kappa": float("nan")}, r"kappa must be .* got nan"),
        ({"L": 0.0}, r"L must be a finite number > 0, got 0\.0"),
        ({"angle": float("inf")}, r"angle must be .* got inf"),
    ],
)
def test_ravine_rejects_bad_arguments(kwargs, match):
    with pytest.raises(ValueError, match=match):
        Ravine(**kwargs)


def test_ravine_rejects_non_numbers():
    with pytest.raises(TypeError, match="kappa"):
        Ravine(kappa="10")


def test_noisy_gradient_is_unbiased_and_replayable():
    from optlib.landscapes import Noisy

    base = Ravine(kappa=10.0)
    noisy = Noisy(base, sigma=0.5, seed=3)
    assert noisy.value(1.0, 2.0) == base.value(1.0, 2.0)  # values stay exact
    samples = np.array([noisy.grad(1.0, 2.0) for _ in range(20000)])
    true = np.array(base.grad(1.0, 2.0))
    assert np.all(np.abs(samples.mean(axis=0) - true) < 4 * 0.5 / np.sqrt(20000))
    assert np.allclose(samples.std(axis=0), 0.5, rtol=0.03)
    again = Noisy(base, sigma=0.5, seed=3)
    assert [again.grad(1.0, 2.0) for _ in range(5)] == [tuple(s) for s in samples[:5]]
    assert Noisy(base, sigma=0.0).grad(1.0, 2.0) == base.grad(1.0, 2.0)
    assert noisy.start == base.start and noisy.bounds == base.bounds


def test_noisy_rejects_bad_sigma():
    from optlib.landscapes import Noisy

    with pytest.raises(ValueError, match=r"sigma must be a finite number >= 0, got -1"):
        Noisy(Ravine(), sigma=-1)
