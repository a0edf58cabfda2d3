"""Write the sample submissions in assignments/samples/ (committed; the tests check that
they are up to date with the masters).

    python scripts/make_sample_submissions.py [--release DIR] [--out DIR]

Each sample student starts from the student versions (assignments/release, made by
``python -m optlib.coursework generate``) and fills in the answer cells, as a student
would. ``ada`` answers everything as the masters do; every other student makes one kind
of mistake, the ones the grader must handle:

=====  ==========================================================================
ben    a sign error in momentum_step (θ + αv), so the momentum questions fail
cho    the source article's Nesterov look-ahead, θ − βv
dev    Adam without bias correction
eve    submits the notebooks untouched (blank)
fay    an endless loop (run_momentum) and an exception (adam_moments)
gus    patches optlib.Adam so that his uncorrected Adam "matches" it
ivy    ε inside the square root in rmsprop_step (assignment 5 only)
jon    clips each gradient array by its own norm (assignment 5 only)
kim    a schedule that overrides the learning rate (assignment 5 only)
lea    drops the last partial minibatch (assignment 5 only)
=====  ==========================================================================

The students marked "assignment 5 only" submit that notebook alone (the others are
missing from their folders, which the grader reports as such).
"""

import argparse
import sys
import textwrap
from pathlib import Path

import nbformat

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from optlib.coursework.notebooks import (  # noqa: E402
    BEGIN_SOLUTION,
    END_SOLUTION,
    cell_role,
    nbgrader_meta,
    read,
)


def answers_of(master):
    """A perfect student's answers: the masters' solutions without the markers."""
    answers = {}
    for cell in master.cells:
        if cell_role(cell) in ("solution", "answer"):
            lines = [line for line in cell.source.splitlines()
                     if line.strip() not in (BEGIN_SOLUTION, END_SOLUTION)]
            answers[nbgrader_meta(cell)["grade_id"]] = "\n".join(lines)
    return answers


def code(text):
    return textwrap.dedent(text).strip()


SIGN_ERROR = code('''
    def momentum_step(theta, v, grad, lr, beta):
        """One heavy-ball update: returns (theta_new, v_new); the inputs are left unchanged."""
        v_new = beta * v + grad
        theta_new = theta + lr * v_new
        return theta_new, v_new
    ''')

ARTICLE_NESTEROV = code('''
    def nesterov_step(theta, v, grad_fn, lr, beta):
        """One Nesterov update, look-ahead form: returns (theta_new, v_new)."""
        g = grad_fn(theta - beta * v)
        v_new = beta * v + g
        theta_new = theta - lr * v_new
        return theta_new, v_new
    ''')

NO_BIAS_CORRECTION = code('''
    def adam_step(theta, m, v, grad, t, lr, beta1, beta2, eps):
        """One Adam update (t = 1 for the first): returns (theta_new, m_new, v_new)."""
        m_new, v_new = adam_moments(m, v, grad, beta1, beta2)
        theta_new = theta - lr * m_new / (np.sqrt(v_new) + eps)
        return theta_new, m_new, v_new
    ''')

ENDLESS_LOOP = code('''
    def run_momentum(landscape, start, lr, beta, steps):
        """The momentum path from start: an array (steps + 1, 2)."""
        theta = np.array(start, dtype=float)
        v = np.zeros_like(theta)
        path = [theta]
        k = 0
        while k < steps:   # forgot k += 1
            theta, v = momentum_step(theta, v, landscape.gradient(theta), lr, beta)
            path.append(theta)
        return np.array(path)
    ''')

EXCEPTION = code('''
    def adam_moments(m, v, grad, beta1, beta2):
        """Adam's moving averages of g and g**2: returns (m_new, v_new)."""
        m_new = beta1 * m + (1 - beta1) * grad
        v_new = beta2 * v + (1 - beta2) * grad.square()
        return m_new, v_new
    ''')

TAMPERING = NO_BIAS_CORRECTION + "\n\n" + code('''
    # make optlib's Adam agree with mine
    import optlib.optimizers

    def _update(self, theta, g, m, v, lr, t):
        m = self.beta1 * m + (1 - self.beta1) * g
        v = self.beta2 * v + (1 - self.beta2) * g * g
        return theta - lr * m / (optlib.optimizers.sqrt(v) + self.eps), m, v

    optlib.optimizers.Adam.update = _update
    ''')

