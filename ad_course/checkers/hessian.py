"""Notebook 07, exercise 1: the closed form H = diag(p) - p p^T of log-sum-exp's Hessian,
compared with ``ad.hessian`` at points of several sizes."""

from __future__ import annotations

import sys

import numpy as np

from ad_course.checkers.verdict import (
    StudentError,
    Verdict,
    apart,
    as_array,
    calls_watched,
    checker,
    close,
    engine_watched,
    expect_function,
    is_complex,
    run,
    uses_complex,
    values_watched,
)
from ad_course.checkers.vjp import logsumexp
from ad_engine.higher_order import hessian

# x = rng(0).normal(5) (the exercise's point), a point of another size, and one with
# large entries and both signs (a softmax that is not normalised shows there)
POINTS = (
    np.random.default_rng(0).normal(size=5),
    np.array([0.4, -1.3, 2.1]),
    np.array([3.0, -2.0, 0.5, 4.0]),
)


def hessian_reference(x):
    """log-sum-exp's Hessian at ``x`` by automatic differentiation (forward over reverse)."""
    return np.asarray(hessian(logsumexp, x), dtype=float)


class _Watched(np.ndarray):
    """The point x as the checker passes it: an array that notes when a numpy operation on it
    (or on an array computed from it) involves complex numbers, as complex-step
    differentiation, f(x + i h e_j), does; the closed form needs none."""

    complex_seen = False

    def __array_ufunc__(self, ufunc, method, *inputs, **kwargs):
        def plain(a):
            return a.view(np.ndarray) if isinstance(a, _Watched) else a
        if "out" in kwargs:
            kwargs["out"] = tuple(plain(a) for a in kwargs["out"])
        result = getattr(ufunc, method)(*(plain(a) for a in inputs), **kwargs)
        results = result if isinstance(result, tuple) else (result,)
        if any(np.iscomplexobj(a) for a in inputs + results):
            _Watched.complex_seen = True
        wrapped = tuple(r.view(_Watched) if type(r) is np.ndarray else r for r in results)
        return wrapped if isinstance(result, tuple) else wrapped[0]


def _watched(x):
    _Watched.complex_seen = False
    return np.array(x, dtype=float).view(_Watched)


def _mistakes(x):
    e = np.exp(x)
    p = e / e.sum()
    return [
        (np.outer(p, p) - np.diag(p), "the sign is wrong: H = diag(p) - p p^T"),
        (np.diag(p), "the term - p p^T is missing: H = diag(p) - p p^T"),
        (-np.outer(p, p), "diag(p) is missing: H = diag(p) - p p^T"),
        (np.diag(p) + np.outer(p, p), "the sign of p p^T is wrong: H = diag(p) - p p^T"),
        (np.diag(p - p**2), "p p^T is an outer product (np.outer(p, p)), not p * p on the diagonal"),
        (np.diag(p) - p * p, "p p^T is an outer product (np.outer(p, p)); p * p is the "
                             "elementwise square, broadcast along the rows"),
        (np.diag(p) - (p * p)[:, None], "p p^T is an outer product (np.outer(p, p)); p * p is "
                                        "the elementwise square, broadcast along the columns"),
        (np.diag(p) - p @ p, "p @ p.T of a 1-D p is the number p . p (a 1-D array has no "
                             "transpose); the outer product is np.outer(p, p)"),
        (np.diag(e) - np.outer(e, e), "p is not normalised: p = exp(x) / sum(exp(x)) (softmax)"),
        (np.diag(p) - np.outer(e, e), "p is not normalised in p p^T: p = exp(x) / sum(exp(x))"),
        (np.diag(e) - np.outer(p, p), "p is not normalised in diag(p): p = exp(x) / sum(exp(x))"),
    ]


