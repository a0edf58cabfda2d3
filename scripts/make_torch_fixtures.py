"""Generate reference trajectories with torch.optim for optlib's optimizer tests.

Regenerate with::

    /work/torchenv/bin/python scripts/make_torch_fixtures.py

This needs torch (``pip install torch``); it is never needed to run the tests or the
book. The output is committed:

* ``tests/fixtures/torch_trajectories.json``: metadata (torch and numpy versions) and
  one entry per case: the optlib class, the optlib keyword arguments, the torch call
  that produced it and the problem it runs on.
* ``tests/fixtures/torch_trajectories.npz``: the problem data and, per case, the
  parameters after every step (row 0 is the start), float64.

The problems are fixed quadratics ``f(x) = 0.5 x^T A x - b^T x`` with a well-conditioned
symmetric positive definite ``A`` (eigenvalues in [0.5, 3]), so ``grad f(x) = A x - b``:

* ``quad``: one parameter tensor of shape (6,);
* ``two``: two parameter tensors of shapes (3,) and (2, 2), the quadratic acting on
  their concatenation (7 numbers); this checks optimizers given a list of arrays.

The gradient is computed with numpy (``A @ x - b``) from the current torch parameters,
exactly as the tests compute it from optlib's current parameters, so the only
difference between the two runs is the optimizers' own arithmetic. Learning rates are
small enough that no run gets near the optimum (where round-off would be amplified)
within the recorded steps.
"""

import json
import platform
from pathlib import Path

import numpy as np
import torch

STEPS = 120
OUT = Path(__file__).resolve().parent.parent / "tests" / "fixtures"

# Everything in float64, including torch's scalar state (step counts, NAdam's mu_product),
# which torch keeps in the default dtype.
torch.set_default_dtype(torch.float64)


def make_problem(seed, n):
    """A, b and a start x0 for 0.5 x^T A x - b^T x, A = Q diag(eigenvalues) Q^T."""
    rng = np.random.default_rng(seed)
    q, _ = np.linalg.qr(rng.normal(size=(n, n)))
    eigenvalues = np.linspace(0.5, 3.0, n)
    a = (q * eigenvalues) @ q.T
    a = 0.5 * (a + a.T)  # exactly symmetric
    b = rng.normal(size=n)
    x0 = rng.normal(size=n) * 2.0
    return a, b, x0


QUAD_A, QUAD_B, QUAD_X0 = make_problem(seed=20240601, n=6)
TWO_A, TWO_B, TWO_X0 = make_problem(seed=20240602, n=7)
TWO_SHAPES = [(3,), (2, 2)]


def split_two(x):
    """The two parameter arrays of problem ``two`` from the 7 concatenated numbers."""
    return [x[:3].reshape(TWO_SHAPES[0]), x[3:].reshape(TWO_SHAPES[1])]


