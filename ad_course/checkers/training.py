"""Notebook 06, exercise 1: a training loop with ``ad.SGD`` and momentum (or an update
written by hand), compared step by step with the rule v <- mu v + g, theta <- theta - lr v."""

from __future__ import annotations

import numpy as np

from ad_course.checkers.verdict import Verdict, checker, close, expect_function, run
from ad_course.networks import two_spirals
from ad_engine.nn import MLP, cross_entropy

LR, MOMENTUM = 0.1, 0.9
# (architecture, seed, number of steps): two nets and step counts, so that an answer
# cannot be lucky on one of them
SETUPS = (([2, 6, 2], 0, 3), ([2, 5, 4, 2], 1, 4))


def _problem(seed):
    x, y = two_spirals(20, 0.1, np.random.default_rng(seed))
    return x, y


def _gradients(net, x, y):
    for p in net.parameters():
        p.zero_grad()
    cross_entropy(net(x), y).backward()
    return [np.array(p.grad, dtype=float) for p in net.parameters()]


def sgd_reference(sizes, seed, n_steps, lr=LR, momentum=MOMENTUM, *, sign=-1.0, accumulate=False):
    """The parameters after ``n_steps`` steps of SGD with momentum on a fresh
    ``MLP(sizes, rng=seed)``: v <- momentum v + g, theta <- theta + sign lr v.
    ``accumulate`` keeps the gradients of earlier steps (no zero_grad); the keywords make
    the typical mistakes."""
    net = MLP(sizes, activation="tanh", rng=seed)
    x, y = _problem(seed)
    velocity, total = None, None
    for _ in range(n_steps):
        g = _gradients(net, x, y)
        if accumulate:
            total = g if total is None else [a + b for a, b in zip(total, g)]
            g = total
        velocity = [gi if velocity is None else momentum * v + gi for v, gi in zip(velocity or g, g)]
        for p, v in zip(net.parameters(), velocity):
            p.value = p.value + sign * lr * v
    return [np.array(p.value) for p in net.parameters()]


def _mistakes(sizes, seed, n_steps):
    return [
        (sgd_reference(sizes, seed, n_steps, accumulate=True),
         "the gradients add up from step to step: call optimizer.zero_grad() (or set each "
         ".grad to zero) before loss.backward() in every step"),
        (sgd_reference(sizes, seed, n_steps, sign=+1.0),
         "the step goes uphill: subtract lr·v from the parameters, do not add it"),
        (sgd_reference(sizes, seed, n_steps, lr=LR**2),
         "the steps are 10 times too small: the learning rate is applied twice (lr²), or the "
         "gradient enters the velocity as (1 - mu) g (with mu = 0.9 both give the same steps); "
         "SGD with momentum is v <- mu v + g, theta <- theta - lr v"),
        (sgd_reference(sizes, seed, n_steps, momentum=0.0),
         "the momentum has no effect: either momentum=0.9 is missing "
         "(ad.SGD(net.parameters(), lr=0.1, momentum=0.9)), or the optimizer is made anew in "
         "every step, which starts its velocities at 0 each time: make it once, before the loop"),
        (sgd_reference(sizes, seed, 1),
         f"only one step was made; the loop must make n_steps = {n_steps} steps"),
        (sgd_reference(sizes, seed, n_steps - 1),
         f"one step too few: the loop must make n_steps = {n_steps} steps"),
        (sgd_reference(sizes, seed, n_steps + 1),
         f"one step too many: the loop must make n_steps = {n_steps} steps (range(n_steps))"),
        (sgd_reference(sizes, seed, n_steps, lr=LR * len(_problem(seed)[1])),
         "the steps are N times too large (N samples): the loss must be the mean over the "
         "samples, as ad.cross_entropy returns it, not their sum"),
    ]


def _same(a, b):
    """Equal to round-off: a loop written another way (lr inside the velocity, an update by
    hand) differs from ad.SGD's by ~2e-16 relative after 4 steps; gradients by central
    differences (h = 1e-5 .. 1e-4) by 1e-10 or more, which the old 1e-9 accepted."""
    return all(close(u, v, rtol=1e-12, atol=1e-14) for u, v in zip(a, b))


