"""Small functional models to train with the optimizers: logistic regression and an MLP.

"Functional" means a model object holds only its architecture (sizes, activation).
The parameters live in a plain dict that you pass in and get back, so the same dict can
go straight to an optimizer::

    model = MLP([2, 16, 3])
    params = model.init(seed=0)
    loss, grads = model.loss_and_grad(params, X, y)
    params = optimizer.step(params, grads)

Gradients are computed by hand-written backpropagation, one readable line per equation,
and :func:`gradient_check` compares them with finite differences.
"""

import numpy as np

from optlib._tree import check_leaf, flatten, same_structure

# ----------------------------------------------------------------------------------------
# Checking arguments (you can skip this on first reading).
# ----------------------------------------------------------------------------------------


def _check_int(value, name, minimum):
    """Raise unless ``value`` is an integer >= ``minimum`` (bool is not accepted)."""
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
        raise TypeError(
            f"{name} must be an integer >= {minimum}, got {value!r} ({type(value).__name__})"
        )
    if value < minimum:
        raise ValueError(f"{name} must be an integer >= {minimum}, got {value}")
    return int(value)


def _check_positive_number(value, name):
    """Raise unless ``value`` is a finite real number > 0 (bool is not accepted)."""
    if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)):
        raise TypeError(
            f"{name} must be a finite number > 0, got {value!r} ({type(value).__name__})"
        )
    if not np.isfinite(value) or value <= 0:
        raise ValueError(f"{name} must be a finite number > 0, got {value!r}")
    return float(value)


def _check_features(X, n_features, name="X"):
    """Return ``X`` as a 2-D numeric array with ``n_features`` columns, or raise."""
    X = np.asarray(X)
    if not (np.issubdtype(X.dtype, np.number) or X.dtype == bool):
        raise TypeError(f"{name} must hold numbers, got dtype {X.dtype}")
    if X.ndim != 2:
        hint = " (for one sample use X.reshape(1, -1))" if X.ndim == 1 else ""
        raise ValueError(
            f"{name} must be a 2-D array of shape (n_samples, n_features), "
            f"got shape {X.shape}{hint}"
        )
    if X.shape[0] == 0:
        raise ValueError(f"{name} must have at least one row (sample), got shape {X.shape}")
    if X.shape[1] != n_features:
        raise ValueError(
            f"{name} must have {n_features} columns (the model's number of input features), "
            f"got {X.shape[1]} (shape {X.shape})"
        )
    if not np.all(np.isfinite(X)):
        row = np.flatnonzero(~np.isfinite(X).all(axis=1))[0]
        raise ValueError(f"{name} must hold finite numbers, but row {row} is {X[row]}")
    return X


def _check_labels_shape(y, n_samples, name="y"):
    """Return ``y`` as a 1-D array with ``n_samples`` entries, or raise."""
    y = np.asarray(y)
    if y.ndim != 1:
        raise ValueError(
            f"{name} must be a 1-D array of labels, got shape {y.shape} (flatten it with .ravel())"
        )
    if len(y) != n_samples:
        raise ValueError(f"{name} has {len(y)} labels but X has {n_samples} rows; they must match")
    return y


def _check_params(params, shapes):
    """Raise unless ``params`` is a dict of float arrays with exactly the given shapes."""
    if not isinstance(params, dict):
        raise TypeError(
            f"params must be a dict with keys {list(shapes)}, got {type(params).__name__} "
            f"(create one with model.init())"
        )
    missing = [key for key in shapes if key not in params]
    extra = [key for key in params if key not in shapes]
    if missing or extra:
        raise ValueError(
            f"params must have exactly the keys {list(shapes)}; "
            f"missing {missing}, unexpected {extra}"
        )
    for key, shape in shapes.items():
        check_leaf(params[key], f"params[{key!r}]")
        if params[key].shape != shape:
            raise ValueError(
                f"params[{key!r}] must have shape {shape} for this model, got {params[key].shape}"
            )


def _like_params(grads, params):
    """``grads`` in the key order and dtypes of ``params``, as the optimizers require."""
    return {key: grads[key].astype(params[key].dtype, copy=False) for key in params}


# ----------------------------------------------------------------------------------------
# Numerically stable building blocks.
# ----------------------------------------------------------------------------------------


def _sigmoid(z):
    """sigma(z) = 1 / (1 + exp(-z)), written as exp(-log(1 + exp(-z))) so it never overflows."""
    return np.exp(-np.logaddexp(0.0, -z))


def _log_softmax(logits):
    """log softmax(z)_k = z_k - logsumexp(z), row by row, with the row maximum subtracted first."""
    shifted = logits - logits.max(axis=1, keepdims=True)
    return shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))


