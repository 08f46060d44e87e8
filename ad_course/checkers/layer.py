"""Notebook 06, exercise 3: back-propagation through one tanh layer by hand,
dL/dW1 of L = mean cross-entropy(softmax(tanh(X W1 + b1) W2 + b2), labels)."""

from __future__ import annotations

import numpy as np

from ad_course.checkers.verdict import StudentError, Verdict, as_array, checker, close


def _softmax(z):
    p = np.exp(z - z.max(axis=1, keepdims=True))
    return p / p.sum(axis=1, keepdims=True)


def layer_gradient(X, W1, b1, W2, b2, labels, *, slip=None):
    """Return dL/dW1 = X^T [(delta2 W2^T) * (1 - h^2)] with delta2 = (p - onehot) / N;
    ``slip`` names one typical mistake to make instead (see ``LAYER_SLIPS``)."""
    pre = X @ W1 + (0 if slip == "no b1" else b1)
    h = np.tanh(pre)
    p = _softmax(h @ W2 + b2)
    onehot = np.eye(W2.shape[1])[labels]
    n = len(labels)
    delta2 = {
        "no onehot": p / n,
        "no softmax": (h @ W2 + b2 - onehot) / n,
        "sum": p - onehot,
        "sign": (onehot - p) / n,
    }.get(slip, (p - onehot) / n)
    back = delta2 @ W2.T
    local = {
        "no tanh'": 1.0,
        "1 - h": 1 - h,
        "(1 - h)^2": (1 - h) ** 2,
        "1 - pre^2": 1 - pre**2,
    }.get(slip, 1 - h**2)
    if slip == "delta1 transposed":  # square only when the batch is as large as the layer
        return X.T @ (back * local).T
    if slip == "W2 delta2^T":  # (W2 @ delta2.T) * (1 - h²): the back-propagated term transposed
        return X.T @ (back.T * local)
    return X.T @ (back * local)


LAYER_SLIPS = {
    "no tanh'": "the factor (1 - h²) is missing: the derivative of tanh, elementwise",
    "1 - h": "the derivative of tanh is 1 - tanh², i.e. (1 - h**2), not (1 - h)",
    "(1 - h)^2": "(1 - h)² is not 1 - h²: the derivative of tanh is 1 - tanh², (1 - h**2)",
    "1 - pre^2": "(1 - h²) needs h = tanh(X W1 + b1), the layer's output, not its input X W1 + b1",
    "no onehot": "delta2 is p - onehot: the target's one-hot row is missing (softmax minus "
                 "target), over N",
    "no softmax": "delta2 = p - onehot uses the softmax probabilities p, not the scores z",
    "sum": "N times too large: the loss is a mean over the N samples, delta2 = (p - onehot) / N",
    "sign": "the sign is wrong: delta2 = p - onehot (softmax minus target), over N",
    "no b1": "b1 is missing: h = tanh(X W1 + b1), the bias enters the forward pass",
    "delta1 transposed": "delta1 is transposed: delta1 = (delta2 W2^T) * (1 - h²) has one row "
                         "per sample, like h; then dL/dW1 = X^T delta1",
    "W2 delta2^T": "W2 delta2^T is (delta2 W2^T)^T: the back-propagated term has one row per "
                   "sample, delta2 @ W2.T, before the elementwise (1 - h²)",
}


@checker
def check_layer_gradient(grad_W1, X, W1, b1=None, W2=None, b2=None, labels=None):
    """Check dL/dW1 of L = mean cross-entropy(softmax(tanh(X W1 + b1) W2 + b2), labels).

    Reference: delta2 = (p - onehot) / N, delta1 = (delta2 W2^T) * (1 - h^2),
    dL/dW1 = X^T delta1 (shape of W1). Each slip in ``LAYER_SLIPS`` is recognised.
    """
    if isinstance(W1, (list, tuple)) and len(W1) == 4 and W2 is None and b2 is None \
            and labels is None:  # check_layer_gradient(grad, X, params, labels): unpacked here
        (W1, b1, W2, b2), labels = W1, b1
    if labels is None:
        return Verdict(False, "call check_layer_gradient(your dL/dW1, X, W1, b1, W2, b2, labels) "
                              "(or with the list params = [W1, b1, W2, b2]: (grad, X, params, "
                              "labels))")
    try:
        X, W1, b1, W2, b2, labels = (np.asarray(getattr(a, "value", a), dtype=float)  # Variables
                                     for a in (X, W1, b1, W2, b2, labels))
        if not np.all(labels == labels.round()):
            return Verdict(False, f"labels must be whole numbers (class indices), got "
                                  f"{labels!r:.60}")
        reference = layer_gradient(X, W1, b1, W2, b2, labels.astype(int))
    except (TypeError, ValueError, IndexError) as error:
        return Verdict(False, f"X, W1, b1, W2, b2, labels do not fit together ({error}): call "
                              f"check_layer_gradient(your dL/dW1, X, W1, b1, W2, b2, labels)")
    try:
        got = as_array(grad_W1, W1.shape, "dL/dW1, an array")
    except StudentError as error:
        message = error.verdict.message
        if message.endswith("transposed"):
            flipped = np.asarray(getattr(grad_W1, "value", grad_W1), dtype=float).T
            if close(flipped, reference, rtol=1e-10, atol=1e-14):
                message += ": dL/dW1 = X^T delta1 has W1's shape (inputs, hidden)"
            else:
                message = (f"your dL/dW1 has shape {flipped.T.shape}, W1's is {W1.shape}, and its "
                           f"transpose is not dL/dW1 either: dL/dW1 = X^T delta1 (is yours "
                           f"dL/dX = delta1 W1^T?)")
        return Verdict(False, message)
    # the chain rule written any way (matrices, a loop over samples, reverse mode) agrees to
    # ~1e-14; central differences extrapolated by Richardson to ~5e-11, which 1e-10 accepted
    if close(got, reference, rtol=1e-12, atol=1e-15):
        return Verdict(True, f"dL/dW1 is right, shape {W1.shape}")
    for slip, hint in LAYER_SLIPS.items():
        try:
            wrong = layer_gradient(X, W1, b1, W2, b2, labels.astype(int), slip=slip)
        except ValueError:  # a transposed slip only has a shape when the batch is square
            continue
        if not close(wrong, reference, rtol=1e-10, atol=1e-14) \
                and close(got, wrong, rtol=1e-10, atol=1e-14):
            return Verdict(False, f"your dL/dW1 differs from the reference: {hint}")
    if reference.shape != got.shape:
        return Verdict(False, f"your dL/dW1 has shape {got.shape}; the reference has shape "
                              f"{reference.shape}")
    if close(got, reference, rtol=1e-5, atol=1e-9):
        off = float(np.max(np.abs(got - reference)))
        return Verdict(False, f"your dL/dW1 agrees with the reference to about {off:.0e}, not "
                              f"to round-off, as a finite difference gives (or a computation at rounded "
                              f"parameters, float32 say): write it by the chain rule (delta2, delta1, "
                              f"X^T delta1) on the arrays passed here, which is exact to round-off")
    worst = np.unravel_index(np.argmax(np.abs(got - reference)), got.shape)
    return Verdict(False, f"your dL/dW1 differs from the reference by up to "
                          f"{float(np.abs(got - reference)[worst]):.3g} at entry {tuple(map(int, worst))} "
                          f"(entries are up to {float(np.max(np.abs(reference))):.3g}): go through "
                          f"delta2, delta1 and X^T delta1 one by one")
