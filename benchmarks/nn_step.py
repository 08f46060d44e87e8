"""Time one MLP training step with Adam: the course library vs the same step by hand in numpy.

A step is the lecture's loop body -- zero_grad, forward, cross-entropy loss,
backward, Adam update -- on a fixed batch. It is the MLP workload of `make bench`
(workloads.py: the problem, ``ad.MLP`` with its parameters, the hand-written
numpy gradients) with Adam in place of plain SGD, and PyTorch through
``nn.Sequential`` and ``torch.optim.Adam`` (the suite uses its functional form).
The numpy step adds Adam by hand to ``workloads.numpy_mlp_gradients``; the ratio
library / numpy is the price of the computational graph.

Usage: python -m benchmarks.nn_step [--repeats N] [--no-torch]
Prints the median time of N timed steps (library and numpy taking turns, as in
run.interleaved_medians) for each network, and PyTorch's time for the same step
where torch is installed (e.g. in the .venv-bench of `make bench`). Everything
runs on one thread (BLAS and torch): on the shared 2-core course machine, two
BLAS threads competing with torch's made single steps up to 100x slower and the
numbers meaningless.
"""

from __future__ import annotations

import argparse
import os

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")  # before numpy is imported
os.environ.setdefault("OMP_NUM_THREADS", "1")

import numpy as np  # noqa: E402

import autodiff_helpers as ad  # noqa: E402
from benchmarks import workloads as w  # noqa: E402
from benchmarks.run import Config, interleaved_medians  # noqa: E402

# (sizes, batch): the network of notebook 06 on its toy problem, and a wider one
CASES = [((2, 16, 16, 2), 400), ((64, 128, 10), 256)]
LR = 0.01
BETAS, EPS = (0.9, 0.999), 1e-8  # Adam's defaults in ad.Adam and torch.optim.Adam


def training_step(net, criterion, optimizer, inputs, labels, gradients):
    """The lecture's loop body, verbatim, for any library with PyTorch's shape; the step
    returns ``gradients()`` (the parameters' gradients in workloads.mlp_problem's order)."""

    def step():
        optimizer.zero_grad()
        outputs = net(inputs)
        loss = criterion(outputs, labels)
        loss.backward()
        optimizer.step()
        return gradients()

    return step


def library_step_function(problem):
    net = w.library_mlp(problem)
    optimizer = ad.Adam(net.parameters(), lr=LR, betas=BETAS, eps=EPS)
    return training_step(net, ad.cross_entropy, optimizer, problem["x"], problem["labels"],
                         lambda: [p.grad for p in optimizer.params])


def numpy_step_function(problem):
    params = [p.copy() for p in problem["params"]]
    moments = [[np.zeros_like(p), np.zeros_like(p)] for p in params]
    b1, b2 = BETAS
    t = [0]

    def step():
        grads = w.numpy_mlp_gradients(params, problem["x"], problem["onehot"])
        # Adam, with the bias corrections folded into the step size and eps (as ad.Adam)
        t[0] += 1
        step_size = LR * np.sqrt(1.0 - b2 ** t[0]) / (1.0 - b1 ** t[0])
        eps_hat = EPS * np.sqrt(1.0 - b2 ** t[0])
        for p, g, mv in zip(params, grads, moments):
            mv[0] = b1 * mv[0] + (1.0 - b1) * g
            mv[1] = b2 * mv[1] + (1.0 - b2) * g * g
            p -= step_size * mv[0] / (np.sqrt(mv[1]) + eps_hat)
        return grads

    return step


def torch_step_function(problem):
    """The same step in PyTorch (float64, CPU), or None if torch is not installed."""
    try:
        import torch
    except ImportError:
        return None
    torch.set_num_threads(1)
    layers = []
    for weight, bias in zip(problem["params"][0::2], problem["params"][1::2]):
        linear = torch.nn.Linear(*weight.shape, dtype=torch.float64)
        with torch.no_grad():
            linear.weight.copy_(torch.from_numpy(weight.T))  # torch stores W transposed
            linear.bias.copy_(torch.from_numpy(bias))
        layers += [linear, torch.nn.Tanh()]
    net = torch.nn.Sequential(*layers[:-1])
    optimizer = torch.optim.Adam(net.parameters(), lr=LR, betas=BETAS, eps=EPS)
    return training_step(net, torch.nn.CrossEntropyLoss(), optimizer,
                         torch.from_numpy(problem["x"]), torch.from_numpy(problem["labels"]),
                         lambda: [p.grad.t() for p in net.parameters()])


def check_second_step(step, problem):
    """Stop unless the second step's gradients (which depend on the first Adam update)
    agree with the numpy step's to workloads.TOLERANCE."""
    reference = numpy_step_function(problem)
    reference()
    step()
    error = w.relative_error(step(), reference())
    assert error <= w.TOLERANCE, f"the step disagrees with numpy by hand: {error:.1e}"


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=500)
    parser.add_argument("--no-torch", action="store_true", help="leave PyTorch out")
    args = parser.parse_args(argv)
    cfg = Config("full")
    cfg.min_repeats = args.repeats  # with max_rounds=args.repeats: exactly N rounds
    print(f"{'network':>14} {'batch':>6} {'library':>12} {'numpy':>12} {'ratio':>6} {'torch':>12}")
    for sizes, batch in CASES:
        problem = w.mlp_problem(sizes, batch)
        library = library_step_function(problem)
        numpy_ = numpy_step_function(problem)
        check_second_step(library, problem)
        times = interleaved_medians({"library": library, "numpy": numpy_}, cfg,
                                    max_rounds=args.repeats)
        # PyTorch on its own: taking turns with it slowed the other two steps down
        torch_ = None if args.no_torch else torch_step_function(problem)
        if torch_ is None:
            t_torch = "not installed"
        else:
            check_second_step(torch_, problem)
            seconds = interleaved_medians({"torch": torch_}, cfg, max_rounds=args.repeats)
            t_torch = f"{seconds['torch'] * 1e6:9.1f} us"
        name = "-".join(map(str, sizes))
        print(f"{name:>14} {batch:>6} {times['library'] * 1e6:>9.1f} us "
              f"{times['numpy'] * 1e6:>9.1f} us {times['library'] / times['numpy']:>6.2f} "
              f"{t_torch:>12}")


if __name__ == "__main__":
    main()
