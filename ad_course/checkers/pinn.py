"""Notebook 07, exercise 2: the damped oscillator u'' + 2 gamma u' + omega^2 u = 0,
u(0) = 1, u'(0) = 0: the exact solution written by the student, and optionally the
trained network compared with it."""

from __future__ import annotations

import numpy as np

from ad_course.checkers.verdict import (
    StudentError,
    Verdict,
    as_array,
    checker,
    close,
    expect_function,
    run,
)
from ad_engine.reverse import topological_order

# (omega, gamma): the exercise's values and two more, so hard-coded constants show
PARAMETERS = ((2.0, 0.3), (3.0, 0.5), (1.5, 0.1))
# t = 0 and 40 points drawn on [0, 4 pi]: unevenly spaced, so that no frequency aliases
# onto the right one, and past the network's interval [0, 2 pi]
T = np.concatenate([[0.0], np.sort(np.random.default_rng(7).uniform(0.0, 4 * np.pi, 40))])


# fewer weight numbers than this in u's graph: a formula wearing a parameter (the formula
# times Variable(0.999), gamma and omega_d as Variables), not a network; ad.MLP([1, 3, 1])
# has 10, the exercise's networks have hundreds
MIN_WEIGHTS = 10


def damped_reference(t, omega, gamma):
    """The underdamped solution: the real part of the root pair -gamma +- i omega_d fitted
    to u(0) = 1, u'(0) = 0."""
    omega_d = np.sqrt(omega**2 - gamma**2)
    return np.exp(-gamma * t) * (np.cos(omega_d * t) + gamma / omega_d * np.sin(omega_d * t))


def _mistakes(t, omega, gamma):
    w = np.sqrt(omega**2 - gamma**2)
    decay = np.exp(-gamma * t)
    return [
        (decay * (np.cos(omega * t) + gamma / omega * np.sin(omega * t)),
         "the frequency is omega_d = sqrt(omega² - gamma²), not omega"),
        (decay * (np.cos(w * t) + gamma / omega * np.sin(w * t)),
         "the coefficient of the sine is gamma / omega_d, not gamma / omega"),
        (decay * np.cos(w * t), "the sine term is missing: without it u'(0) = -gamma, not 0"),
        (decay * (np.cos(w * t) - gamma / w * np.sin(w * t)),
         "the sign of the sine term: u'(0) = 0 needs + gamma / omega_d sin(omega_d t)"),
        (np.exp(gamma * t) * (np.cos(w * t) + gamma / w * np.sin(w * t)),
         "the solution grows: the damping factor is exp(-gamma t)"),
        (np.cos(omega * t), "that is the undamped oscillator cos(omega t): the damping is missing"),
        (np.exp(-gamma * t / 2) * (np.cos(w * t) + gamma / w * np.sin(w * t)),
         "the damping factor is exp(-gamma t) for u'' + 2 gamma u' + omega² u = 0"),
    ]


def _values(u, t, what):  # a Variable returned counts as its value (as_array)
    return as_array(run(u, t.copy(), what=what), t.shape, f"{what}'s values")


def _is_weight(leaf, input_shape):
    """Whether a leaf of u's graph is a weight: anything but the input t (or t as a column)."""
    return np.shape(leaf.value) not in (input_shape, input_shape + (1,))


def _weights(output, input_shape):
    """The weights of u's graph: its leaves that are not the input t."""
    return [node for node in topological_order(output)
            if node.primitive is None and _is_weight(node, input_shape)]


def _moved_by_weights(output, input_shape):
    """True if sum(u) has a nonzero derivative with respect to a leaf of u's graph that is
    not the input t (a weight). The leaves' .grad are left as they were."""
    leaves = [node for node in topological_order(output) if node.primitive is None]
    kept = [leaf.grad for leaf in leaves]
    try:
        output.sum().backward()
        return any(_is_weight(leaf, input_shape) and np.any(np.asarray(leaf.adjoint) != 0)
                   for leaf in leaves)
    finally:
        for leaf, grad in zip(leaves, kept):
            leaf.grad = grad


