"""optlib: small, correct, readable numpy optimizers for the course
"Momentum and Adaptive Learning Rates".

    >>> import numpy as np, optlib
    >>> opt = optlib.Adam(lr=0.1)
    >>> theta = np.array([1.0, -1.0])
    >>> theta = opt.step(theta, 2 * theta)     # one update; theta itself is untouched

Modules: ``optimizers`` (the update rules), ``schedules``, ``lr_finder`` (the
learning-rate range test), ``clipping``,
``landscapes`` (2-D test functions), ``models`` (logistic regression, a small MLP),
``training`` (a minibatch training loop), ``quadratic`` (convergence theory on
quadratics), ``measure`` (steps to a tolerance, learning-rate tuning), ``seeding``
(the course seed, ``OPTLIB_SEED``), ``claims`` (claims over many runs), ``problems``
and ``exploding`` (generated problems: sparse features, exploding gradients),
``frameworks`` (what the PyTorch and optax chapter needs beside optlib), ``plotting``,
``animation``, ``widgets`` and ``explorers`` (the chapters' figures and explorers;
``animation``, ``widgets`` and ``explorers`` need ipywidgets); ``checks`` and
``coursework`` serve the graded assignments.
"""

from .clipping import clip_by_global_norm, clip_by_value, global_norm
from .landscapes import (
    LANDSCAPES,
    Beale,
    Himmelblau,
    Landscape,
    Noisy,
    Rastrigin,
    Ravine,
    Rosenbrock,
    Saddle,
)
from .models import MLP, LogisticRegression, gradient_check, make_classification
from .optimizers import (
    OPTIMIZERS,
    SGD,
    Adadelta,
    AdaGrad,
    Adam,
    Adamax,
    AdamW,
    AMSGrad,
    Momentum,
    NAdam,
    Nesterov,
    Optimizer,
    RMSprop,
    trajectory,
)
from .schedules import (
    Schedule,
    constant,
    cosine_decay,
    exponential_decay,
    linear_decay,
    one_cycle,
    step_decay,
    warmup_cosine,
    warmup_stable_decay,
)
from .training import DivergenceError, History, train

__version__ = "0.1.0"