# ----------------------------------------------------------------------------------------
# Models.
# ----------------------------------------------------------------------------------------


class LogisticRegression:
    """Binary classifier p(y=1 | x) = sigmoid(x·w + b), trained on mean binary cross-entropy.

    For n samples x_i with labels y_i in {0, 1}:

        z_i  = x_i · w + b
        p_i  = sigmoid(z_i) = 1 / (1 + exp(-z_i))
        J    = (1/n) Σ_i [ -y_i log p_i - (1 - y_i) log(1 - p_i) ]
             = (1/n) Σ_i [ log(1 + exp(z_i)) - y_i z_i ]

        ∂J/∂z_i = (p_i - y_i) / n
        ∂J/∂w   = Σ_i x_i ∂J/∂z_i          (that is, Xᵀ (p - y) / n)
        ∂J/∂b   = Σ_i ∂J/∂z_i

    Args:
        n_features: number of input features (columns of X), an integer >= 1.

    Parameters are a dict ``{"w": shape (n_features,), "b": shape (1,)}``; ``b`` has shape
    (1,) rather than () so that every parameter is an ordinary 1-D-or-more array.

    Notes:
        The loss is computed as ``logaddexp(0, z) - y*z``, which equals the cross-entropy
        above but never takes the log of 0 or the exp of a large number, so it stays finite
        for any finite weights. Labels may be ints, bools or floats, as long as every label
        is 0 or 1.

    Example:
        >>> model = LogisticRegression(n_features=2)
        >>> params = model.init()
        >>> round(model.loss(params, np.array([[1.0, 2.0]]), np.array([1])), 4)  # log 2
        0.6931
    """

    def __init__(self, n_features):
        self.n_features = _check_int(n_features, "n_features", 1)

    def __repr__(self):
        return f"LogisticRegression(n_features={self.n_features})"

    def param_shapes(self):
        """The shape of every parameter, as a dict in the order init() creates them."""
        return {"w": (self.n_features,), "b": (1,)}

    def init(self, seed=0):
        """Return float64 parameters, all zero.

        The loss is convex, so zero is the usual starting point (and gives loss log 2 ≈ 0.693
        whatever the data). ``seed`` is accepted, and ignored, so that every model has the
        same ``init(seed)`` signature.
        """
        return {"w": np.zeros(self.n_features), "b": np.zeros(1)}

    def _check_data(self, X, y):
        X = _check_features(X, self.n_features)
        y = _check_labels_shape(y, X.shape[0])
        if not (np.issubdtype(y.dtype, np.number) or y.dtype == bool):
            raise TypeError(f"y must hold binary labels 0 or 1, got dtype {y.dtype}")
        if not np.all((y == 0) | (y == 1)):
            bad = np.unique(y[(y != 0) & (y != 1)])[:5]
            raise ValueError(f"y must hold binary labels 0 or 1, got values such as {bad}")
        return X, y.astype(np.float64)

    def _logits(self, params, X):
        """z = X w + b, one logit per sample."""
        return X @ params["w"] + params["b"][0]

    def loss(self, params, X, y):
        """Mean binary cross-entropy of ``params`` on ``X`` (n, n_features), labels ``y`` (n,)."""
        _check_params(params, self.param_shapes())
        X, y = self._check_data(X, y)
        z = self._logits(params, X)
        return float(np.mean(np.logaddexp(0.0, z) - y * z))

    def loss_and_grad(self, params, X, y):
        """Return ``(loss, grads)``: the mean cross-entropy and its gradient, a dict like params."""
        _check_params(params, self.param_shapes())
        X, y = self._check_data(X, y)
        n = X.shape[0]
        z = self._logits(params, X)
        loss = np.mean(np.logaddexp(0.0, z) - y * z)

        dz = (_sigmoid(z) - y) / n  # ∂J/∂z_i = (p_i - y_i) / n
        grads = {"w": X.T @ dz, "b": np.array([dz.sum()])}
        return float(loss), _like_params(grads, params)

    def predict_proba(self, params, X):
        """p(y = 1 | x) for every row of ``X``."""
        _check_params(params, self.param_shapes())
        X = _check_features(X, self.n_features)
        return _sigmoid(self._logits(params, X))

    def predict(self, params, X):
        """Predicted labels 0 or 1 (1 where x·w + b > 0, that is where p > 0.5)."""
        _check_params(params, self.param_shapes())
        X = _check_features(X, self.n_features)
        return (self._logits(params, X) > 0).astype(np.int64)

    def accuracy(self, params, X, y):
        """Fraction of samples whose predicted label equals ``y``."""
        X, y = self._check_data(X, y)
        return float(np.mean(self.predict(params, X) == y))


