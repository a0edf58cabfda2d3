"""optlib's optimizers reproduce torch.optim's trajectories (stored fixtures).

The fixtures come from ``scripts/make_torch_fixtures.py`` (needs torch; the tests do
not). Each case runs an optlib optimizer on the same quadratic as the stored torch run,
feeding it the gradient ``A @ x - b`` computed with numpy at *optlib's own* current
parameters, and compares the parameters after every step with torch's.

Tolerance: rtol 1e-10 with atol 1e-12. Both libraries do the same float64 arithmetic in
a slightly different order (e.g. torch divides sqrt(v) by sqrt(1 - beta2**t) and folds
1/(1 - beta1**t) into the step size), so single steps agree to ~1e-16 and the
differences grow slowly over the 120 steps (the runs stay far from the optimum, where
adaptive methods would amplify them). A wrong formula, a wrong default or a wrong bias
correction shows up at 1e-4 or more. The small atol only matters for a coordinate that
passes close to zero, where a relative comparison is meaningless.
"""

import json
from pathlib import Path

import numpy as np
import pytest

from optlib.optimizers import OPTIMIZERS

FIXTURES = Path(__file__).parent / "fixtures"
META = json.loads((FIXTURES / "torch_trajectories.json").read_text())
with np.load(FIXTURES / "torch_trajectories.npz") as _data:
    DATA = {k: _data[k] for k in _data.files}
CASES = META["cases"]
RTOL, ATOL = 1e-10, 1e-12
TWO_SHAPES = [(3,), (2, 2)]


def split_two(x):
    return [x[:3].reshape(TWO_SHAPES[0]), x[3:].reshape(TWO_SHAPES[1])]


def run_optlib(case, optimizer_class=None):
    """optlib's trajectory for a fixture case: (steps + 1, n), flattened like torch's."""
    cls = optimizer_class or OPTIMIZERS[case["optimizer"]]
    opt = cls(**case["kwargs"])
    problem = case["problem"]
    a, b, x0 = DATA[f"{problem}_A"], DATA[f"{problem}_b"], DATA[f"{problem}_x0"]
    if problem == "quad":
        params = x0.copy()

        def flat(p):
            return p.copy()

        def grads_at(p):
            return a @ p - b
    else:
        params = split_two(x0.copy())

        def flat(p):
            return np.concatenate([q.ravel() for q in p])

        def grads_at(p):
            return split_two(a @ flat(p) - b)

    rows = [flat(params)]
    for _ in range(case["steps"]):
        params = opt.step(params, grads_at(params))
        rows.append(flat(params))
    return np.array(rows)


def test_fixture_metadata():
    assert META["torch_version"].startswith("2.")
    assert META["dtype"] == "float64"
    assert META["steps"] >= 100
    names = {case["optimizer"] for case in CASES}
    assert names == set(OPTIMIZERS), "every optimizer has a torch reference"
    for name in OPTIMIZERS:
        problems = [c["problem"] for c in CASES if c["optimizer"] == name]
        assert "two" in problems, f"{name}: no list-of-arrays case"
        assert len(problems) >= 2, f"{name}: fewer than two hyperparameter sets"
    ids = [case["id"] for case in CASES]
    assert len(ids) == len(set(ids))


@pytest.mark.parametrize("case", CASES, ids=[case["id"] for case in CASES])
def test_matches_torch(case):
    expected = DATA[f"trajectory/{case['id']}"]
    assert expected.shape == (case["steps"] + 1, DATA[f"{case['problem']}_x0"].size)
    got = run_optlib(case)
    assert np.all(np.isfinite(got)), "optlib's trajectory is not finite"
    np.testing.assert_array_equal(got[0], expected[0])
    np.testing.assert_allclose(got, expected, rtol=RTOL, atol=ATOL)


def test_fixtures_discriminate():
    """The references are not so easy that a wrong rule would pass too.

    Adam on the AMSGrad case (v_max must matter there), Momentum on the Nesterov cases
    and RMSprop/Adam swaps are all far from the stored torch trajectories.
    """
    swaps = {"AMSGrad": "Adam", "Nesterov": "Momentum", "Momentum": "Nesterov", "NAdam": "Adam"}
    checked = 0
    for case in CASES:
        other = swaps.get(case["optimizer"])
        if other is None:
            continue
        if other == "Adam" and "momentum_decay" in case["kwargs"]:
            continue  # Adam has no momentum_decay
        if case["optimizer"] == "AMSGrad" and "beta2" not in case["kwargs"]:
            continue  # with beta2 = 0.999 v does not decrease within 120 steps
        expected = DATA[f"trajectory/{case['id']}"]
        got = run_optlib(case, OPTIMIZERS[other])
        assert np.max(np.abs(got - expected)) > 1e-4, (case["id"], other)
        checked += 1
    assert checked >= 5
