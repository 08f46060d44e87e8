"""Neural networks: fused primitives, activations, losses, and modules shaped like torch.nn.

A whole layer or loss with a short closed-form derivative is registered as ONE
primitive (one graph node instead of a chain of small ones: fewer nodes, fewer
temporaries), through the same ``defprimitive`` as np.sin.
"""

from __future__ import annotations

import numpy as np

from ad_engine.numpy_rules import tanh
from ad_engine.reverse import Variable
from ad_engine.rules import (
    PRIMITIVES,
    Traced,
    bind,
    defprimitive,
    dtype_of,
    full_tangent,
    plain,
    shape_of,
    value_of,
)

# -- affine: x @ W + b as one node (PyTorch's ``linear``) -------------------------------


def _affine_value(x, weight, bias):
    out = x @ weight
    if type(out) is np.ndarray and type(bias) is np.ndarray and bias.dtype == out.dtype:
        out += bias  # in place: one temporary less (another dtype: numpy's sum below)
        return out
    return out + bias


defprimitive(
    "affine", _affine_value,
    jvps=[lambda t, ans, x, w, b: full_tangent(t, x) @ w,
          lambda t, ans, x, w, b: x @ full_tangent(t, w),
          lambda t, ans, x, w, b: full_tangent(t, b)],
    vjps=[lambda g, ans, x, w, b: g @ w.T,  # dx = g W^T
          lambda g, ans, x, w, b: x.T @ g,  # dW = x^T g
          lambda g, ans, x, w, b: g.sum(axis=0)],  # db = sum of g over the batch
)


def affine(x, weight, bias):
    """Return x @ weight + bias, recorded as one graph node when x is a (batch, n_in)
    array or Variable, weight (n_in, n_out) and bias (n_out,) (as PyTorch's
    ``linear``); its vjp is dx = g @ W^T, dW = x^T @ g, db = sum of g over the batch.
    Other shapes (a bias of shape (1,) shared by all outputs, say) give
    ``x @ weight + bias`` from the matmul and add primitives, whose vjp sums the
    adjoint down to the bias's shape.
    """
    if (len(shape_of(x)), len(shape_of(weight)), shape_of(bias)) != (2, 2, shape_of(weight)[1:]):
        return x @ weight + bias
    return bind(PRIMITIVES["affine"], x, weight, bias)


# -- cross-entropy of softmax(logits): one node, derivative (softmax - onehot) / N --------

def softmax(logits):
    """softmax(z)_k = exp(z_k - max z) / sum_j exp(z_j - max z) along the last axis
    (the maximum, a constant, keeps every exponential <= 1)."""
    shifted = logits - value_of(logits).max(axis=-1, keepdims=True)
    exponentials = np.exp(shifted)
    return exponentials / exponentials.sum(axis=-1, keepdims=True)


class Loss(float):
    """A loss value (a float) that keeps the softmax its backward pass needs, computed
    once in the forward pass (as PyTorch's ``ctx.save_for_backward``)."""

    softmax = None


def _cross_entropy_value(logits, labels):
    # log softmax(z)_k = (z_k - max z) - log sum_j exp(z_j - max z): the shift is a constant
    shifted = logits - value_of(logits).max(axis=1, keepdims=True)
    exponentials = np.exp(shifted)
    totals = exponentials.sum(axis=1, keepdims=True)
    losses = np.log(totals[:, 0]) - shifted[np.arange(len(labels)), labels]
    loss = plain(losses.sum() / len(labels))
    if type(loss) is not float:  # Duals inside Duals: nothing to save
        return loss
    loss = Loss(loss)
    loss.softmax = exponentials / totals
    return loss


def _cross_entropy_partial(logits, labels):
    # d/dz_nk of -(1/N) sum_n log softmax(z_n)[y_n] is (softmax(z_n)_k - [k == y_n]) / N, in
    # the logits' precision (a float64 onehot made a float32 parameter's .grad float64)
    onehot = np.zeros(shape_of(logits), np.result_type(dtype_of(logits), 1.0))
    onehot[np.arange(len(labels)), labels] = 1.0
    return (softmax(logits) - onehot) / len(labels)


def cross_entropy_vjp(adjoint, ans, logits, labels):
    """dL/dz times the adjoint: (softmax(z) - onehot(y)) * adjoint / N, with the softmax
    that the forward pass saved on its output ``ans`` (a Loss)."""
    saved = getattr(ans, "softmax", None)
    if saved is None or isinstance(adjoint, Traced):  # a derivative of this derivative:
        return _cross_entropy_partial(logits, labels) * adjoint  # operations that trace
    gradient = saved.copy()
    gradient[np.arange(len(labels)), labels] -= 1.0
    gradient *= adjoint / len(labels)
    return gradient