class MLP:
    """Multi-layer perceptron classifier with softmax cross-entropy loss.

    ``MLP([64, 32, 10])`` has 64 inputs, one hidden layer of 32 units and 10 classes.
    With layers l = 1..L, a_0 = X (n samples as rows) and f the activation:

        z_l = a_{l-1} W_l + b_l            W_l has shape (n_in, n_out)
        a_l = f(z_l)        for l < L      (hidden layers)
        z_L                                the logits, one row of scores per sample
        J   = (1/n) Σ_i [ logsumexp(z_L[i]) - z_L[i, y_i] ]     (softmax cross-entropy)

    Backpropagation, from the output back to the input:

        ∂J/∂z_L     = (softmax(z_L) - onehot(y)) / n
        ∂J/∂W_l     = a_{l-1}ᵀ ∂J/∂z_l
        ∂J/∂b_l     = Σ_i (∂J/∂z_l)[i]                  (sum over samples)
        ∂J/∂a_{l-1} = ∂J/∂z_l W_lᵀ
        ∂J/∂z_{l-1} = ∂J/∂a_{l-1} * f'(z_{l-1})          (elementwise)

    with f'(z) written through the activation's output a = f(z):
    tanh'(z) = 1 - a², relu'(z) = 1 where a > 0 else 0.

    Args:
        sizes: layer widths ``[n_inputs, hidden_1, ..., n_classes]``; at least two entries,
            each an integer >= 1, and n_classes >= 2.
        activation: ``"tanh"`` (default) or ``"relu"``, used by every hidden layer.

    Parameters are a dict ``{"W1": (sizes[0], sizes[1]), "b1": (sizes[1],), "W2": ..., ...}``.

    Notes:
        The loss subtracts each row's maximum logit before exponentiating (log-softmax), so
        large logits do not overflow. Labels ``y`` are integer class indices 0..n_classes-1.
    """

    activations = ("tanh", "relu")

    def __init__(self, sizes, activation="tanh"):
        if not isinstance(sizes, (list, tuple)):
            raise TypeError(
                f"sizes must be a list of layer widths such as [64, 32, 10], "
                f"got {type(sizes).__name__}"
            )
        if len(sizes) < 2:
            raise ValueError(
                f"sizes must list at least the input and output widths, such as [64, 10], "
                f"got {list(sizes)}"
            )
        self.sizes = [_check_int(width, f"sizes[{i}]", 1) for i, width in enumerate(sizes)]
        if self.sizes[-1] < 2:
            raise ValueError(
                f"sizes[-1] is the number of classes and must be >= 2, got {self.sizes[-1]} "
                f"(for a binary problem use 2 classes, or LogisticRegression)"
            )
        if activation not in self.activations:
            raise ValueError(f"activation must be one of {self.activations}, got {activation!r}")
        self.activation = activation

    def __repr__(self):
        return f"MLP({self.sizes}, activation={self.activation!r})"

    @property
    def n_layers(self):
        """Number of weight layers L (hidden layers + the output layer)."""
        return len(self.sizes) - 1

    @property
    def n_features(self):
        return self.sizes[0]

    @property
    def n_classes(self):
        return self.sizes[-1]

    def param_shapes(self):
        """The shape of every parameter, as a dict in the order init() creates them."""
        shapes = {}
        for l in range(1, self.n_layers + 1):
            shapes[f"W{l}"] = (self.sizes[l - 1], self.sizes[l])
            shapes[f"b{l}"] = (self.sizes[l],)
        return shapes

    def init(self, seed=0):
        """Return random float64 parameters, deterministic for a given ``seed``.

        Weights are drawn from N(0, σ²) with σ² = 2 / (n_in + n_out) (Glorot) for tanh and
        σ² = 2 / n_in (He) for relu, so activations keep roughly the same scale from layer
        to layer; biases start at zero.
        """
        rng = np.random.default_rng(seed)
        params = {}
        for l in range(1, self.n_layers + 1):
            n_in, n_out = self.sizes[l - 1], self.sizes[l]
            variance = 2.0 / (n_in + n_out) if self.activation == "tanh" else 2.0 / n_in
            params[f"W{l}"] = rng.normal(0.0, np.sqrt(variance), size=(n_in, n_out))
            params[f"b{l}"] = np.zeros(n_out)
        return params

    def _check_data(self, X, y):
        X = _check_features(X, self.n_features)
        y = _check_labels_shape(y, X.shape[0])
        if not np.issubdtype(y.dtype, np.integer):
            raise TypeError(
                f"y must hold integer class labels 0..{self.n_classes - 1}, got dtype {y.dtype} "
                f"(convert with y.astype(int))"
            )
        if y.min() < 0 or y.max() >= self.n_classes:
            raise ValueError(
                f"y must hold class labels 0..{self.n_classes - 1} (this MLP has "
                f"{self.n_classes} outputs), got labels from {y.min()} to {y.max()}"
            )
        return X, y

    def _activate(self, z):
        return np.tanh(z) if self.activation == "tanh" else np.maximum(z, 0.0)

    def _activation_slope(self, a):
        """f'(z) written in terms of the activation's output a = f(z)."""
        return 1.0 - a**2 if self.activation == "tanh" else (a > 0).astype(a.dtype)

    def _forward(self, params, X):
        """Return the logits z_L and the input a_{l-1} that each layer l received."""
        layer_inputs = []
        a = X
        for l in range(1, self.n_layers + 1):
            layer_inputs.append(a)
            z = a @ params[f"W{l}"] + params[f"b{l}"]
            a = self._activate(z) if l < self.n_layers else z
        return a, layer_inputs

    def loss(self, params, X, y):
        """Mean softmax cross-entropy of ``params`` on ``X`` (n, n_features), labels ``y`` (n,)."""
        _check_params(params, self.param_shapes())
        X, y = self._check_data(X, y)
        logits, _ = self._forward(params, X)
        log_probs = _log_softmax(logits)
        return float(-np.mean(log_probs[np.arange(len(y)), y]))

    def loss_and_grad(self, params, X, y):
        """Return ``(loss, grads)``: the mean cross-entropy and its gradient, a dict like params."""
        _check_params(params, self.param_shapes())
        X, y = self._check_data(X, y)
        n = len(y)
        logits, layer_inputs = self._forward(params, X)
        log_probs = _log_softmax(logits)
        loss = -np.mean(log_probs[np.arange(n), y])

        dz = np.exp(log_probs)  # ∂J/∂z_L = (softmax(z_L) - onehot(y)) / n
        dz[np.arange(n), y] -= 1.0
        dz /= n
        grads = {}
        for l in range(self.n_layers, 0, -1):
            a_prev = layer_inputs[l - 1]
            grads[f"W{l}"] = a_prev.T @ dz
            grads[f"b{l}"] = dz.sum(axis=0)
            if l > 1:
                da_prev = dz @ params[f"W{l}"].T
                dz = da_prev * self._activation_slope(a_prev)
        return float(loss), _like_params(grads, params)

    def predict_proba(self, params, X):
        """Class probabilities softmax(z_L), shape (n_samples, n_classes)."""
        _check_params(params, self.param_shapes())
        X = _check_features(X, self.n_features)
        logits, _ = self._forward(params, X)
        return np.exp(_log_softmax(logits))

    def predict(self, params, X):
        """Predicted class labels: the index of the largest logit in each row."""
        _check_params(params, self.param_shapes())
        X = _check_features(X, self.n_features)
        logits, _ = self._forward(params, X)
        return np.argmax(logits, axis=1)

    def accuracy(self, params, X, y):
        """Fraction of samples whose predicted label equals ``y``."""
        X, y = self._check_data(X, y)
        return float(np.mean(self.predict(params, X) == y))


