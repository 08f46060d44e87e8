"""Time one training step of a tanh MLP: the course library vs the same step by hand in numpy.

A step is the lecture's loop body -- zero_grad, forward, cross-entropy loss,
backward, Adam update -- on a fixed batch. The numpy version writes the
forward pass, the back-propagation and Adam out by hand, with the same
arithmetic; the ratio library / numpy is the price of the computational graph.

Usage: python benchmarks/nn_step.py [--repeats N]
Prints the median time of N timed steps (after a warm-up) for each network,
and PyTorch's time for the same step where torch is installed (e.g. in the
.venv-bench of `make bench`). Everything runs on one thread (BLAS and torch):
on the shared 2-core course machine, two BLAS threads competing with torch's
made single steps up to 100x slower and the numbers meaningless.
"""

from __future__ import annotations

import argparse
import os
import time

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")  # before numpy is imported
os.environ.setdefault("OMP_NUM_THREADS", "1")

import numpy as np  # noqa: E402

import autodiff_helpers as ad  # noqa: E402

# (sizes, batch): the network of notebook 06 on its toy problem, and a wider one
CASES = [([2, 16, 16, 2], 400), ([64, 128, 10], 256)]
LR = 0.01


def make_batch(sizes, batch, seed=0):
    rng = np.random.default_rng(seed)
    return rng.normal(size=(batch, sizes[0])), rng.integers(0, sizes[-1], batch)


def training_step(net, criterion, optimizer, inputs, labels, to_float):
    """The lecture's loop body, verbatim, for any library with PyTorch's shape."""

    def step():
        optimizer.zero_grad()
        outputs = net(inputs)
        loss = criterion(outputs, labels)
        loss.backward()
        optimizer.step()
        return to_float(loss)

    return step


def library_step_function(sizes, inputs, labels):
    net = ad.MLP(sizes, activation="tanh", rng=0)
    optimizer = ad.Adam(net.parameters(), lr=LR)
    return training_step(net, ad.cross_entropy, optimizer, inputs, labels, lambda loss: loss.value)


def numpy_step_function(sizes, inputs, labels):
    # the same initial parameters as the library network, as plain arrays
    params = [p.value.copy() for p in ad.MLP(sizes, activation="tanh", rng=0).parameters()]
    moments = [[np.zeros_like(p), np.zeros_like(p)] for p in params]
    b1, b2, eps = 0.9, 0.999, 1e-8
    rows = np.arange(len(labels))
    t = [0]

    def step():
        # forward: h_{k+1} = tanh(h_k W_k + b_k), logits without tanh
        weights, biases = params[0::2], params[1::2]
        hidden = [inputs]
        for W, b in zip(weights[:-1], biases[:-1]):
            hidden.append(np.tanh(hidden[-1] @ W + b))
        logits = hidden[-1] @ weights[-1] + biases[-1]
        shifted = logits - logits.max(axis=1, keepdims=True)
        exponentials = np.exp(shifted)
        totals = exponentials.sum(axis=1, keepdims=True)
        loss = float(np.mean(np.log(totals[:, 0]) - shifted[rows, labels]))
        # backward
        delta = exponentials / totals
        delta[rows, labels] -= 1.0
        delta *= 1.0 / len(labels)
        grads = [None] * len(params)
        for k in range(len(weights) - 1, -1, -1):
            grads[2 * k] = hidden[k].T @ delta
            grads[2 * k + 1] = delta.sum(axis=0)
            if k:
                delta = (delta @ weights[k].T) * (1.0 - hidden[k] * hidden[k])
        # Adam
        t[0] += 1
        step_size = LR * np.sqrt(1.0 - b2 ** t[0]) / (1.0 - b1 ** t[0])
        eps_hat = eps * np.sqrt(1.0 - b2 ** t[0])
        for p, g, mv in zip(params, grads, moments):
            mv[0] = b1 * mv[0] + (1.0 - b1) * g
            mv[1] = b2 * mv[1] + (1.0 - b2) * g * g
            p -= step_size * mv[0] / (np.sqrt(mv[1]) + eps_hat)
        return loss

    return step


def torch_step_function(sizes, inputs, labels):
    """The same step in PyTorch (float64, CPU), or None if torch is not installed."""
    try:
        import torch
    except ImportError:
        return None
    torch.set_num_threads(1)
    layers = []
    for p_weight, p_bias in zip(*[iter(ad.MLP(sizes, activation="tanh", rng=0).parameters())] * 2):
        linear = torch.nn.Linear(*p_weight.shape, dtype=torch.float64)
        with torch.no_grad():
            linear.weight.copy_(torch.from_numpy(p_weight.value.T))
            linear.bias.copy_(torch.from_numpy(p_bias.value))
        layers += [linear, torch.nn.Tanh()]
    net = torch.nn.Sequential(*layers[:-1])
    optimizer = torch.optim.Adam(net.parameters(), lr=LR)
    return training_step(net, torch.nn.CrossEntropyLoss(), optimizer, torch.from_numpy(inputs),
                         torch.from_numpy(labels), lambda loss: loss.item())


def median_times(steps, repeats, warmup=20):
    """Median wall time of each step function; the functions take turns, one call each
    per round, so that a change of machine load hits all of them alike."""
    for step in steps:
        for _ in range(warmup):
            step()
    times = [[] for _ in steps]
    for _ in range(repeats):
        for step, record in zip(steps, times):
            start = time.perf_counter()
            step()
            record.append(time.perf_counter() - start)
    return [float(np.median(record)) for record in times]


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=500)
    parser.add_argument("--no-torch", action="store_true", help="leave PyTorch out")
    args = parser.parse_args(argv)
    print(f"{'network':>14} {'batch':>6} {'library':>12} {'numpy':>12} {'ratio':>6} {'torch':>12}")
    for sizes, batch in CASES:
        inputs, labels = make_batch(sizes, batch)
        library = library_step_function(sizes, inputs, labels)
        numpy_ = numpy_step_function(sizes, inputs, labels)
        # both start from the same parameters: the first steps must agree
        assert abs(library() - numpy_()) < 1e-12 and abs(library() - numpy_()) < 1e-12
        t_library, t_numpy = median_times([library, numpy_], args.repeats)
        # PyTorch on its own: taking turns with it slowed the other two steps down
        torch_ = None if args.no_torch else torch_step_function(sizes, inputs, labels)
        if torch_ is None:
            t_torch = "not installed"
        else:
            assert abs(torch_() - numpy_step_function(sizes, inputs, labels)()) < 1e-12
            t_torch = f"{median_times([torch_], args.repeats)[0] * 1e6:9.1f} us"
        name = "-".join(map(str, sizes))
        print(f"{name:>14} {batch:>6} {t_library * 1e6:>9.1f} us {t_numpy * 1e6:>9.1f} us "
              f"{t_library / t_numpy:>6.2f} {t_torch:>12}")


if __name__ == "__main__":
    main()
