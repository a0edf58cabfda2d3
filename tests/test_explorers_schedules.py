"""The schedules chapter's explorer and the SeparateGradientsExplorer it is built on."""

import numpy as np
import pytest

pytest.importorskip("ipywidgets")

from optlib import SGD, Noisy, Ravine, trajectory  # noqa: E402
from optlib.explorers import schedules_on_a_noisy_ravine  # noqa: E402
from optlib.explorers.schedules import (  # noqa: E402
    SCHEDULE_KINDS,
    SCHEDULE_NOISE,
    SCHEDULE_STEPS,
    SeparateGradientsExplorer,
    _Tabulated,
    schedule_of_kind,
)
from optlib.schedules import (  # noqa: E402
    constant,
    cosine_decay,
    exponential_decay,
    step_decay,
    warmup_cosine,
)


def test_schedule_of_kind_makes_the_documented_schedules():
    assert schedule_of_kind("constant", 0.5, 200) == constant(0.5)
    assert schedule_of_kind("step", 0.5, 200) == step_decay(0.5, drop=0.3, every=50)
    assert schedule_of_kind("cosine", 0.5, 200) == cosine_decay(0.5, 200)
    assert schedule_of_kind("warm-up + cosine", 0.5, 200) == warmup_cosine(0.5, 20, 200)
    exponential = schedule_of_kind("exponential", 0.5, 200)
    assert exponential.name == exponential_decay(0.5, 0.9).name
    assert exponential(200) == pytest.approx(0.005, rel=1e-12)  # 1% of the peak at the end
    with pytest.raises(ValueError, match="kind must be one of"):
        schedule_of_kind("linear", 0.5, 200)


def test_tabulated_rates_are_the_schedules_own():
    schedule = warmup_cosine(0.7, warmup_steps=13, total_steps=150)
    table = _Tabulated(schedule, 150)
    assert [table(t) for t in range(150)] == [schedule(t) for t in range(150)]
    assert repr(table) == repr(schedule)
    ravine = Ravine(kappa=3)
    np.testing.assert_array_equal(trajectory(SGD(lr=table), ravine, steps=150),
                                  trajectory(SGD(lr=schedule), ravine, steps=150))


def test_each_optimizer_sees_the_same_noise_as_a_fresh_noisy_landscape():
    e = schedules_on_a_noisy_ravine()
    kappa, sigma, seed = (SCHEDULE_NOISE[k] for k in ("kappa", "sigma", "seed"))
    for kind in SCHEDULE_KINDS:
        run = e.run({"kind": kind, "lr": 0.5})
        expected = trajectory(SGD(lr=schedule_of_kind(kind, 0.5, SCHEDULE_STEPS)),
                              Noisy(Ravine(kappa=kappa), sigma, seed), steps=SCHEDULE_STEPS)
        np.testing.assert_array_equal(run.paths["SGD, scheduled"], expected)
    run = e.run({"kind": "constant", "lr": 0.7})
    np.testing.assert_array_equal(run.paths["SGD, constant α"], run.paths["SGD, scheduled"])


def test_losses_are_measured_on_the_exact_landscape():
    e = schedules_on_a_noisy_ravine()
    run = e.run()
    path = run.paths["SGD, scheduled"]
    np.testing.assert_allclose(run.losses["SGD, scheduled"], Ravine(kappa=3).f(path))
    assert isinstance(run.landscape, Ravine)


def test_initial_view_shows_the_schedule_winning():
    e = schedules_on_a_noisy_ravine()
    run = e.run()
    assert run.losses["SGD, scheduled"][-1] < run.losses["SGD, constant α"][-1] / 5


def test_gradients_must_name_controls_and_cover_every_optimizer():
    ravine = Ravine()
    with pytest.raises(ValueError, match="not controls"):
        SeparateGradientsExplorer(ravine, lambda lr: {"a": SGD(lr=lr)}, {"lr": [0.1, 0.2]},
                                  gradients=lambda landscape, sigma: {"a": landscape})
    with pytest.raises(ValueError, match="a landscape for each optimizer"):
        SeparateGradientsExplorer(ravine, lambda lr: {"a": SGD(lr=lr), "b": SGD(lr=lr)},
                                  {"lr": [0.1, 0.2]}, gradients=lambda landscape: {"a": landscape})