# ----------------------------------------------------------------------------------------
# Checking gradients.
# ----------------------------------------------------------------------------------------


def gradient_check(f, params, eps=1e-6, n_checks=None, seed=0):
    """Largest relative error between the gradient ``f`` returns and central finite differences.

    With J(θ) the loss that ``f`` returns and a = the analytic ∂J/∂θ_j that it returns
    at ``params``, for each checked entry θ_j of the parameters (e_j: 1 at entry j, 0
    elsewhere):

        n       = ( J(θ + eps e_j) - J(θ - eps e_j) ) / (2 eps)     (numerical derivative)
        rel_err = |a - n| / max(|a| + |n|, 1e-12)

    and the result is the maximum of rel_err over all checked entries (0 ≤ rel_err ≤ 1).
    In float64 a correct gradient typically gives about 1e-8 or less; a wrong one gives
    something of order 1e-2 to 1.

    Args:
        f: function ``f(params) -> (loss, grads)``, for example
            ``lambda p: model.loss_and_grad(p, X, y)``; ``grads`` must have the same
            structure and shapes as ``params``.
        params: one float array, a list/tuple of arrays or a dict of arrays.
        eps: finite-difference step, > 0 (default 1e-6).
        n_checks: ``None`` (default) checks every entry; an integer k >= 1 checks k randomly
            chosen entries of each array (all of them if the array is smaller).
        seed: seed for choosing the entries when ``n_checks`` is given (default 0).

    Returns:
        The maximum relative error, a float.

    Notes:
        ``params`` is not modified: ``f`` is evaluated on float64 copies. It is called
        1 + 2 × (number of checked entries) times.
        The 1e-12 floor only matters when both derivatives are (near) zero, e.g. for a
        dead relu unit. Rounding makes the numerical derivative uncertain by roughly
        1e-16·|J| / eps (about 1e-10 for eps = 1e-6 and J ≈ 1), so an entry whose true
        derivative is tiny (≲ 1e-6) can show a large relative error without a bug; and a
        relu whose input lies within eps of 0 is not differentiable there.
    """
    if not callable(f):
        raise TypeError(f"f must be a function f(params) -> (loss, grads), got {type(f).__name__}")
    eps = _check_positive_number(eps, "eps")
    if n_checks is not None:
        n_checks = _check_int(n_checks, "n_checks", 1)

    leaves, labels, rebuild = flatten(params, "params")
    for leaf, label in zip(leaves, labels, strict=True):
        check_leaf(leaf, label)
    work = [np.array(leaf, dtype=np.float64) for leaf in leaves]  # copies we may perturb

    _, grads = f(rebuild(work))
    same_structure(params, grads, "params", "grads")
    grad_leaves, grad_labels, _ = flatten(grads, "grads")
    for grad, leaf, label in zip(grad_leaves, leaves, grad_labels, strict=True):
        if np.shape(grad) != leaf.shape:
            raise ValueError(
                f"{label} must have the shape of its parameter {leaf.shape}, got {np.shape(grad)}"
            )

    rng = np.random.default_rng(seed)
    worst = 0.0
    for theta, grad in zip(work, grad_leaves, strict=True):
        flat_theta = theta.reshape(-1)  # a view: writing to it perturbs `theta`
        flat_grad = np.asarray(grad, dtype=np.float64).reshape(-1)
        if n_checks is None or n_checks >= flat_theta.size:
            entries = range(flat_theta.size)
        else:
            entries = rng.choice(flat_theta.size, size=n_checks, replace=False)
        for j in entries:
            original = flat_theta[j]
            flat_theta[j] = original + eps
            loss_plus, _ = f(rebuild(work))
            flat_theta[j] = original - eps
            loss_minus, _ = f(rebuild(work))
            flat_theta[j] = original

            numerical = (loss_plus - loss_minus) / (2 * eps)
            analytic = flat_grad[j]
            rel_err = abs(analytic - numerical) / max(abs(analytic) + abs(numerical), 1e-12)
            worst = max(worst, float(rel_err))
    return worst


