"""Notebook 07, exercise 5: the Jacobian of F: R^n -> R^m built with forward passes
(one per input, a column each) and with reverse passes (one per output, a row each).

The checker wraps the test maps so that it can count the passes: an evaluation of F
on a Dual is a forward pass, on a Variable a reverse pass. The test maps are tall
(n < m), wide (n > m) and square, with entries of both signs, so that a transposed
Jacobian or rows for columns cannot pass by luck.
"""

from __future__ import annotations

import numpy as np

from ad_course.checkers.verdict import (
    Verdict,
    apart,
    as_array,
    checker,
    close,
    expect_function,
    is_dual,
    returned_floats,
    run,
)
from ad_engine.forward import Dual
from ad_engine.reverse import Variable


def _tall(x):  # R^2 -> R^5
    a, b = x[0], x[1]
    return np.stack([a * b, np.sin(a), a - 2 * b, np.exp(b) * a, b * b - a])


def _wide(x):  # R^5 -> R^2
    return np.stack([np.sum(x * np.arange(1.0, 6.0)) * x[0], np.sin(x[1] * x[4]) - x[2] * x[3]])


def _square(x):  # R^3 -> R^3, not symmetric
    return np.stack([x[0] * x[1], x[1] + 3 * x[2], np.tanh(x[0]) - x[2] ** 2])


def _tall_jacobian(x):
    a, b = x
    return np.array([[b, a], [np.cos(a), 0], [1, -2], [np.exp(b), np.exp(b) * a], [-1, 2 * b]])


def _wide_jacobian(x):
    k = np.arange(1.0, 6.0)
    row0 = x[0] * k
    row0[0] += np.sum(x * k)
    c = np.cos(x[1] * x[4])
    return np.array([row0, [0, c * x[4], -x[3], -x[2], c * x[1]]])


def _square_jacobian(x):
    return np.array([[x[1], x[0], 0], [0, 1, 3], [1 - np.tanh(x[0]) ** 2, 0, -2 * x[2]]])


CASES = [
    ("a tall map R^2 -> R^5", _tall, _tall_jacobian, np.array([0.7, -1.3])),
    ("a wide map R^5 -> R^2", _wide, _wide_jacobian, np.array([0.5, -1.0, 2.0, -0.3, 1.2])),
    ("a square map R^3 -> R^3", _square, _square_jacobian, np.array([-0.4, 1.1, 0.6])),
]


class _Counted:
    """F with a count of its evaluations on Duals (forward passes), Variables and anything
    else (plain: real or complex arrays, object arrays of numbers: a complex step through
    an object array is no forward pass). An evaluation on a Variable is a reverse pass
    only when a backward sweep reaches its input (``reverse``, read after the student's
    function returns): ``F(Variable(x)).value.size``, to learn m, is an evaluation that no
    sweep follows, as harmless as the plain ``np.size(F(x))``."""

    def __init__(self, function):
        self.function, self.forward, self.plain = function, 0, 0
        self.inputs = []  # the Variables F was evaluated on
        self.__name__ = getattr(function, "__name__", "F")

    def __call__(self, x):
        if isinstance(x, Dual) or (isinstance(x, np.ndarray) and x.dtype == object
                                   and any(is_dual(v) for v in x.flat)):
            self.forward += 1  # an object array of duals (notebook 04's MiniDual) too
        elif isinstance(x, Variable):
            self.inputs.append(x)
        else:
            self.plain += 1
        return self.function(x)

    @property
    def evaluations(self):
        """Evaluations on Variables, swept or not."""
        return len(self.inputs)

    @property
    def reverse(self):
        """Evaluations on Variables that a backward sweep reached (their input has an
        adjoint, or, for a leaf, a gradient)."""
        return sum(1 for v in self.inputs if v.adjoint is not None or v.grad is not None)