def _network_share(u, t, leaves, got):
    """How much u(t) changes when every weight of its graph (``leaves``, see _weights) is set
    to zero: the largest difference, or None when u does not read those weights
    again (a network that makes new Variables on each call). The weights are restored."""
    kept = [leaf.value for leaf in leaves]
    try:
        for leaf in leaves:
            leaf.value = np.zeros_like(leaf.value) if np.ndim(leaf.value) else 0.0
        again = run(u, t.copy(), what="u(t)")
        if not {id(n) for n in topological_order(again)} >= {id(leaf) for leaf in leaves}:
            return None
        return float(np.max(np.abs(as_array(again, t.shape, "u(t)'s values") - got)))
    except (StudentError, TypeError, ValueError, AttributeError):
        return None
    finally:
        for leaf, value in zip(leaves, kept):
            leaf.value = value


def _grows(got, t, omega, gamma):
    """A hint when the network's oscillation grows where the solution decays (a network
    trained with the sign of gamma flipped: it fits the growing solution only roughly, so
    no curve matches it), else None."""
    first, second = t <= t[-1] / 2, t > t[-1] / 2
    late = float(np.max(np.abs(got[second])))
    if gamma <= 0 or late <= max(1.0, float(np.max(np.abs(got[first])))):
        return None
    if late <= 2 * float(np.max(np.abs(damped_reference(t[second], omega, gamma)))):
        return None
    return (f"it grows (|u| reaches {late:.2g} on [{t[-1] / 2:.3g}, {t[-1]:.3g}], more than "
            f"u(0) = 1 and more than on [0, {t[-1] / 2:.3g}]), while the solution of "
            f"u'' + 2 gamma u' + omega² u = 0 with gamma = {gamma:g} > 0 decays. Training "
            f"longer does not help: check the sign of gamma in the loss (a negative gamma "
            f"gives a growing solution); train with gamma={gamma:g}")