@checker
def check_logsumexp_hessian(hessian_closed):
    """Check ``hessian_closed(x)``, the closed-form Hessian of g(x) = log sum exp(x_i), an
    n x n array for x of size n, against ``ad.hessian`` at three points (n = 5, 3, 4),
    to a relative 1e-12 (the closed form's round-off is about 1e-15; a finite difference,
    right to about 1e-10, is told it is one)."""
    expect_function(hessian_closed, 1, "a function of x returning the n x n Hessian")
    for x in POINTS:
        n = x.size
        sympy = sys.modules.get("sympy")  # imported by the notebook, or by an earlier call
        symbolic = (sympy.Derivative.__new__,) if sympy is not None else ()
        with engine_watched() as engine, values_watched(is_complex) as complex_values, \
                calls_watched(*symbolic) as derivatives:
            got = run(hessian_closed, _watched(x), what=f"hessian_closed(x) with n = {n}")
        if isinstance(got, _Watched):
            got = got.view(np.ndarray)
        if engine.used:
            return Verdict(False, "hessian_closed uses automatic differentiation (ad.hessian, "
                                  "ad.grad, ad.Variable ...), which is what the answer is "
                                  "checked against; write the closed form diag(p) - p p^T with "
                                  "numpy alone, p = softmax(x) included (np.exp, np.diag, "
                                  "np.outer)")
        if derivatives.count:
            return Verdict(False, "hessian_closed differentiates with sympy (sp.diff, "
                                  "sp.hessian ...), which derives the Hessian for you; the "
                                  "exercise asks you to write the closed form diag(p) - p p^T "
                                  "yourself, with numpy (np.exp, np.diag, np.outer)")
        # x copied first (np.asarray(x) drops the watch) or ad.complex_step: the values held,
        # or the complex constants written (one numpy expression holds them in no variable)
        if _Watched.complex_seen or complex_values.found or uses_complex(hessian_closed):
            return Verdict(False, "hessian_closed computes with complex numbers (a complex step, "
                                  "f(x + i h e_j)?), a numerical derivative that is exact to "
                                  "round-off; the exercise asks for the closed form "
                                  "diag(p) - p p^T, written with numpy on real numbers")
        expected = hessian_reference(x)
        p = np.exp(x) / np.exp(x).sum()
        if np.shape(got) == (n,) and close(np.asarray(got, dtype=float), p):
            return Verdict(False, f"at n = {n} your function returned p = softmax(x), the "
                                  f"gradient of g; the Hessian is the n x n matrix diag(p) - p p^T")
        try:
            got = as_array(got, (n, n), f"the Hessian at n = {n}")
        except StudentError as error:
            return error.verdict
        if close(got, expected, rtol=1e-12, atol=1e-15):  # right forms agree to ~1e-15
            continue
        where = f"at x = {np.array2string(x, precision=2)}"
        for wrong, hint in _mistakes(x):
            if close(got, wrong):
                return Verdict(False, f"{where}: {hint}")
        if close(got, expected, rtol=1e-6, atol=1e-9):
            return Verdict(False, f"{where}: your matrix agrees with ad.hessian to about "
                                  f"{np.max(np.abs(got - expected)):.0e}, not to round-off, as "
                                  f"a finite difference does; write the closed form "
                                  f"diag(p) - p p^T")
        if not close(got, got.T):
            return Verdict(False, f"{where}: your matrix is not symmetric, and a Hessian is "
                                  f"(H_ij = H_ji): fill both triangles, or check the order of "
                                  f"the factors")
        i, j = np.unravel_index(np.argmax(np.abs(got - expected)), got.shape)
        ratio = got / np.where(expected == 0, np.nan, expected)
        hint = ""
        if np.nanmax(ratio) - np.nanmin(ratio) < 1e-9 * abs(np.nanmax(ratio)):
            hint = f": off by a constant factor {np.nanmax(ratio):.6g}"
        yours, exact = apart(got[i, j], expected[i, j])
        return Verdict(False, f"{where}: H[{i}, {j}] is {yours}; ad.hessian gives {exact}{hint}")
    return Verdict(True, "diag(p) - p p^T agrees with ad.hessian at n = 5, 3 and 4")