def _diagnose(got, J, x, name, mode, value):
    """A hint for a result that is not J but a known slip, else None; ``value`` is F(x)."""
    n, m = x.size, J.shape[0]
    if mode == "forward" and got.size == 2 * J.size:
        return (f"on {name} your forward result has shape {got.shape}, twice the m x n = "
                f"{m} x {n} numbers of J: ad.jvp(F, x, v) returns a pair, (F(x), J v), the "
                f"value and the directional derivative; a column of J is its [1]")
    if mode == "forward" and got.shape == J.shape and not close(got, J) and \
            close(got, np.column_stack([value] * n)):
        return (f"on {name} every column of your forward Jacobian is F(x), the value: "
                f"ad.jvp(F, x, v) returns the pair (F(x), J v); a column of J is its [1]")
    if got.shape == J.T.shape and close(got, J.T) or (J.shape[0] == J.shape[1] and close(got, J.T)):
        return (f"on {name} your {mode} Jacobian is transposed: row i is output i, column j "
                f"is input j, J[i, j] = dF_i/dx_j"
                + (" (a forward pass gives a column: np.column_stack)" if mode == "forward"
                   else " (a reverse pass gives a row: np.vstack)"))
    if got.shape == (m,) and close(got, J @ np.ones(n)):
        return (f"on {name} your {mode} result is J·1, the sum of the columns: one pass with "
                f"the seed (1, ..., 1) mixes all inputs. Seed each input alone, e_j")
    if got.shape == (n,) and close(got, np.ones(m) @ J):
        return (f"on {name} your {mode} result is 1ᵀJ, the gradient of the sum of the outputs: "
                f"one reverse pass per output, seeded with e_i")
    if close(got, -J):
        return f"on {name} your {mode} Jacobian has the wrong sign"
    return None


@checker
def check_jacobian(jacobian_forward, jacobian_reverse):
    """Check ``jacobian_forward(F, x)`` (one forward pass per input, n in all) and
    ``jacobian_reverse(F, x)`` (one reverse pass per output, m in all) on a tall, a
    wide and a square map; both must return the m x n matrix J[i, j] = dF_i/dx_j."""
    expect_function(jacobian_forward, 2, "a function jacobian_forward(F, x)")
    expect_function(jacobian_reverse, 2, "a function jacobian_reverse(F, x)")
    counts = []
    for name, F, exact, x in CASES:
        J = exact(x)
        m, n = J.shape
        for mode, build, passes in (("forward", jacobian_forward, n),
                                    ("reverse", jacobian_reverse, m)):
            counted = _Counted(F)
            result = run(build, counted, x.copy(), what=f"jacobian_{mode}(F, x) on {name}")
            got = returned_floats(result, f"jacobian_{mode}(F, x) on {name}",
                                  f"the m x n matrix J, shape {J.shape}")
            hint = _diagnose(got, J, x, name, mode, F(x))
            if hint:
                return Verdict(False, hint)
            got = as_array(got, J.shape, f"the {mode} Jacobian of {name}, m x n")
            if not close(got, J, rtol=1e-10) and counted.plain > 1 and \
                    close(got, J, rtol=1e-4, atol=1e-6):
                off = float(np.max(np.abs(got - J)))
                return Verdict(False, f"on {name} your {mode} Jacobian agrees with J to about "
                                      f"{off:.0e}, not to round-off, and jacobian_{mode} "
                                      f"evaluated F {counted.plain} times on plain arrays, as a "
                                      f"finite difference does: build J from {mode} passes "
                                      f"(ad.{'jvp' if mode == 'forward' else 'grad'}), which are "
                                      f"exact to round-off")
            if not close(got, J, rtol=1e-10):
                i, j = np.unravel_index(np.argmax(np.abs(got - J)), J.shape)
                yours, exact = apart(got[i, j], J[i, j])
                return Verdict(False, f"on {name} your {mode} J[{i}, {j}] is {yours}; "
                                      f"expected dF_{i}/dx_{j} = {exact} (to a relative 1e-10)")
            used = counted.forward if mode == "forward" else counted.reverse
            other = counted.evaluations if mode == "forward" else counted.forward
            if other:
                return Verdict(False, f"jacobian_{mode} on {name} evaluated F on "
                                      f"{'Variables' if mode == 'forward' else 'Duals'}: build "
                                      f"it with {mode} passes only")
            if counted.plain > 1:  # one plain call tells the number of outputs
                return Verdict(False, f"jacobian_{mode} on {name} evaluated F {counted.plain} "
                                      f"times on plain arrays (differences, complex steps): build "
                                      f"J from the {mode} passes alone; one plain call F(x) to "
                                      f"learn the number of outputs is fine")
            if mode == "forward" and used != passes:
                return Verdict(False, f"jacobian_forward on {name} made {used} forward passes; "
                                      f"n = {n} inputs need exactly {n}, one per column")
            if mode == "reverse" and used not in (1, passes):
                return Verdict(False, f"jacobian_reverse on {name} made {used} reverse passes; "
                                      f"m = {m} outputs need {m}, one per row")
            counts.append(used)
    return Verdict(True, "both Jacobians are right on the tall, wide and square maps, with one "
                         "forward pass per input and one reverse pass per output")