@checker
def check_damped_oscillator(exact, u=None, omega=2.0, gamma=0.3, t_end=2 * np.pi, tol=1e-2):
    """Check ``exact(t, omega, gamma)`` (the exact solution on an array ``t``) against
    ``damped_reference`` for three (omega, gamma) to a relative 1e-9; then ``u(t)`` (the
    trained network: its output a Variable computed from the weights) against the exact
    solution on 2001 points of [0, t_end]: its largest error must be below ``tol``
    (without ``u``, the exercise is half done, and the verdict says so)."""
    expect_function(exact, 3, "a function of (t, omega, gamma)")
    for w0, g0 in PARAMETERS:
        got = _values(lambda s, w0=w0, g0=g0: exact(s, w0, g0), T, f"exact(t, {w0:g}, {g0:g})")
        # the formula written any way (cos and sin, complex roots, amplitude and phase)
        # agrees to ~3e-16; RK4 with steps of 1e-3 to ~1.5e-12, which 1e-9 accepted
        if close(got, damped_reference(T, w0, g0), rtol=1e-13, atol=1e-14):
            continue
        where = f"for omega = {w0:g}, gamma = {g0:g}"
        if close(got, damped_reference(T, w0, g0), rtol=1e-6, atol=1e-8):
            off = float(np.max(np.abs(got - damped_reference(T, w0, g0))))
            return Verdict(False, f"{where} your function agrees with the exact solution to "
                                  f"about {off:.0e}, not to round-off, as a numerical solution "
                                  f"of the equation (Runge-Kutta, finite differences) does: "
                                  f"write the exact solution, the formula, with numpy")
        if close(got, damped_reference(T, *PARAMETERS[0])) and (w0, g0) != PARAMETERS[0]:
            return Verdict(False, f"{where} your function gives the curve of omega = 2, "
                                  f"gamma = 0.3: use the arguments omega and gamma, not fixed numbers")
        for wrong, hint in _mistakes(T, w0, g0):
            if close(got, wrong):
                return Verdict(False, f"{where}: {hint}")
        if abs(got[0] - 1.0) > 1e-9:
            return Verdict(False, f"{where}: u(0) is {got[0]:.6g}, not 1")
        i = int(np.argmax(np.abs(got - damped_reference(T, w0, g0))))
        return Verdict(False, f"{where}: u({T[i]:.3g}) is {got[i]:.6g}; expected "
                              f"{damped_reference(T[i], w0, g0):.6g}")
    if u is None:  # the exercise asks for both: the formula alone is half of it
        return Verdict(False, "the exact solution is right for three (omega, gamma); the "
                              "exercise also asks for the trained network: pass it too, "
                              "ad.check_damped_oscillator(damped_exact, damped_u)")
    if callable(getattr(u, "parameters", None)):  # an ad.MLP (a Module) itself
        return Verdict(False, f"the exact solution is right, but you passed the network object "
                              f"({type(u).__name__}) itself, which takes a column of inputs "
                              f"(batch, 1); pass u as a function of t: damped_u = "
                              f"trial_solution(net), with the network you trained")
    t = np.linspace(0.0, t_end, 2001)
    try:
        output = run(u, t.copy(), what="u(t)")
        got = as_array(output, t.shape, "u(t)'s values")
    except StudentError as error:
        return error.verdict
    if getattr(output, "primitive", None) is None:  # a formula, its values, or a leaf
        return Verdict(False, f"u(t) returned {type(output).__name__}, not a network's output: "
                              "pass the trained network itself (the function whose Variable "
                              "output is computed from the weights)")
    if not _moved_by_weights(output, t.shape):
        return Verdict(False, "u(t) does not change with any weight: its graph has no parameter "
                              "that its values depend on (the formula dressed as a network?). "
                              "Pass the trained network itself")
    error = float(np.max(np.abs(got - damped_reference(t, omega, gamma))))
    if error < 1e-7:
        return Verdict(False, f"the network's largest error is {error:.1e}: that is the exact "
                              f"formula, not a trained network (a trained one is off by about "
                              f"1e-3). Pass the trained network itself")
    weights = _weights(output, t.shape)
    share = _network_share(u, t, weights, got)
    if share is not None and share < 0.1:
        return Verdict(False, f"with every weight of your network set to zero, u(t) changes by "
                              f"at most {share:.1e}: the network adds a small correction to "
                              f"something else (the formula?), instead of being the solution. "
                              f"Pass the trained network itself")
    numbers = sum(int(np.size(leaf.value)) for leaf in weights)
    if numbers < MIN_WEIGHTS:
        return Verdict(False, f"u(t) is computed from only {numbers} number(s) besides t: that "
                              f"is a formula with a parameter or two, not a network (even a "
                              f"small ad.MLP has dozens of weights). Train a new network, "
                              f"train(..., omega=2.0, gamma=0.3), and pass trial_solution(net)")
    if error < tol:
        return Verdict(True, f"the exact solution is right, and the network's largest error "
                             f"on [0, {t_end:.3g}] is {error:.1e} (< {tol:g})")
    others = [
        (np.cos(omega * t), "it follows the undamped cos(omega t): pass gamma to "
                            "ad.oscillator_loss (train(..., omega=2.0, gamma=0.3))"),
        (np.cos(t), "it follows cos(t): pass omega and gamma to ad.oscillator_loss"),
        (damped_reference(t, 1.0, gamma), "it solves omega = 1: pass omega=2.0 to ad.oscillator_loss"),
    ]
    for curve, hint in others:
        if np.max(np.abs(got - curve)) < max(tol, error / 3):
            return Verdict(False, f"the network's largest error is {error:.2g}: {hint}")
    grown = _grows(got, t, omega, gamma)
    if grown:
        return Verdict(False, f"the network's largest error is {error:.2g}: {grown}")
    return Verdict(False, f"the network's largest error is {error:.2g} (want < {tol:g}): train "
                          f"longer, or check the equation's parameters")
