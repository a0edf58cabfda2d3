"""The PyTorch and optax code of book/frameworks.ipynb, run against optlib.

The chapter shows its PyTorch and optax code in markdown code blocks, so the book builds
and the notebook runs without either library. This file reads exactly those blocks out
of the notebook and runs them:

* A line (statement) of a block that ends with the comment ``# = <optlib expression>``
  claims that the two are the same; ``# ≠ <optlib expression>`` claims that they differ.
  The other statements of the block (imports, ``optimizer = ...``) are its set-up and
  run first, in a namespace that also holds ``params`` (PyTorch tensors or JAX arrays),
  optlib's names and, for clipping, ``grads``.
* What "the same" means depends on what the line makes:

  - an optimizer (``torch.optim.Adam(params, ...)``, ``optax.adam(...)``): 120 updates
    on the quadratic of ``tests/fixtures`` (two arrays, shapes (3,) and (2, 2)), the
    gradient computed with numpy at each library's own current parameters; parameters
    after every update agree with optlib's to rtol 1e-10 (float64; see
    ``tests/test_optimizers_torch.py`` for why 1e-10 and not 1e-15);
  - a learning-rate scheduler or an optax schedule: the rate of every update
    t = 0 .. total_steps agrees with the optlib schedule to rtol 1e-12;
  - a clipping call: the clipped gradients agree with optlib's, for a gradient below
    and one above the threshold (PyTorch divides by norm + 1e-6, which the chapter
    states; the check allows exactly that factor and no more).

  "Differs" means that the same comparison finds a difference above 1e-6.
* Blocks that define ``train_torch`` / ``train_optax`` (the chapter's training loops)
  are run on a small MLP and compared with :func:`optlib.train`.

Without PyTorch (or optax) the tests that need it are skipped with the reason, except
in CI (environment variable ``CI`` set), where a missing torch fails: ``.ci/run``
installs it. optax is required in CI as soon as ``.ci/run`` installs it.
"""

import ast
import io
import json
import math
import os
import re
import tokenize
from pathlib import Path

import numpy as np
import pytest

import optlib
from optlib import MLP, AdamW, cosine_decay, make_classification, train
from optlib.clipping import global_norm

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOK = ROOT / "book" / "frameworks.ipynb"
FIXTURES = Path(__file__).parent / "fixtures"
STEPS = 120
RTOL, ATOL = 1e-10, 1e-12
IN_CI = bool(os.environ.get("CI"))
CI_INSTALLS = (ROOT / ".ci" / "run").read_text()


# ------------------------------------------------------------------ reading the notebook


def code_blocks(path=NOTEBOOK):
    """Every ```python block of the notebook's markdown cells, in order."""
    notebook = json.loads(path.read_text())
    blocks = []
    for cell in notebook["cells"]:
        if cell["cell_type"] == "markdown":
            text = "".join(cell["source"])
            blocks += re.findall(r"^ *```python\n(.*?)^ *```", text, flags=re.S | re.M)
    return blocks


def framework_of(block):
    """"torch" or "optax": the library a block is written for."""
    uses = {name for name in ("torch", "optax") if re.search(rf"\b{name}\b", block)}
    assert len(uses) == 1, f"a block must use exactly one of torch and optax:\n{block}"
    return uses.pop()


def claims(block):
    """``(setup, statement, relation, optlib_expression)`` for each claim of a block.

    A claim is a statement whose last line ends with ``# = expr`` or ``# ≠ expr``; the
    set-up is every statement before it that is not a claim.
    """
    comments = {}
    for token in tokenize.generate_tokens(io.StringIO(block).readline):
        if token.type == tokenize.COMMENT:
            comments[token.start[0]] = token.string[1:].strip()
    setup, found = [], []
    for node in ast.parse(block).body:
        source = ast.get_source_segment(block, node)
        comment = comments.get(node.end_lineno, "")
        if comment[:1] in ("=", "≠") and isinstance(node, ast.Expr):
            found.append(("\n".join(setup), source, comment[0], comment[1:].strip()))
        else:
            setup.append(source)
    return found


BLOCKS = code_blocks() if NOTEBOOK.exists() else []
CLAIMS = [(framework_of(block), *claim) for block in BLOCKS for claim in claims(block)]


def claim_id(claim):
    framework, _, statement, relation, expression = claim
    return f"{framework} {relation} {expression}"


# ------------------------------------------------------------------ the libraries


