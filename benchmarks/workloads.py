"""The benchmark workloads, written once per engine, with their correctness checks.

Every workload has a reference answer (a closed form or a hand-written numpy
version) and an ``agreement`` function that runs each engine once and returns
its largest relative error against that reference. The runner (run.py) times
only workloads whose engines all agree to ``TOLERANCE``; the smoke test
(tests/test_benchmarks_smoke.py) runs the same checks at tiny sizes.

Engines: this course's ``autodiff_helpers`` (``ad``), the original lecture's
recursive path-summing engine (re-implemented below), micrograd, HIPS autograd,
PyTorch (CPU) and JAX (CPU, float64; eager and ``jit``).
"""

from __future__ import annotations

import json
import math
import operator
import time
from collections import defaultdict

import numpy as np

import autodiff_helpers as ad

TOLERANCE = 1e-8  # largest relative error allowed between engines


def relative_error(a, b):
    """max |a - b| / max |b| over all components (floats, arrays or lists of them, from any
    engine: torch tensors, jax arrays, ...)."""
    a = np.concatenate([np.ravel(_to_numpy(x)) for x in _as_list(a)])
    b = np.concatenate([np.ravel(_to_numpy(x)) for x in _as_list(b)])
    scale = max(float(np.max(np.abs(b), initial=0.0)), 1e-300)
    return float(np.max(np.abs(a - b), initial=0.0)) / scale


def _as_list(x):
    return list(x) if isinstance(x, (list, tuple)) else [x]


def _to_numpy(x):
    """A float or numpy array from any engine's result (torch tensor, jax array, ...)."""
    if hasattr(x, "detach"):  # torch
        x = x.detach().numpy()
    return np.asarray(x, dtype=float)


def _unavailable(peers, *names):
    """{peer: reason} for the named peers that are not installed (reported as skipped)."""
    return {name: peers[name].reason for name in names if not peers[name].available}


# =============================================================================
# Workload 1: a scalar graph with shared subexpressions
# =============================================================================
# l -> 0.5 l (1 - l) + 0.5 x, starting from l = x = 0.3.
#
# Why this map: each step uses l twice (0.5 l and 1 - l), so every node is a
# shared subexpression, and x feeds every step through hx = 0.5 x. The logistic
# map 4 l (1 - l) of the lecture has |f'| ~ 2 on average, so its gradient
# overflows after a few hundred steps; 2.5 l (1 - l) has |f'| = 0.5 at its fixed
# point, so dl_n/dx underflows to 0 after ~1000 steps and a depth test would
# compare zeros. Here d l_{k+1}/d l_k = 0.5 (1 - 2 l_k) is ~0.35 at the fixed
# point l* ~ 0.32 (contraction: the value stays in (0, 1)), and the direct
# 0.5 x term feeds new gradient in at every step, so dl_n/dx converges to
# 0.5 / (1 - 0.35) ~ 0.78: O(1) at every depth, never inf, never 0.
#
# One step is 4 operations (0.5*l, 1-l, product, + hx), so a graph of n nodes
# has (n - 2) / 4 steps; the longest path from x to the output has 3 operations
# per step (the "depth" of the graph).

X0 = 0.3


def scalar_map(x, steps):
    """The workload, written once for every engine: x is a Variable, Value, tensor..."""
    hx = 0.5 * x
    l = x
    for _ in range(steps):
        l = 0.5 * l * (1 - l) + hx
    return l


def scalar_map_reference(steps, x=X0):
    """Value and dl/dx by the hand-derived recurrence g <- 0.5 (1 - 2 l) g + 0.5."""
    l, g = x, 1.0
    for _ in range(steps):
        l, g = 0.5 * l * (1 - l) + 0.5 * x, 0.5 * (1 - 2 * l) * g + 0.5
    return l, g