# (optlib class, optlib kwargs, torch class name, torch kwargs, problems)
BOTH = ("quad", "two")
QUAD = ("quad",)
CASES = [
    ("SGD", {}, "SGD", {"lr": 0.01}, BOTH),
    ("SGD", {"lr": 0.05, "weight_decay": 0.1}, "SGD", {"lr": 0.05, "weight_decay": 0.1}, QUAD),
    ("Momentum", {}, "SGD", {"lr": 0.01, "momentum": 0.9}, BOTH),
    (
        "Momentum",
        {"lr": 0.02, "beta": 0.5, "weight_decay": 0.05},
        "SGD",
        {"lr": 0.02, "momentum": 0.5, "weight_decay": 0.05},
        QUAD,
    ),
    ("Nesterov", {}, "SGD", {"lr": 0.01, "momentum": 0.9, "nesterov": True}, BOTH),
    (
        "Nesterov",
        {"lr": 0.02, "beta": 0.7, "weight_decay": 0.05},
        "SGD",
        {"lr": 0.02, "momentum": 0.7, "nesterov": True, "weight_decay": 0.05},
        QUAD,
    ),
    ("AdaGrad", {}, "Adagrad", {}, BOTH),
    (
        "AdaGrad",
        {"lr": 0.1, "eps": 1e-6, "initial_accumulator_value": 0.5, "weight_decay": 0.1},
        "Adagrad",
        {"lr": 0.1, "eps": 1e-6, "initial_accumulator_value": 0.5, "weight_decay": 0.1},
        QUAD,
    ),
    (
        "AdaGrad",
        {"lr": 0.05, "initial_accumulator_value": 0.1},
        "Adagrad",
        {"lr": 0.05, "initial_accumulator_value": 0.1},
        QUAD,
    ),
    ("RMSprop", {}, "RMSprop", {}, BOTH),
    (
        "RMSprop",
        {"lr": 0.001, "beta": 0.9, "eps": 1e-6, "weight_decay": 0.1},
        "RMSprop",
        {"lr": 0.001, "alpha": 0.9, "eps": 1e-6, "weight_decay": 0.1},
        QUAD,
    ),
    ("Adadelta", {}, "Adadelta", {}, BOTH),
    (
        "Adadelta",
        {"lr": 0.5, "rho": 0.95, "eps": 1e-4, "weight_decay": 0.1},
        "Adadelta",
        {"lr": 0.5, "rho": 0.95, "eps": 1e-4, "weight_decay": 0.1},
        QUAD,
    ),
    ("Adam", {}, "Adam", {}, BOTH),
    (
        "Adam",
        {"lr": 0.01, "beta1": 0.8, "beta2": 0.99, "eps": 1e-6},
        "Adam",
        {"lr": 0.01, "betas": (0.8, 0.99), "eps": 1e-6},
        QUAD,
    ),
    ("Adam", {"lr": 0.005, "weight_decay": 0.1}, "Adam", {"lr": 0.005, "weight_decay": 0.1}, QUAD),
    ("AdamW", {}, "AdamW", {}, BOTH),
    (
        "AdamW",
        {"lr": 0.01, "beta1": 0.85, "beta2": 0.98, "eps": 1e-7, "weight_decay": 0.5},
        "AdamW",
        {"lr": 0.01, "betas": (0.85, 0.98), "eps": 1e-7, "weight_decay": 0.5},
        QUAD,
    ),
    ("AMSGrad", {}, "Adam", {"amsgrad": True}, BOTH),
    (
        # beta2 small and a shrinking gradient: v decreases, so v_max matters.
        "AMSGrad",
        {"lr": 0.02, "beta1": 0.5, "beta2": 0.9, "weight_decay": 0.05},
        "Adam",
        {"lr": 0.02, "betas": (0.5, 0.9), "weight_decay": 0.05, "amsgrad": True},
        QUAD,
    ),
    ("Adamax", {}, "Adamax", {}, BOTH),
    (
        "Adamax",
        {"lr": 0.01, "beta1": 0.8, "beta2": 0.95, "eps": 1e-6, "weight_decay": 0.1},
        "Adamax",
        {"lr": 0.01, "betas": (0.8, 0.95), "eps": 1e-6, "weight_decay": 0.1},
        QUAD,
    ),
    ("NAdam", {}, "NAdam", {}, BOTH),
    (
        "NAdam",
        {"lr": 0.01, "beta1": 0.85, "beta2": 0.99, "momentum_decay": 0.01, "weight_decay": 0.1},
        "NAdam",
        {"lr": 0.01, "betas": (0.85, 0.99), "momentum_decay": 0.01, "weight_decay": 0.1},
        QUAD,
    ),
    (
        "NAdam",
        {"lr": 0.005, "momentum_decay": 0.0},
        "NAdam",
        {"lr": 0.005, "momentum_decay": 0.0},
        QUAD,
    ),
]


def case_id(optlib_name, optlib_kwargs, problem):
    """A readable, unique id such as ``Adam-lr=0.01,beta1=0.8-quad``."""
    args = ",".join(f"{k}={v}" for k, v in optlib_kwargs.items()) or "defaults"
    return f"{optlib_name}-{args}-{problem}"