def _need(module, package):
    """Import ``module`` or skip, except in CI, where a package .ci/run installs must be there."""
    try:
        return __import__(module)
    except ImportError:
        if IN_CI and re.search(rf"pip install .*\b{package}\b", CI_INSTALLS):
            pytest.fail(f"{module} is not installed, but .ci/run installs {package} and CI "
                        f"is set", pytrace=False)
        pytest.skip(f"{module} is not installed; `pip install {package}` runs these checks "
                    f"(the book and the other tests do not need it)")


@pytest.fixture(scope="module")
def torch():
    torch = _need("torch", "torch")
    torch.set_default_dtype(torch.float64)
    return torch


@pytest.fixture(scope="module")
def jax():
    jax = _need("jax", "optax")  # optax brings jax with it
    _need("optax", "optax")
    jax.config.update("jax_enable_x64", True)
    return jax


# ------------------------------------------------------------------ the problem


with np.load(FIXTURES / "torch_trajectories.npz") as _data:
    A, B, X0 = _data["two_A"], _data["two_b"], _data["two_x0"]
SHAPES = [(3,), (2, 2)]


def split(x):
    return [x[:3].reshape(SHAPES[0]), x[3:].reshape(SHAPES[1])]


def flat(arrays):
    return np.concatenate([np.asarray(a, dtype=np.float64).ravel() for a in arrays])


def gradient(arrays):
    return split(A @ flat(arrays) - B)


def optlib_trajectory(optimizer):
    params, rows = split(X0.copy()), [X0.copy()]
    for _ in range(STEPS):
        params = optimizer.step(params, gradient(params))
        rows.append(flat(params))
    return np.array(rows)


def torch_trajectory(torch, make):
    params = [torch.tensor(p, requires_grad=True) for p in split(X0.copy())]
    optimizer = make(params)
    rows = [X0.copy()]
    for _ in range(STEPS):
        for p, g in zip(params, gradient([p.detach().numpy() for p in params])):
            p.grad = torch.from_numpy(g.copy())
        optimizer.step()
        rows.append(flat([p.detach().numpy() for p in params]))
    return np.array(rows)


def optax_trajectory(jax, transformation):
    import optax

    params = [jax.numpy.asarray(p) for p in split(X0.copy())]
    state = transformation.init(params)
    rows = [X0.copy()]
    for _ in range(STEPS):
        grads = [jax.numpy.asarray(g) for g in gradient(params)]
        updates, state = transformation.update(grads, state, params)
        params = optax.apply_updates(params, updates)
        rows.append(flat(params))
    return np.array(rows)


def namespace(params=None, grads=None):
    """What a snippet may use besides its own imports: optlib's names, params, grads."""
    names = {name: getattr(optlib, name) for name in dir(optlib) if not name.startswith("_")}
    for module in (optlib.schedules, optlib.clipping):
        names.update((name, getattr(module, name)) for name in module.__all__)
    if params is not None:
        names["params"] = params
    if grads is not None:
        names["grads"] = grads
    return names


def run_snippet(setup, statement, names):
    exec(setup, names)  # noqa: S102 - the chapter's own code
    return eval(statement, names)  # noqa: S307


def same(relation, got, expected, rtol):
    assert np.all(np.isfinite(got)) and np.all(np.isfinite(expected))
    if relation == "=":
        np.testing.assert_allclose(got, expected, rtol=rtol, atol=ATOL)
    else:
        assert np.max(np.abs(got - expected)) > 1e-6, "the chapter says these differ; they do not"


# ------------------------------------------------------------------ the claims


def test_the_chapter_has_its_blocks():
    """Guards against a parser that silently finds nothing."""
    assert NOTEBOOK.exists()
    frameworks = [framework_of(block) for block in BLOCKS]
    assert frameworks.count("torch") >= 3 and frameworks.count("optax") >= 3
    assert len(CLAIMS) >= 25
    for block in BLOCKS:  # every block shown is run by some test below
        assert claims(block) or re.search(r"^def train_(torch|optax)\(", block, re.M), block


def test_every_optimizer_schedule_and_clipping_function_is_covered():
    said = {framework: " ".join(c[4] for c in CLAIMS if c[0] == framework and c[3] == "=")
            for framework in ("torch", "optax")}
    schedules = [name for name in optlib.schedules.__all__ if name not in ("Schedule", "constant")]
    names = [*optlib.OPTIMIZERS, *schedules, *optlib.clipping.__all__]
    names.remove("global_norm")  # not a clipping function: torch's clip returns it
    for framework, text in said.items():
        missing = [n for n in names if not re.search(rf"\b{n}\(", text)]
        if framework == "optax":
            # optax.amsgrad takes the maximum of the bias-corrected v: the chapter says so
            # with a "≠" line and there is no optax equal of AMSGrad.
            assert any(c[0] == "optax" and c[3] == "≠" and "AMSGrad(" in c[4] for c in CLAIMS)
            missing.remove("AMSGrad")
        assert not missing, f"{framework}: no '= ...' line for {missing}"