def steps_for_nodes(nodes):
    return max(1, (nodes - 2) // 4)


def steps_for_depth(depth):
    return max(1, math.ceil(depth / 3))


def scalar_engines(peers):
    """{engine: (forward(steps) -> state, backward(state) -> dl/dx)}; forward builds the graph
    (the tape), backward runs the reverse sweep. Missing peers: {engine: reason}."""
    engines, skipped = {}, _unavailable(peers, "micrograd", "autograd", "torch", "jax")
    engines["autodiff_helpers"] = _leaf_backward_engine(ad.Variable)
    if peers["micrograd"].available:
        engines["micrograd"] = _leaf_backward_engine(peers["micrograd"].extra["Value"])

    if peers["autograd"].available:
        make_vjp = peers["autograd"].module.make_vjp

        def ag_forward(steps):
            return make_vjp(lambda x: scalar_map(x, steps))(X0)

        def ag_backward(state):
            vjp, _ = state
            return vjp(1.0)

        engines["autograd"] = (ag_forward, ag_backward)

    if peers["torch"].available:
        torch = peers["torch"].module
        engines["torch"] = _leaf_backward_engine(
            lambda value: torch.tensor(value, dtype=torch.float64, requires_grad=True),
            lambda x: x.grad.item())

    if peers["jax"].available:
        jax = peers["jax"].module
        jnp = peers["jax"].extra["numpy"]

        def jax_forward(steps):
            return jax.vjp(lambda x: scalar_map(x, steps), jnp.asarray(X0))

        def jax_backward(state):
            y, vjp = state
            (g,) = vjp(jnp.ones_like(y))
            return float(g)

        # eager: jit would compile the unrolled Python loop (10^5 ops) for minutes
        engines["jax (eager)"] = (jax_forward, jax_backward)
    return engines, skipped


def _leaf_backward_engine(leaf, gradient=lambda x: x.grad):
    """(forward, backward) for an engine in PyTorch's style: the input is a leaf object
    ``leaf(X0)``, ``y.backward()`` runs the sweep and ``gradient(x)`` reads dl/dx."""

    def forward(steps):
        x = leaf(X0)
        return x, scalar_map(x, steps)

    def backward(state):
        x, y = state
        y.backward()
        return gradient(x)

    return forward, backward


def scalar_agreement(engines, steps):
    """{engine: relative error of dl/dx against the recurrence} for a graph of ``steps`` steps."""
    _, reference = scalar_map_reference(steps)
    return {name: relative_error(backward(forward(steps)), reference)
            for name, (forward, backward) in engines.items()}


# -----------------------------------------------------------------------------
# The original lecture's engine: gradients by recursing over every path
# -----------------------------------------------------------------------------
# As in the lecture (after the blog post "Reverse-mode automatic
# differentiation from scratch, in Python"): each node stores its parents with
# the local derivatives; get_gradients walks every path from the output and adds
# path value * local derivative into a dictionary. A node shared by k paths is
# visited k times, so the logistic map (l used twice per step) costs ~2^n.
# No reflected operators in the original: constants are wrapped by hand.


class PathVariable:
    __slots__ = ("value", "local_gradients")

    def __init__(self, value, local_gradients=()):
        self.value = value
        self.local_gradients = local_gradients


def path_add(a, b):
    return PathVariable(a.value + b.value, ((a, 1.0), (b, 1.0)))


def path_sub(a, b):
    return PathVariable(a.value - b.value, ((a, 1.0), (b, -1.0)))


def path_mul(a, b):
    return PathVariable(a.value * b.value, ((a, b.value), (b, a.value)))


def get_gradients(variable):
    """Sum over every path from ``variable`` to each node of the products of local gradients."""
    gradients = defaultdict(lambda: 0.0)

    def compute_gradients(variable, path_value):
        for child, local_gradient in variable.local_gradients:
            value_of_path_to_child = path_value * local_gradient
            gradients[child] += value_of_path_to_child
            compute_gradients(child, value_of_path_to_child)

    compute_gradients(variable, path_value=1.0)
    return gradients


# The lecture's logistic map l -> 4 l (1 - l), n steps from l = x = 0.1 (n <= ~25
# here, so its 2^n-growing gradient stays finite). Only this comparison uses the
# path-sum engine: on workload 1 it would need ~2^steps path visits.
LOGISTIC_X0 = 0.1


def logistic_reference(n, x=LOGISTIC_X0):
    l, g = x, 1.0
    for _ in range(n):
        l, g = 4 * l * (1 - l), 4 * (1 - 2 * l) * g
    return l, g


def logistic_path_sum(n):
    """dl_n/dx by the lecture's path-summing engine (graph construction included)."""
    four, one = PathVariable(4.0), PathVariable(1.0)
    x = PathVariable(LOGISTIC_X0)
    l = x
    for _ in range(n):
        l = path_mul(path_mul(four, l), path_sub(one, l))
    return get_gradients(l)[x]


def logistic_ad(n):
    """dl_n/dx by autodiff_helpers (graph construction included)."""
    x = ad.Variable(LOGISTIC_X0)
    ad.logistic_map(x, n + 1).backward()  # l_1 = x, so l_{n+1} is n steps from x
    return x.grad


def logistic_agreement(n):
    _, reference = logistic_reference(n)
    return {
        "lecture path-sum": relative_error(logistic_path_sum(n), reference),
        "autodiff_helpers": relative_error(logistic_ad(n), reference),
    }


# -----------------------------------------------------------------------------
# Depth probe: run in a subprocess per engine (a crash cannot take the runner down)
# -----------------------------------------------------------------------------

PROBE_DEPTHS = (100, 300, 1_000, 3_000, 10_000, 30_000, 100_000, 300_000, 1_000_000)


def probe_depths(engine, budget_seconds, depths=PROBE_DEPTHS):
    """Print one JSON line per depth: ok / the error's type / wrong answer / over the budget."""
    from benchmarks.peers import load_peers

    engines, skipped = scalar_engines(load_peers())
    if engine not in engines:
        print(json.dumps({"depth": None, "status": f"skipped: {skipped.get(engine, '?')}"}))
        return
    forward, backward = engines[engine]
    spent, last = 0.0, None
    for depth in depths:
        steps = steps_for_depth(depth)
        if last is not None:
            last_depth, last_seconds = last
            estimate = last_seconds * depth / last_depth * 1.2
            if spent + estimate > budget_seconds:
                print(json.dumps({"depth": depth, "status": "budget",
                                  "estimate_s": round(estimate, 1)}), flush=True)
                return
        start = time.perf_counter()
        try:
            gradient = float(_to_numpy(backward(forward(steps))))
        except RecursionError:
            print(json.dumps({"depth": depth, "status": "RecursionError"}), flush=True)
            return
        except Exception as error:  # report any other failure by its type
            print(json.dumps({"depth": depth, "status": type(error).__name__,
                              "message": str(error)[:200]}), flush=True)
            return
        seconds = time.perf_counter() - start
        spent += seconds
        error = relative_error(gradient, scalar_map_reference(steps)[1])
        status = "ok" if error <= TOLERANCE else f"wrong (relative error {error:.1e})"
        print(json.dumps({"depth": depth, "status": status, "seconds": round(seconds, 3)}),
              flush=True)
        if status != "ok":
            return
        last = (depth, seconds)


# =============================================================================
# Workload 2: one MLP training step (forward + backward + SGD update)
# =============================================================================
# tanh hidden layers, linear output, softmax cross-entropy averaged over the
# batch, plain SGD. Every engine starts from the same parameters and data.

MLP_SIZES = {"small": ((2, 16, 16, 2), 64), "medium": ((64, 128, 10), 256)}
LEARNING_RATE = 0.1
MICROGRAD_MAX_MULTIPLIES = 200_000  # one Python object per scalar multiply: medium has 2.4 M


def mlp_problem(layers, batch, seed=0):
    rng = np.random.default_rng(seed)
    params = []
    for fan_in, fan_out in zip(layers[:-1], layers[1:]):
        params.append(rng.normal(size=(fan_in, fan_out)) / np.sqrt(fan_in))
        params.append(0.1 * rng.normal(size=fan_out))
    x = rng.normal(size=(batch, layers[0]))
    labels = rng.integers(0, layers[-1], size=batch)
    onehot = np.eye(layers[-1])[labels]
    return {"params": params, "x": x, "labels": labels, "onehot": onehot, "layers": tuple(layers)}


def mlp_logits(params, x, tanh=np.tanh, matmul=operator.matmul):
    """The network, written once for the engines that trace array operations:
    tanh(h @ W + b) per hidden layer, a linear output layer."""
    h = x
    for W, b in zip(params[0:-2:2], params[1:-2:2]):
        h = tanh(matmul(h, W) + b)
    return matmul(h, params[-2]) + params[-1]


def library_mlp(problem):
    """``ad.MLP`` (tanh) holding copies of the problem's parameters."""
    net = ad.MLP(list(problem["layers"]), activation="tanh", rng=0)
    for parameter, value in zip(net.parameters(), problem["params"], strict=True):
        assert parameter.shape == value.shape, (parameter.shape, value.shape)
        parameter.value = value.copy()
    return net


def numpy_mlp_gradients(params, x, onehot):
    """The gradients of the mean cross-entropy by a forward pass and a hand-written backward."""
    hidden = [x]
    h = x
    for W, b in zip(params[0:-2:2], params[1:-2:2]):
        h = np.tanh(h @ W + b)
        hidden.append(h)
    z = h @ params[-2] + params[-1]
    z -= z.max(axis=1, keepdims=True)
    e = np.exp(z)
    # loss = mean(log(sum(e)) - z[label]); its value is not needed for the step
    dz = (e / e.sum(axis=1, keepdims=True) - onehot) / x.shape[0]
    grads = [None] * len(params)
    for k in range(len(params) // 2 - 1, -1, -1):
        h = hidden[k]
        grads[2 * k] = h.T @ dz
        grads[2 * k + 1] = dz.sum(axis=0)
        if k:
            dz = (dz @ params[2 * k].T) * (1 - h * h)
    return grads


def numpy_mlp_step(params, x, onehot, lr=LEARNING_RATE):
    """The floor: numpy_mlp_gradients and an in-place SGD update; returns the gradients."""
    grads = numpy_mlp_gradients(params, x, onehot)
    for p, g in zip(params, grads):
        p -= lr * g
    return grads


def mlp_engines(peers, problem):
    """{engine: step()}: each step updates the engine's own copy of the parameters and
    returns that step's gradients (in the engine's own type); plus {engine: reason} skipped."""
    engines, skipped = {}, _unavailable(peers, "micrograd", "autograd", "torch", "jax")
    x, onehot, labels = problem["x"], problem["onehot"], problem["labels"]
    fresh = lambda: [p.copy() for p in problem["params"]]  # noqa: E731

    params_np = fresh()
    engines["numpy (hand-written)"] = lambda: numpy_mlp_step(params_np, x, onehot)

    # autodiff_helpers: leaves persist across steps; gradients accumulate, so zero_grad
    leaves = [ad.Variable(p) for p in fresh()]

    def ad_step():
        z = mlp_logits(leaves, x)
        z = z - z.value.max(axis=1, keepdims=True)  # a constant shift: same gradient
        loss = (np.log(np.exp(z).sum(axis=1)) - (z * onehot).sum(axis=1)).mean()
        loss.backward()
        grads = []
        for p in leaves:
            grads.append(p.grad)
            p.value -= LEARNING_RATE * p.grad
            p.zero_grad()
        return grads

    engines["autodiff_helpers (Variable ops)"] = ad_step

    # the library's nn API, as notebook 06 uses it (the lecture's PyTorch idiom)
    net = library_mlp(problem)
    optimizer = ad.SGD(net.parameters(), lr=LEARNING_RATE)

    def nn_step():
        optimizer.zero_grad()
        loss = ad.cross_entropy(net(x), labels)
        loss.backward()
        grads = [p.grad for p in optimizer.params]
        optimizer.step()
        return grads

    engines["autodiff_helpers (ad.MLP + SGD)"] = nn_step

    if peers["micrograd"].available:
        multiplies = x.shape[0] * sum(W.size for W in problem["params"][0::2])
        if multiplies > MICROGRAD_MAX_MULTIPLIES:
            skipped["micrograd"] = (
                f"scalar engine, not run at this size: {multiplies:,} multiply nodes per step "
                f"(limit {MICROGRAD_MAX_MULTIPLIES:,}; the small step has 20,480)"
            )
        else:
            engines["micrograd"] = _micrograd_step(peers["micrograd"].extra["Value"], fresh(),
                                                   x, labels)

    if peers["autograd"].available:
        ag, anp = peers["autograd"].module, peers["autograd"].extra["numpy"]
        from autograd.tracer import getval

        params_ag = fresh()

        def ag_loss(params):
            z = mlp_logits(params, x, anp.tanh, anp.dot)
            z = z - np.max(getval(z), axis=1, keepdims=True)  # a constant shift
            return anp.mean(anp.log(anp.sum(anp.exp(z), axis=1)) - anp.sum(z * onehot, axis=1))

        ag_grad = ag.grad(ag_loss)

        def ag_step():
            grads = ag_grad(params_ag)
            for p, g in zip(params_ag, grads):
                p -= LEARNING_RATE * g
            return grads

        engines["autograd"] = ag_step

    if peers["torch"].available:
        torch = peers["torch"].module
        params_t = [torch.tensor(p, requires_grad=True) for p in fresh()]
        x_t, labels_t = torch.tensor(x), torch.tensor(labels)
        cross_entropy = torch.nn.functional.cross_entropy

        def torch_step():
            loss = cross_entropy(mlp_logits(params_t, x_t, torch.tanh), labels_t)
            loss.backward()
            grads = []
            with torch.no_grad():
                for p in params_t:
                    grads.append(p.grad)
                    p -= LEARNING_RATE * p.grad
                    p.grad = None  # what optimizer.zero_grad() does
            return grads

        engines["torch"] = torch_step

    if peers["jax"].available:
        jax, jnp = peers["jax"].module, peers["jax"].extra["numpy"]
        x_j, onehot_j = jnp.asarray(x), jnp.asarray(onehot)

        def jax_loss(params):
            z = mlp_logits(params, x_j, jnp.tanh)
            return jnp.mean(jax.nn.logsumexp(z, axis=1) - jnp.sum(z * onehot_j, axis=1))

        def jax_update(params):
            grads = jax.grad(jax_loss)(params)
            return [p - LEARNING_RATE * g for p, g in zip(params, grads)], grads

        for name, update in (("jax (eager)", jax_update), ("jax (jit)", jax.jit(jax_update))):
            engines[name] = _jax_stepper(update, [jnp.asarray(p) for p in fresh()], jax)
    return engines, skipped


def _jax_stepper(update, params, jax):
    state = {"params": params}

    def step():
        state["params"], grads = update(state["params"])
        jax.block_until_ready(grads)
        return grads

    return step


def _micrograd_step(Value, params, x, labels):
    """The step at scalar level in micrograd: one Value per weight, tanh/exp/log added in
    micrograd's own style (a node plus a closure that pushes its gradient to its input)."""
    weights = [[[Value(float(w)) for w in row] for row in W] for W in params[0::2]]
    biases = [[Value(float(c)) for c in b] for b in params[1::2]]
    flat = [w for W in weights for row in W for w in row] + [c for b in biases for c in b]
    rows = [list(map(float, row)) for row in x]

    def step():
        total = 0.0
        for row, label in zip(rows, labels):
            h = row
            for k, (W, b) in enumerate(zip(weights, biases)):
                z = [sum((W[i][j] * h[i] for i in range(len(h))), b[j]) for j in range(len(b))]
                h = z if k == len(weights) - 1 else [_mg_tanh(Value, v) for v in z]
            shift = max(v.data for v in h)
            shifted = [v - shift for v in h]
            lse = _mg_log(Value, sum(_mg_exp(Value, v) for v in shifted))
            total = total + (lse - shifted[label])
        loss = total * (1.0 / len(rows))
        for p in flat:
            p.grad = 0.0
        loss.backward()
        for p in flat:
            p.data -= LEARNING_RATE * p.grad
        grads = []
        for W, b in zip(weights, biases):
            grads += [np.array([[w.grad for w in r] for r in W]), np.array([c.grad for c in b])]
        return grads

    return step


def _mg_unary(Value, v, value, derivative, op):
    out = Value(value, (v,), op)

    def _backward():
        v.grad += derivative * out.grad

    out._backward = _backward
    return out


def _mg_tanh(Value, v):
    t = math.tanh(v.data)
    return _mg_unary(Value, v, t, 1 - t * t, "tanh")


def _mg_exp(Value, v):
    e = math.exp(v.data)
    return _mg_unary(Value, v, e, e, "exp")


def _mg_log(Value, v):
    return _mg_unary(Value, v, math.log(v.data), 1 / v.data, "log")


def mlp_agreement(engines, problem):
    """{engine: relative error of the first step's gradients against the numpy floor}."""
    reference = numpy_mlp_gradients(problem["params"], problem["x"], problem["onehot"])
    return {name: relative_error(step(), reference) for name, step in engines.items()}


# =============================================================================
# Workload 3: forward mode on arrays, f(x) = x exp(-x^2) and f'(x) on a grid
# =============================================================================

def fwd_f(x, exp=np.exp):
    return x * exp(-x * x)


def fwd_reference(x):
    e = np.exp(-x * x)
    return x * e, (1 - 2 * x * x) * e


def fwd_grid(points):
    return np.linspace(-4.0, 4.0, points)


def fwd_engines(peers, x):
    """{engine: run() -> (f, f') on the grid x}; "numpy f alone" returns (f, None),
    ad.derivative (None, f')."""
    ones = np.ones_like(x)
    engines, skipped = {}, _unavailable(peers, "autograd", "torch", "jax")
    engines["numpy f alone"] = lambda: (fwd_f(x), None)
    engines["numpy f and f' by hand"] = lambda: fwd_reference(x)
    engines["autodiff_helpers (ad.jvp)"] = lambda: ad.jvp(fwd_f, x, ones)

    def dual_seed():
        result = fwd_f(ad.Dual(x, 1.0))  # a scalar tangent 1.0 stands for all ones
        return result.val, result.dval

    engines["autodiff_helpers (Dual(x, 1.0))"] = dual_seed
    engines["autodiff_helpers (ad.derivative, f' only)"] = lambda: (None, ad.derivative(fwd_f, x))
    if peers["autograd"].available:
        anp = peers["autograd"].extra["numpy"]
        make_jvp = peers["autograd"].module.make_jvp
        engines["autograd (make_jvp)"] = lambda: make_jvp(lambda t: fwd_f(t, anp.exp))(x)(ones)
    if peers["torch"].available:
        torch = peers["torch"].module
        tjvp = peers["torch"].extra["func"].jvp
        x_t, ones_t = torch.tensor(x), torch.tensor(ones)
        engines["torch.func.jvp"] = lambda: tjvp(lambda t: fwd_f(t, torch.exp), (x_t,), (ones_t,))
    if peers["jax"].available:
        jax, jnp = peers["jax"].module, peers["jax"].extra["numpy"]
        x_j, ones_j = jnp.asarray(x), jnp.asarray(ones)

        def jax_jvp(t, v):
            return jax.jvp(lambda s: fwd_f(s, jnp.exp), (t,), (v,))

        jitted = jax.jit(jax_jvp)
        engines["jax.jvp (eager)"] = lambda: jax.block_until_ready(jax_jvp(x_j, ones_j))
        engines["jax.jvp (jit)"] = lambda: jax.block_until_ready(jitted(x_j, ones_j))
    return engines, skipped


def fwd_agreement(engines, x):
    """{engine: relative error of (f, f') against the closed form}."""
    f, df = fwd_reference(x)
    errors = {}
    for name, run in engines.items():
        value, tangent = run()
        errors[name] = 0.0 if value is None else relative_error(value, f)
        if tangent is not None:
            errors[name] = max(errors[name], relative_error(tangent, df))
    return errors


# =============================================================================
# Workload 4: Hessian-vector product of a 100-dimensional function
# =============================================================================
# f(x) = sum_i sin(x_i) x_{i+1} + sum_i x_i^4 : a banded Hessian, known in closed form.

HVP_DIM = 100


def hvp_f(x, sin=np.sin, total=np.sum):
    return total(sin(x[:-1]) * x[1:]) + total(x * x * x * x)


def hvp_reference(x, v):
    """H v by hand: H_jj = -sin(x_j) x_{j+1} + 12 x_j^2, H_{j,j+1} = H_{j+1,j} = cos(x_j)."""
    hv = 12 * x * x * v
    hv[:-1] += -np.sin(x[:-1]) * x[1:] * v[:-1] + np.cos(x[:-1]) * v[1:]
    hv[1:] += np.cos(x[:-1]) * v[:-1]
    return hv


def hvp_point(dim=HVP_DIM, seed=1):
    rng = np.random.default_rng(seed)
    return rng.normal(size=dim), rng.normal(size=dim)


def hvp_engines(peers, x, v):
    engines, skipped = {}, _unavailable(peers, "autograd", "torch", "jax")
    engines["numpy H v by hand"] = lambda: hvp_reference(x, v)
    engines["autodiff_helpers (ad.hvp)"] = lambda: ad.hvp(hvp_f, x, v)
    if peers["autograd"].available:
        ag, anp = peers["autograd"].module, peers["autograd"].extra["numpy"]
        f_ag = lambda t: hvp_f(t, anp.sin, anp.sum)  # noqa: E731
        grad_ag = ag.grad(f_ag)
        engines["autograd (make_jvp of grad)"] = lambda: ag.make_jvp(grad_ag)(x)(v)[1]
    if peers["torch"].available:
        torch, tf = peers["torch"].module, peers["torch"].extra["func"]
        x_t, v_t = torch.tensor(x), torch.tensor(v)
        grad_t = tf.grad(lambda t: hvp_f(t, torch.sin, torch.sum))
        engines["torch.func (jvp of grad)"] = lambda: tf.jvp(grad_t, (x_t,), (v_t,))[1]
    if peers["jax"].available:
        jax, jnp = peers["jax"].module, peers["jax"].extra["numpy"]
        x_j, v_j = jnp.asarray(x), jnp.asarray(v)
        grad_j = jax.grad(lambda t: hvp_f(t, jnp.sin, jnp.sum))

        def jax_hvp(t, w):
            return jax.jvp(grad_j, (t,), (w,))[1]

        jitted = jax.jit(jax_hvp)
        engines["jax (jvp of grad, eager)"] = lambda: jax.block_until_ready(jax_hvp(x_j, v_j))
        engines["jax (jvp of grad, jit)"] = lambda: jax.block_until_ready(jitted(x_j, v_j))
    return engines, skipped


def hvp_agreement(engines, x, v):
    reference = hvp_reference(x, v)
    return {name: relative_error(run(), reference) for name, run in engines.items()}


# =============================================================================
# Workload 5: the force of Hybrid Monte Carlo, 2-D compact U(1) lattice gauge theory
# =============================================================================
# Link angles theta (2, L, L) on a periodic L x L lattice, plaquette angle
# theta_P = theta_1(x) + theta_2(x + 1) - theta_1(x + 2) - theta_2(x), Wilson action
# S = beta sum_P (1 - cos theta_P); the molecular-dynamics force is F = -dS/dtheta.
# The engines compute F by reverse mode from S as written; the floor is the force
# derived by hand (the staples). Axis 0 of theta_mu is direction 1, axis 1 direction 2.

LATTICE_L = 16
LATTICE_BETA = 2.0


# -- the action and the hand-derived force (the same two functions as ad_course/lattice.py)
def wilson_action(theta, beta):
    """S = beta sum_P (1 - cos theta_P) of link angles theta (2, L, L)."""
    t1, t2 = theta[0], theta[1]
    plaquette = t1 + np.roll(t2, -1, axis=0) - np.roll(t1, -1, axis=1) - t2
    return beta * np.sum(1.0 - np.cos(plaquette))


def staple_force(theta, beta):
    """F = -dS/dtheta derived by hand: each link is in two plaquettes, one with each sign."""
    t1, t2 = theta[0], theta[1]
    sin_p = np.sin(t1 + np.roll(t2, -1, axis=0) - np.roll(t1, -1, axis=1) - t2)
    return -beta * np.stack([sin_p - np.roll(sin_p, 1, axis=1), np.roll(sin_p, 1, axis=0) - sin_p])
# -- end of the two functions


def lattice_configuration(size=LATTICE_L, seed=2):
    """Random link angles, uniform in [-pi, pi) (a hot start)."""
    return np.random.default_rng(seed).uniform(-np.pi, np.pi, (2, size, size))


def _peer_action(cos, total, roll):
    """wilson_action written with another library's cos, sum and roll(x, shift, axis)."""
    def action(theta, beta):
        t1, t2 = theta[0], theta[1]
        plaquette = t1 + roll(t2, -1, 0) - roll(t1, -1, 1) - t2
        return beta * total(1.0 - cos(plaquette))

    return action


def force_engines(peers, theta, beta=LATTICE_BETA):
    engines, skipped = {}, _unavailable(peers, "autograd", "torch", "jax")
    engines["numpy staple force (by hand)"] = lambda: staple_force(theta, beta)
    ad_grad = ad.grad(wilson_action)
    engines["autodiff_helpers (-ad.grad)"] = lambda: -ad_grad(theta, beta)
    if peers["autograd"].available:
        ag, anp = peers["autograd"].module, peers["autograd"].extra["numpy"]
        grad_ag = ag.grad(_peer_action(anp.cos, anp.sum, lambda x, s, a: anp.roll(x, s, axis=a)))
        engines["autograd"] = lambda: -grad_ag(theta, beta)
    if peers["torch"].available:
        torch, tf = peers["torch"].module, peers["torch"].extra["func"]
        theta_t = torch.tensor(theta)
        grad_t = tf.grad(_peer_action(torch.cos, torch.sum, torch.roll))
        engines["torch.func.grad"] = lambda: -grad_t(theta_t, beta)
    if peers["jax"].available:
        jax, jnp = peers["jax"].module, peers["jax"].extra["numpy"]
        theta_j = jnp.asarray(theta)
        grad_j = jax.grad(_peer_action(jnp.cos, jnp.sum, lambda x, s, a: jnp.roll(x, s, axis=a)))
        jitted = jax.jit(grad_j)
        engines["jax.grad (eager)"] = lambda: jax.block_until_ready(-grad_j(theta_j, beta))
        engines["jax.grad (jit)"] = lambda: jax.block_until_ready(-jitted(theta_j, beta))
    return engines, skipped


def force_agreement(engines, theta, beta=LATTICE_BETA):
    reference = staple_force(theta, beta)
    return {name: relative_error(run(), reference) for name, run in engines.items()}