defprimitive(
    "cross_entropy", _cross_entropy_value,
    jvps=[lambda t, ans, z, labels: (_cross_entropy_partial(z, labels) * t).sum(), None],
    vjps=[cross_entropy_vjp, None],
)


# -- activations and losses ----------------------------------------------------------

def relu(x):
    """Rectified linear unit max(x, 0), elementwise (derivative 1/2 at x = 0: the tie rule of maximum)."""
    return np.maximum(x, 0.0)


def sigmoid(x):
    """Logistic function 1 / (1 + e^-x), written as (1 + tanh(x/2)) / 2: no overflow."""
    return 0.5 * (np.tanh(0.5 * x) + 1.0)


ACTIVATIONS = {"tanh": tanh, "relu": relu, "sigmoid": sigmoid}


def check_labels(labels, logits_shape):
    """Class labels as an int array of shape (N,), checked against logits of shape (N, C)."""
    if len(logits_shape) != 2:
        raise ValueError(
            f"cross_entropy expects logits of shape (batch, classes), got shape {logits_shape}"
        )
    n_rows, n_classes = logits_shape
    if n_rows == 0:
        raise ValueError("cross_entropy of an empty batch (logits of shape "
                         f"{logits_shape}) has no mean: pass at least one row")
    labels = np.asarray(value_of(labels))
    if labels.shape != (n_rows,):
        raise ValueError(
            f"labels have shape {labels.shape} but logits have shape {logits_shape}: expected "
            f"labels of shape ({n_rows},), one class index per row"
        )
    if labels.dtype.kind not in "iu":
        if labels.dtype.kind not in "bf" or not np.all(labels == np.round(labels)):
            raise ValueError(
                f"labels must be integer class indices 0..{n_classes - 1}, got {labels.dtype} "
                f"values such as {labels.ravel()[:3]}"
            )
        labels = labels.astype(np.intp)
    # the ufuncs' reductions themselves (labels is 1-D): ndarray.min adds a Python layer
    if labels.size and (np.minimum.reduce(labels) < 0 or np.maximum.reduce(labels) >= n_classes):
        raise ValueError(
            f"labels must lie in 0..{n_classes - 1} for logits of shape {logits_shape}, got "
            f"values from {labels.min()} to {labels.max()}"
        )
    return labels


def cross_entropy(logits, labels):
    """Mean cross-entropy of softmax(logits) against integer class labels:

        L = -(1/N) sum_n log softmax(z_n)[y_n],
        log softmax(z)_k = (z_k - max z) - log sum_j exp(z_j - max z).

    ``logits`` has shape (N, C), ``labels`` shape (N,) with values 0..C-1.
    Subtracting the row maximum keeps every exponential <= 1, so logits of 1e3
    neither overflow nor give nan. One primitive (one graph node), whose
    derivative is dL/dz = (softmax(z) - onehot(y)) / N. Returns a float (or a
    scalar Variable / Dual).
    """
    labels = check_labels(labels, shape_of(logits))
    return bind(PRIMITIVES["cross_entropy"], logits, labels)


def mse_loss(prediction, target):
    """Mean squared error (1/n) sum_i (prediction_i - target_i)**2 over all elements."""
    shape, target_shape = shape_of(prediction), shape_of(target)
    if shape != target_shape:
        raise ValueError(
            f"mse_loss needs prediction and target of one shape, got {shape} and {target_shape}"
        )
    difference = prediction - target
    return plain(np.mean(difference * difference))


# -- modules: Linear layers and multilayer perceptrons (shaped like torch.nn) ------------

def collect_parameters(value, found, seen):
    if isinstance(value, Variable):
        if id(value) not in seen:
            seen.add(id(value))
            found.append(value)
    elif isinstance(value, Module):
        for item in vars(value).values():
            collect_parameters(item, found, seen)
    elif isinstance(value, (list, tuple)):
        for item in value:
            collect_parameters(item, found, seen)


def _substitute_parameters(value, replacement):
    if isinstance(value, Variable):
        return replacement[id(value)]
    if isinstance(value, Module):
        copy = object.__new__(type(value))
        copy.__dict__.update(
            {key: _substitute_parameters(item, replacement) for key, item in vars(value).items()}
        )
        return copy
    if isinstance(value, (list, tuple)):
        return type(value)(_substitute_parameters(item, replacement) for item in value)
    return value