@pytest.mark.parametrize("claim", CLAIMS, ids=[claim_id(c) for c in CLAIMS])
def test_claim(claim, request):
    framework, setup, statement, relation, expression = claim
    ours = eval(expression, namespace(grads=split(X0.copy())))  # noqa: S307
    if isinstance(ours, tuple) or "clip_by" in expression:
        return check_clipping(request, framework, setup, statement, relation, expression)
    if framework == "torch":
        torch = request.getfixturevalue("torch")
        if isinstance(ours, optlib.Optimizer):
            got = torch_trajectory(
                torch, lambda params: run_snippet(setup, statement, namespace(params)))
            return same(relation, got, optlib_trajectory(ours), RTOL)
        params = [torch.zeros(3, requires_grad=True)]
        names = namespace(params)
        scheduler = run_snippet(setup, statement, names)
        optimizer = names["optimizer"]
        steps = ours.params.get("total_steps", 200)
        rates = []
        for t in range(steps + 1):  # the rates of updates t = 0 .. steps
            rates.append(optimizer.param_groups[0]["lr"])
            if t < steps:
                optimizer.step()
                scheduler.step()
        return same(relation, np.array(rates), ours(np.arange(steps + 1)), 1e-12)
    jax = request.getfixturevalue("jax")
    made = run_snippet(setup, statement, namespace())
    if isinstance(ours, optlib.Optimizer):
        return same(relation, optax_trajectory(jax, made), optlib_trajectory(ours), RTOL)
    steps = ours.params.get("total_steps", 200)
    rates = np.array([float(made(t)) for t in range(steps + 1)])
    return same(relation, rates, ours(np.arange(steps + 1)), 1e-12)


def check_clipping(request, framework, setup, statement, relation, expression):
    assert relation == "="
    for size in (0.1, 10.0):  # below and above every threshold the chapter uses
        grads = [size * g / global_norm(gradient(split(X0))) for g in gradient(split(X0))]
        ours = eval(expression, namespace(grads=grads))  # noqa: S307
        clipped = ours[0] if isinstance(ours, tuple) else ours
        if framework == "torch":
            torch = request.getfixturevalue("torch")
            params = [torch.zeros(s, requires_grad=True) for s in SHAPES]
            for p, g in zip(params, grads):
                p.grad = torch.from_numpy(g.copy())
            returned = run_snippet(setup, statement, namespace(params))
            got = flat([p.grad.numpy() for p in params])
            expected = flat(clipped)
            if isinstance(ours, tuple):  # clip_grad_norm_: max_norm / (norm + 1e-6)
                norm = ours[1]
                assert float(returned) == pytest.approx(norm, rel=1e-14)
                if global_norm(clipped) < norm:
                    expected = expected * norm / (norm + 1e-6)
            np.testing.assert_allclose(got, expected, rtol=1e-13, atol=1e-15)
        else:
            jax = request.getfixturevalue("jax")
            transformation = run_snippet(setup, statement, namespace())
            params = [jax.numpy.zeros(s) for s in SHAPES]
            jgrads = [jax.numpy.asarray(g) for g in grads]
            updates, _ = transformation.update(jgrads, transformation.init(params), params)
            np.testing.assert_allclose(flat(updates), flat(clipped), rtol=1e-13, atol=1e-15)


def test_cosine_annealing_rises_again_after_t_max(torch):
    """The chapter: CosineAnnealingLR is periodic; optlib's cosine_decay stays at lr_min."""
    optimizer = torch.optim.SGD([torch.zeros(1, requires_grad=True)], lr=0.1)
    scheduler = torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=10)
    rates = []
    for _ in range(21):
        rates.append(optimizer.param_groups[0]["lr"])
        optimizer.step()
        scheduler.step()
    assert rates[10] == pytest.approx(0.0, abs=1e-15)
    assert rates[20] == pytest.approx(0.1, rel=1e-12)  # back at the start after 2 T_max
    assert cosine_decay(0.1, total_steps=10)(20) == 0.0