def run_torch(torch_name, torch_kwargs, problem):
    """Parameters after every step (row 0 is the start), flattened and concatenated."""
    if problem == "quad":
        a, b, starts = QUAD_A, QUAD_B, [QUAD_X0]
    else:
        a, b, starts = TWO_A, TWO_B, split_two(TWO_X0)
    params = [torch.tensor(s, dtype=torch.float64, requires_grad=True) for s in starts]
    opt = getattr(torch.optim, torch_name)(params, foreach=False, **torch_kwargs)

    def flat():
        return np.concatenate([p.detach().numpy().ravel() for p in params])

    rows = [flat()]
    for _ in range(STEPS):
        x = flat()
        g = a @ x - b  # the same numpy expression the tests evaluate
        pieces = [g] if problem == "quad" else split_two(g)
        for p, piece in zip(params, pieces):
            p.grad = torch.from_numpy(np.array(piece, dtype=np.float64))
        opt.step()
        rows.append(flat())
    trajectory = np.array(rows)
    if not np.all(np.isfinite(trajectory)):
        raise RuntimeError(f"torch trajectory for {torch_name} {torch_kwargs} is not finite")
    return trajectory


def main():
    print(f"torch {torch.__version__}, numpy {np.__version__}")
    arrays = {
        "quad_A": QUAD_A,
        "quad_b": QUAD_B,
        "quad_x0": QUAD_X0,
        "two_A": TWO_A,
        "two_b": TWO_B,
        "two_x0": TWO_X0,
    }
    cases = []
    for optlib_name, optlib_kwargs, torch_name, torch_kwargs, problems in CASES:
        for problem in problems:
            cid = case_id(optlib_name, optlib_kwargs, problem)
            trajectory = run_torch(torch_name, torch_kwargs, problem)
            arrays[f"trajectory/{cid}"] = trajectory
            start = trajectory[0]
            moved = np.abs(trajectory[-1] - start).max()
            print(f"  {cid:75s} max |x_T - x_0| = {moved:.3g}")
            cases.append(
                {
                    "id": cid,
                    "optimizer": optlib_name,
                    "kwargs": optlib_kwargs,
                    "torch": f"torch.optim.{torch_name}(params, foreach=False, "
                    + ", ".join(f"{k}={v!r}" for k, v in torch_kwargs.items())
                    + ")",
                    "problem": problem,
                    "steps": STEPS,
                }
            )
    metadata = {
        "generated_by": "scripts/make_torch_fixtures.py",
        "torch_version": torch.__version__,
        "numpy_version": np.__version__,
        "python_version": platform.python_version(),
        "dtype": "float64",
        "steps": STEPS,
        "problems": {
            "quad": "0.5 x^T A x - b^T x, one array of shape (6,); arrays quad_A, quad_b, quad_x0",
            "two": "0.5 x^T A x - b^T x on the concatenation of two arrays of shapes (3,) "
            "and (2, 2); arrays two_A, two_b, two_x0 (concatenated start)",
        },
        "gradient": "numpy: A @ x - b at the current parameters (x concatenated, flat)",
        "trajectory": "npz key 'trajectory/<id>': (steps + 1, n) float64, row k = parameters "
        "after k steps, flattened and concatenated",
        "cases": cases,
    }
    OUT.mkdir(parents=True, exist_ok=True)
    np.savez_compressed(OUT / "torch_trajectories.npz", **arrays)
    (OUT / "torch_trajectories.json").write_text(json.dumps(metadata, indent=1) + "\n")
    names = ("torch_trajectories.npz", "torch_trajectories.json")
    size = sum((OUT / name).stat().st_size for name in names)
    print(f"wrote {len(cases)} cases to {OUT} ({size / 1024:.0f} KiB)")


if __name__ == "__main__":
    main()