EPS_INSIDE_THE_ROOT = code('''
    def rmsprop_step(theta, s, grad, lr, beta, eps):
        """One RMSprop update: returns (theta_new, s_new); the inputs are left unchanged."""
        s_new = beta * s + (1 - beta) * grad**2
        theta_new = theta - lr * grad / np.sqrt(s_new + eps)
        return theta_new, s_new
    ''')

CLIP_PER_ARRAY = code('''
    def clip_global_norm(grads, max_norm):
        """(clipped, norm): grads scaled so their norm is at most max_norm."""
        norm = float(np.sqrt(sum(np.sum(g**2) for g in grads)))
        clipped = []
        for g in grads:
            own = np.sqrt(np.sum(g**2))
            clipped.append(g * (max_norm / own) if own > max_norm else g.copy())
        return clipped, norm
    ''')

LOOP = '''
    def train_loop(params, loss_and_grad, X, y, *, lr, schedule, batch_size, epochs, max_norm,
                   seed, beta, eps):
        """Minibatch RMSprop with global-norm clipping; returns (params, losses)."""
        rng = np.random.default_rng(seed)
        s = [np.zeros_like(p) for p in params]
        losses, t, n = [], 0, len(X)
        for _ in range(epochs):
            order = rng.permutation(n)
            for start in range(0, {stop}, batch_size):
                batch = order[start:start + batch_size]
                loss, grads = loss_and_grad(params, X[batch], y[batch])
                grads, _ = clip_global_norm(grads, max_norm)
                rate = {rate}
                updated = [rmsprop_step(p, s_p, g, rate, beta, eps)
                           for p, s_p, g in zip(params, s, grads)]
                params = [p for p, _ in updated]
                s = [s_p for _, s_p in updated]
                losses.append(loss)
                t += 1
        return params, losses
    '''
SCHEDULE_OVERRIDES = code(LOOP.format(stop="n", rate="schedule(t)  # the schedule's rate"))
DROPS_LAST_BATCH = code(LOOP.format(stop="n - n % batch_size", rate="lr * schedule(t)"))

#: The students who submit only these assignments (the others are missing).
ONLY = {student: ("05_adaptive_training",) for student in ("ivy", "jon", "kim", "lea")}

#: {student: {assignment: {grade_id: answer}}}; "blank" keeps the release versions.
MISTAKES = {
    "ada": {},
    "ben": {"01_momentum": {"q1_momentum_step": SIGN_ERROR}},
    "cho": {"02_nesterov": {"q1_nesterov_step": ARTICLE_NESTEROV}},
    "dev": {"03_adam": {"q2_adam_step": NO_BIAS_CORRECTION}},
    "eve": "blank",
    "fay": {"01_momentum": {"q2_run_momentum": ENDLESS_LOOP},
            "03_adam": {"q1_adam_moments": EXCEPTION}},
    "gus": {"03_adam": {"q2_adam_step": TAMPERING}},
    "ivy": {"05_adaptive_training": {"q1_rmsprop_step": EPS_INSIDE_THE_ROOT}},
    "jon": {"05_adaptive_training": {"q2_clip_global_norm": CLIP_PER_ARRAY}},
    "kim": {"05_adaptive_training": {"q3_train_loop": SCHEDULE_OVERRIDES}},
    "lea": {"05_adaptive_training": {"q3_train_loop": DROPS_LAST_BATCH}},
}


def make(source, release, out):
    out.mkdir(parents=True, exist_ok=True)
    written = []
    for master_path in sorted(source.glob("*.ipynb")):
        name = master_path.stem
        perfect = answers_of(read(master_path))
        for student, mistakes in MISTAKES.items():
            if name not in ONLY.get(student, (name,)):
                continue
            nb = read(release / master_path.name)
            if mistakes != "blank":
                answers = {**perfect, **mistakes.get(name, {})}
                for cell in nb.cells:
                    gid = nbgrader_meta(cell).get("grade_id")
                    if gid in answers and cell_role(cell) in ("solution", "answer"):
                        cell.source = answers[gid]
            target = out / student / master_path.name
            target.parent.mkdir(parents=True, exist_ok=True)
            nbformat.write(nb, str(target))
            written.append(target)
    return written


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--source", default=ROOT / "assignments" / "source", type=Path)
    parser.add_argument("--release", default=ROOT / "assignments" / "release", type=Path)
    parser.add_argument("--out", default=ROOT / "assignments" / "samples", type=Path)
    args = parser.parse_args()
    for path in make(args.source, args.release, args.out):
        print(f"wrote {path}")


if __name__ == "__main__":
    main()