# ----------------------------------------------------------------------------------------
# A synthetic data set.
# ----------------------------------------------------------------------------------------


def make_classification(n_samples=200, n_features=2, n_classes=2, seed=0, class_sep=2.0):
    """Gaussian blobs: a deterministic synthetic classification data set.

    Each class k gets a centre c_k drawn from N(0, class_sep² I); its samples are
    x = c_k + ε with ε ~ N(0, I). Classes are as balanced as possible (sizes differ by at
    most one) and the rows come in shuffled order.

    Args:
        n_samples: number of samples, an integer >= 1 (default 200).
        n_features: number of features, an integer >= 1 (default 2).
        n_classes: number of classes, an integer >= 2 (default 2).
        seed: seed for ``np.random.default_rng``; the same seed gives the same data (default 0).
        class_sep: spread of the class centres relative to the unit spread of each blob;
            larger is easier, > 0 (default 2.0).

    Returns:
        ``(X, y)``: X float64 of shape (n_samples, n_features), y int64 labels of shape
        (n_samples,) in 0..n_classes-1.

    Example:
        >>> X, y = make_classification(100, n_features=2, n_classes=3, seed=1)
        >>> X.shape, y.shape, sorted(set(y.tolist()))
        ((100, 2), (100,), [0, 1, 2])
    """
    n_samples = _check_int(n_samples, "n_samples", 1)
    n_features = _check_int(n_features, "n_features", 1)
    n_classes = _check_int(n_classes, "n_classes", 2)
    class_sep = _check_positive_number(class_sep, "class_sep")

    rng = np.random.default_rng(seed)
    centres = rng.normal(0.0, class_sep, size=(n_classes, n_features))
    y = rng.permutation(np.arange(n_samples) % n_classes).astype(np.int64)
    X = centres[y] + rng.normal(size=(n_samples, n_features))
    return X, y