class Module:
    """A piece of a network, shaped like PyTorch's ``torch.nn.Module``.

    A subclass stores its trainable parameters as ``Variable`` attributes (or
    sub-modules, or lists of them) and defines ``forward(x)``; ``net(x)`` calls
    it. ``parameters()`` finds every parameter, in attribute order.
    """

    def parameters(self):
        """The list of trainable parameters (leaf Variables), each once."""
        found = []
        collect_parameters(self, found, set())
        return found

    def zero_grad(self):
        """Set ``.grad`` of every parameter to None."""
        for parameter in self.parameters():
            parameter.zero_grad()

    def forward(self, x):
        raise NotImplementedError(f"{type(self).__name__} must define forward(x)")

    def __call__(self, x):
        return self.forward(x)

    def call_with(self, parameters, x):
        """``self(x)`` with the parameters replaced by ``parameters`` (arrays, Duals or
        Variables, in the order of ``parameters()``): the network as a plain function
        of its parameters, e.g. for ``check_grad``."""
        own = self.parameters()
        parameters = list(parameters)
        if len(parameters) != len(own):
            raise ValueError(
                f"{type(self).__name__} has {len(own)} parameters, got {len(parameters)}"
            )
        for mine, given in zip(own, parameters):
            if shape_of(given) != mine.shape:
                raise ValueError(
                    f"parameter of shape {mine.shape} replaced by one of shape "
                    f"{shape_of(given)}"
                )
        replacement = {id(mine): given for mine, given in zip(own, parameters)}
        return _substitute_parameters(self, replacement).forward(x)


def positive_int(value, what):
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
        raise ValueError(f"{what} must be a positive integer, got {value!r}")
    return int(value)


class Linear(Module):
    """An affine layer y = x @ W + b with W of shape (n_in, n_out) and b of shape (n_out,).

    ``x`` has shape (batch, n_in) (or (n_in,)). Initialised like PyTorch:
    W and b uniform in [-1/sqrt(n_in), 1/sqrt(n_in)], from ``rng`` (a seed or a
    numpy Generator).
    """

    def __init__(self, n_in, n_out, rng=0):
        self.n_in = positive_int(n_in, "n_in")
        self.n_out = positive_int(n_out, "n_out")
        rng = np.random.default_rng(rng)
        bound = 1.0 / np.sqrt(self.n_in)
        self.weight = Variable(rng.uniform(-bound, bound, (self.n_in, self.n_out)), name="weight")
        self.bias = Variable(rng.uniform(-bound, bound, self.n_out), name="bias")

    def forward(self, x):
        shape = shape_of(x)
        if not shape or shape[-1] != self.n_in:
            raise ValueError(
                f"Linear({self.n_in}, {self.n_out}) expects input of shape (batch, {self.n_in}), "
                f"got shape {shape}"
            )
        return affine(x, self.weight, self.bias)

    def __repr__(self):
        return f"Linear({self.n_in}, {self.n_out})"


class MLP(Module):
    """A multilayer perceptron: Linear layers of the given ``sizes`` with
    ``activation`` (a name in ACTIVATIONS or a function) between them and none
    after the last one, so the output is the logits (or a regression value).

    ``MLP([2, 16, 16, 2])`` maps (batch, 2) inputs to (batch, 2) outputs.
    """

    def __init__(self, sizes, activation="tanh", rng=0):
        sizes = [positive_int(size, "every layer size") for size in sizes]
        if len(sizes) < 2:
            raise ValueError(f"MLP needs at least an input and an output size, got sizes={sizes}")
        if isinstance(activation, str):
            if activation not in ACTIVATIONS:
                raise ValueError(
                    f"unknown activation {activation!r}; choose from {sorted(ACTIVATIONS)}"
                )
            activation = ACTIVATIONS[activation]
        self.sizes = sizes
        self.activation = activation
        rng = np.random.default_rng(rng)
        self.layers = [Linear(n_in, n_out, rng=rng) for n_in, n_out in zip(sizes[:-1], sizes[1:])]

    def forward(self, x):
        for layer in self.layers[:-1]:
            x = self.activation(layer(x))
        return self.layers[-1](x)

    def __repr__(self):
        name = getattr(self.activation, "__name__", self.activation)
        return f"MLP({self.sizes}, activation={name})"