def test_stepping_the_scheduler_first_skips_the_first_rate(torch):
    """The chapter: calling scheduler.step() before optimizer.step() skips lr(0), and
    PyTorch warns."""
    optimizer = torch.optim.SGD([torch.zeros(1, requires_grad=True)], lr=0.1)
    scheduler = torch.optim.lr_scheduler.StepLR(optimizer, step_size=1, gamma=0.5)
    with pytest.warns(UserWarning, match=r"lr_scheduler\.step\(\)` before `optimizer\.step"):
        scheduler.step()
        first_rate = optimizer.param_groups[0]["lr"]
        optimizer.step()
    assert first_rate == 0.05  # lr(1), not lr(0) = 0.1


def test_one_cycle_lr_turns_momentum_on_unless_told_not_to(torch):
    """The chapter: OneCycleLR cycles momentum by default, even on SGD without momentum."""
    for cycle, expected in ((True, 0.95), (False, 0.0)):
        optimizer = torch.optim.SGD([torch.zeros(1, requires_grad=True)], lr=0.1)
        torch.optim.lr_scheduler.OneCycleLR(optimizer, max_lr=0.1, total_steps=100,
                                            cycle_momentum=cycle)
        assert optimizer.param_groups[0]["momentum"] == expected


def test_linear_lr_refuses_a_zero_start(torch):
    """The chapter: LinearLR needs start_factor > 0, so warm-up from exactly 0 needs LambdaLR."""
    optimizer = torch.optim.SGD([torch.zeros(1, requires_grad=True)], lr=0.1)
    with pytest.raises(ValueError, match="greater than 0"):
        torch.optim.lr_scheduler.LinearLR(optimizer, start_factor=0.0, total_iters=10)


# ------------------------------------------------------------------ the training loops


def loop_block(name):
    found = [block for block in BLOCKS if re.search(rf"^def {name}\(", block, re.M)]
    assert len(found) == 1, f"the chapter has one block defining {name}"
    return found[0]


def course_run(max_norm, epochs=3, lr=0.05):
    X, y = make_classification(150, n_features=4, n_classes=3, seed=1, class_sep=2.0)
    model = MLP([4, 16, 3])
    params = model.init(seed=2)
    steps = epochs * math.ceil(len(X) / 32)
    optimizer = AdamW(lr=cosine_decay(lr, total_steps=steps), weight_decay=0.01)
    trained, history = train(model, params, optimizer, X, y, epochs=epochs, batch_size=32,
                             seed=3, clip_norm=max_norm, progress=False)
    return (X, y, params), trained, history


def compare_loops(result, trained, history, rtol):
    got_params, got_losses = result
    assert sorted(got_params) == sorted(trained)
    np.testing.assert_allclose(got_losses, history.loss, rtol=rtol)
    for key in trained:
        assert np.all(np.isfinite(got_params[key]))
        np.testing.assert_allclose(got_params[key], trained[key], rtol=rtol, atol=1e-12)


def test_the_pytorch_loop_is_the_course_loop(torch):
    namespace_ = {}
    exec(loop_block("train_torch"), namespace_)  # noqa: S102
    train_torch = namespace_["train_torch"]
    # max_norm large: clipping never acts, and the runs agree to 1e-10.
    (X, y, params), trained, history = course_run(max_norm=1e6)
    assert max(history.grad_norm) < 1e6
    result = train_torch(params, X, y, epochs=3, batch_size=32, seed=3, lr=0.05, max_norm=1e6)
    compare_loops(result, trained, history, RTOL)
    # max_norm small: clipping acts on most updates; PyTorch's norm + 1e-6 then changes
    # each clipped gradient by about 1e-6 / norm (relative), and nothing else.
    (X, y, params), trained, history = course_run(max_norm=0.3)
    assert np.mean(np.array(history.grad_norm) > 0.3) > 0.5
    result = train_torch(params, X, y, epochs=3, batch_size=32, seed=3, lr=0.05, max_norm=0.3)
    compare_loops(result, trained, history, 1e-4)
    with pytest.raises(AssertionError):
        compare_loops(result, trained, history, RTOL)


def test_the_optax_loop_is_the_course_loop(jax):
    namespace_ = {}
    exec(loop_block("train_optax"), namespace_)  # noqa: S102
    train_optax = namespace_["train_optax"]
    for max_norm in (1e6, 0.3):  # optax clips without an epsilon: 1e-10 either way
        (X, y, params), trained, history = course_run(max_norm)
        result = train_optax(params, X, y, epochs=3, batch_size=32, seed=3, lr=0.05,
                             max_norm=max_norm)
        compare_loops(result, trained, history, RTOL)