@checker
def check_sgd_training(train_sgd):
    """Check ``train_sgd(net, inputs, labels, n_steps)``: it must make ``n_steps`` steps of
    SGD with lr = 0.1 and momentum 0.9 (PyTorch's form, as ``ad.SGD``) on the loss
    ``ad.cross_entropy(net(inputs), labels)``, updating ``net``'s parameters in place.

    Reference: the same steps written out (gradients by ``backward()`` on a copy of the
    net), for two nets of different shapes and seeds and 3 and 4 steps, compared to a
    relative 1e-12 (round-off: gradients by finite differences are not)."""
    expect_function(train_sgd, 4, "a function of (net, inputs, labels, n_steps)")
    for sizes, seed, n_steps in SETUPS:
        net = MLP(sizes, activation="tanh", rng=seed)
        start = [np.array(p.value) for p in net.parameters()]
        x, y = _problem(seed)
        x_given, y_given = x.copy(), y.copy()
        calls, forward = [], net.forward

        def counted(inputs, forward=forward, calls=calls):  # was the net given trained?
            calls.append(1)
            return forward(inputs)

        net.forward = counted
        try:
            run(train_sgd, net, x_given, y_given, n_steps,
                what="train_sgd(net, inputs, labels, n_steps)")
        finally:
            del net.forward
        got = [np.array(p.value, dtype=float) for p in net.parameters()]
        expected = sgd_reference(sizes, seed, n_steps)
        if _same(got, expected):
            continue
        for i, (g, s0) in enumerate(zip(got, start)):
            if g.shape != s0.shape:
                return Verdict(False, f"parameter {i} of the net now has shape {g.shape}, not "
                                      f"{s0.shape}: update p.value in place with an array of its shape")
        where = f"on MLP({sizes}) after {n_steps} steps"
        if not calls:
            return Verdict(False, f"{where} the net passed to train_sgd was never called (is "
                                  f"... still the function's body?): train the argument net "
                                  f"(net(inputs) in the loss, an optimizer over "
                                  f"net.parameters()); the new ad.MLP is made outside the "
                                  f"function and passed in")
        if _same(got, start):
            return Verdict(False, f"{where} the parameters have not changed (is ... still the "
                                  f"function's body?): call "
                                  f"optimizer.step() after loss.backward() in every step "
                                  f"(zero_grad() between them sets .grad to None and step() "
                                  f"then skips every parameter)")
        if not (np.array_equal(x_given, x) and np.array_equal(y_given, y)):
            return Verdict(False, f"{where} your function changed the inputs or labels: "
                                  f"train on them, do not modify them")
        for wrong, hint in _mistakes(sizes, seed, n_steps):
            if _same(got, wrong):
                return Verdict(False, f"{where} the parameters differ from SGD's: {hint}")
        moved = max(float(np.max(np.abs(g - s))) for g, s in zip(got, start))
        wanted = max(float(np.max(np.abs(np.ravel(e) - np.ravel(s)))) for e, s in zip(expected, start))
        off = max(float(np.max(np.abs(g - np.reshape(e, g.shape)))) for g, e in zip(got, expected))
        if off <= 1e-4 * wanted:
            return Verdict(False, f"{where} the parameters are close to SGD's but not equal (they "
                                  f"differ by up to {off:.2g}, the largest change is "
                                  f"{wanted:.3g}): are the inputs cast to float32, the loss "
                                  f"changed (scaled, a term added), or the gradients taken by "
                                  f"finite differences? Train in float64 on "
                                  f"ad.cross_entropy(net(inputs), labels) itself, with the "
                                  f"gradients of loss.backward()")
        return Verdict(False, f"{where} the parameters differ from SGD's (largest change "
                              f"{moved:.3g}, expected {wanted:.3g}; they differ by up to "
                              f"{off:.2g}): each step is zero_grad, "
                              f"loss = ad.cross_entropy(net(inputs), labels), backward, step, "
                              f"with ad.SGD(net.parameters(), lr=0.1, momentum=0.9)")
    return Verdict(True, "every step matches SGD with lr = 0.1 and momentum 0.9 on two nets")

