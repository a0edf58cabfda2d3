"""Print speed figures for optlib's optimizers (a benchmark, not a test).

    .venv/bin/python benchmarks/optimizer_step.py [--size 10000000] [--repeats 15]

1. One Adam step on a single float32 array of --size elements, single-threaded:
   optlib (readable update, walked in cache-sized chunks by the base class) next to
   the allocating whole-array numpy update the source article writes, and next to
   torch.optim.Adam(fused=True) when torch is installed. Targets: >= 3x faster than
   the article-style step; <= 3x slower than torch fused. Also shown: the part of
   optlib's step spent checking that params and grads are finite (one streaming pass
   over each), and the memory the step keeps (the new state is written into a spare
   copy of the state, so that a failed step leaves the old one intact).
2. 2-D paths: six optimizers x 500 Rosenbrock steps with optlib.trajectory, the work
   an explorer redoes on every slider move. Target: <= 10 ms in total.

Medians over --repeats runs; on a shared machine compare ratios from the same run.
"""

import argparse
import os
import time

os.environ.setdefault("OMP_NUM_THREADS", "1")  # single thread for numpy and torch alike

import numpy as np  # noqa: E402

import optlib  # noqa: E402


def median_ms(fn, repeats):
    fn()  # warm up (allocations, first-touch page faults)
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return 1e3 * float(np.median(times))


def article_style_adam(size, repeats):
    """Whole-array, allocating numpy Adam, as the source article writes it."""
    rng = np.random.default_rng(0)
    theta = rng.standard_normal(size, dtype=np.float32)
    g = rng.standard_normal(size, dtype=np.float32)
    state = {"m": np.zeros_like(theta), "v": np.zeros_like(theta), "t": 0, "theta": theta}
    b1, b2, eps, lr = 0.9, 0.999, 1e-8, 1e-3

    def step():
        state["t"] += 1
        t = state["t"]
        state["m"] = b1 * state["m"] + (1 - b1) * g
        state["v"] = b2 * state["v"] + (1 - b2) * g**2
        m_hat = state["m"] / (1 - b1**t)
        v_hat = state["v"] / (1 - b2**t)
        state["theta"] = state["theta"] - lr * m_hat / (np.sqrt(v_hat) + eps)

    return median_ms(step, repeats)


def optlib_adam(size, repeats):
    rng = np.random.default_rng(0)
    theta = rng.standard_normal(size, dtype=np.float32)
    g = rng.standard_normal(size, dtype=np.float32)
    opt = optlib.Adam(lr=1e-3)
    box = {"theta": theta}

    def step():
        box["theta"] = opt.step(box["theta"], g)

    return median_ms(step, repeats)


def finiteness_checks(size, repeats):
    """The input checks of one step alone: params and grads finite."""
    from optlib import _tree

    rng = np.random.default_rng(0)
    theta = rng.standard_normal(size, dtype=np.float32)
    g = rng.standard_normal(size, dtype=np.float32)

    def check():
        _tree.check_finite(theta, "params", "parameters")
        _tree.check_finite(g, "grads", "gradients")

    return median_ms(check, repeats)


def torch_fused_adam(size, repeats):
    try:
        import torch
    except ImportError:
        return None
    torch.set_num_threads(1)
    rng = np.random.default_rng(0)
    theta = torch.nn.Parameter(torch.from_numpy(rng.standard_normal(size, dtype=np.float32)))
    theta.grad = torch.from_numpy(rng.standard_normal(size, dtype=np.float32))
    try:
        opt = torch.optim.Adam([theta], lr=1e-3, fused=True)
        opt.step()
    except (RuntimeError, TypeError):  # fused needs a recent torch build
        return None
    return median_ms(opt.step, repeats)


def trajectories_ms(repeats):
    landscape = optlib.Rosenbrock()
    optimizers = [
        optlib.SGD(lr=1e-3),
        optlib.Momentum(lr=1e-3, beta=0.9),
        optlib.Nesterov(lr=1e-3, beta=0.9),
        optlib.AdaGrad(lr=0.5),
        optlib.RMSprop(lr=1e-2),
        optlib.Adam(lr=0.05),
    ]

    def run():
        for opt in optimizers:
            optlib.trajectory(opt, landscape, steps=500)

    return median_ms(run, repeats)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, default=10_000_000)
    parser.add_argument("--repeats", type=int, default=15)
    args = parser.parse_args()

    print(f"numpy {np.__version__}, optlib {optlib.__version__}, CHUNK_SIZE "
          f"{optlib.optimizers.CHUNK_SIZE}")
    print(f"\nAdam step, one float32 array of {args.size:,} elements (median of {args.repeats})")
    article = article_style_adam(args.size, args.repeats)
    ours = optlib_adam(args.size, args.repeats)
    fused = torch_fused_adam(args.size, args.repeats)
    checks = finiteness_checks(args.size, args.repeats)
    print(f"  article-style allocating numpy : {article:8.1f} ms/step")
    print(f"  optlib.Adam                    : {ours:8.1f} ms/step   "
          f"{article / ours:.2f}x faster than article-style (target >= 3x)")
    print(f"    of which the finiteness checks: {checks:8.1f} ms/step   "
          f"({100 * checks / ours:.0f}% of the step)")
    state_mb = 4 * args.size * 4 / 1e6
    print(f"    memory kept: m and v and a spare copy of each, {state_mb:.0f} MB "
          f"(the parameters: {args.size * 4 / 1e6:.0f} MB)")
    if fused is None:
        print("  torch.optim.Adam(fused=True)   :      n/a (torch not installed)")
    else:
        print(f"  torch.optim.Adam(fused=True)   : {fused:8.1f} ms/step   "
              f"optlib is {ours / fused:.2f}x torch fused (target <= 3x)")

    ms = trajectories_ms(max(args.repeats, 21))
    print(f"\n2-D paths: 6 optimizers x 500 Rosenbrock steps: {ms:.1f} ms (target <= 10 ms)")


if __name__ == "__main__":
    main()
