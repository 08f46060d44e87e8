"""Linear algebra primitives: ``np.linalg.eigh`` and ``np.linalg.solve`` in both modes.

Both are registered with ``defprimitive`` and ``implements`` (rules.py) and reached
through numpy's ``__array_function__`` protocol, so ``np.linalg.eigh(H)`` and
``np.linalg.solve(A, b)`` work on Duals and Variables as on arrays. Their
derivative rules are written with numpy operations (matmul, solve itself, ...),
so they apply to plain arrays, Duals and Variables alike.

eigh, for a symmetric H = V diag(w) Vᵀ (column n of V is the eigenvector ψ_n):

    dw_n = ψ_nᵀ dH ψ_n                                    (Hellmann-Feynman)
    dψ_n = Σ_{m≠n} ψ_m (ψ_mᵀ dH ψ_n) / (w_n - w_m)        (first-order perturbation theory)

solve, x = A⁻¹ b:   dx = A⁻¹ (db - dA x);   b̄ = A⁻ᵀ x̄,   Ā = -b̄ xᵀ.
"""

from __future__ import annotations

import operator
import warnings

import numpy as np

from ad_engine.linalg_rules import DEGENERACY_TOLERANCE, read_triangle, real_only, triangle_gradient
from ad_engine.numpy_rules import swap_last_axes
from ad_engine.rules import (
    PRIMITIVES,
    Traced,
    defprimitive,
    fit,
    full_tangent,
    implements,
    shape_of,
    value_of,
)

EighResult = type(np.linalg.eigh(np.eye(1)))  # numpy's named tuple (eigenvalues, eigenvectors)

# -- eigh ------------------------------------------------------------------------------
# One primitive with one output: the eigenvalues stacked on top of the eigenvectors,
# an (n + 1, n) array (row 0: w; rows 1..n: V). ``eigh`` below splits it, so the engine's
# one-output nodes carry both results and their adjoints meet in one node.

def _eigh_packed(a, uplo):
    if isinstance(a, Traced):  # the value part of a nested derivative: one level down
        return PRIMITIVES["eigh"](a, uplo)
    if np.ndim(a) != 2 or np.shape(a)[0] != np.shape(a)[1]:
        raise ValueError(f"np.linalg.eigh of a Dual or Variable needs one square matrix, got "
                         f"shape {np.shape(a)}; for a stack of matrices, call it on each: "
                         f"np.stack([np.linalg.eigh(m)[0] for m in a])")
    w, v = np.linalg.eigh(a, UPLO=uplo)
    return np.concatenate([w[None, :], v], axis=0)


def _gap_factors(w, check=None):
    """F[m, n] = 1 / (w_n - w_m) for m != n and 0 on the diagonal (w sorted ascending).

    ``check(degenerate)`` is called with the boolean matrix of pairs m != n whose
    gap is below DEGENERACY_TOLERANCE times the spectrum's scale; their F is nan.
    """
    values = value_of(w)
    n = len(values)
    gaps = values[None, :] - values[:, None]
    scale = max(np.max(np.abs(values)), np.finfo(float).tiny)
    degenerate = (np.abs(gaps) <= DEGENERACY_TOLERANCE * scale) & ~np.eye(n, dtype=bool)
    if check is not None and degenerate.any():
        check(degenerate)
    usable = ~np.eye(n, dtype=bool) & ~degenerate
    fill = np.where(degenerate, np.nan, 0.0)  # 0 on the diagonal, nan at a degeneracy
    shift = (~usable).astype(float)  # no division by zero where the fill is taken
    return np.where(usable, 1.0 / (w[None, :] - w[:, None] + shift), fill)


def _pairs(degenerate):
    m, n = np.nonzero(np.triu(degenerate))
    return ", ".join(f"({i}, {j})" for i, j in zip(m, n))


def _warn_degenerate(degenerate):
    warnings.warn(
        f"eigh: degenerate eigenvalues (pairs {_pairs(degenerate)}): the tangent of their "
        "eigenvectors is nan (it divides by the gap w_n - w_m = 0); the eigenvalues' "
        "tangents are finite", RuntimeWarning, stacklevel=2)


def _eigh_jvp(tangent, ans, a, uplo):
    w, v = ans[0], ans[1:]
    da = read_triangle(full_tangent(tangent, a), uplo)  # the perturbation of what eigh reads
    projected = v.T @ da @ v  # <ψ_m| dH |ψ_n>
    dw = (v * (da @ v)).sum(axis=0)  # the diagonal of ``projected``: ψ_nᵀ dH ψ_n
    dv = v @ (_gap_factors(w, _warn_degenerate) * projected)
    return _stack(dw, dv)


def _stack(dw, dv):
    """[dw; dV] as one (n + 1, n) array. Each part is put in its place (np.concatenate, which
    also acts on Duals and Variables: a nested derivative), never multiplied by a zero: at a
    degeneracy dV holds nan, and 0 * nan in a padded product would make dw nan too."""
    return np.concatenate([dw[None, :], dv], axis=0)


def _eigh_vjp(adjoint, ans, a, uplo):
    w, v = ans[0], ans[1:]
    gw, gv = adjoint[0], adjoint[1:]
    inner = np.eye(len(value_of(w))) * gw[None, :]  # diag(w̄)
    if np.any(value_of(gv) != 0):  # the eigenvectors were used: the 1/(w_n - w_m) terms
        def refuse(degenerate):
            raise ValueError(
                f"eigh: the gradient of eigenvectors with degenerate eigenvalues (pairs "
                f"{_pairs(degenerate)}) is undefined: it divides by the gap w_n - w_m = 0. "
                "Differentiate only eigenvalues (or functions of the degenerate subspace "
                "that do not depend on its basis), or lift the degeneracy."
            )

        inner = inner + _gap_factors(w, refuse) * (v.T @ gv)
    gradient = v @ inner @ v.T  # dL/dH of the symmetric matrix eigh reads
    return triangle_gradient(0.5 * (gradient + gradient.T), uplo)


defprimitive("eigh", real_only(_eigh_packed, "np.linalg.eigh"), jvps=[_eigh_jvp, None],
             vjps=[_eigh_vjp, None])


@implements(np.linalg.eigh)
def eigh(a, UPLO="L"):
    """Return (w, V): eigenvalues (ascending) and orthonormal eigenvectors (columns) of the
    symmetric matrix ``a``, as ``np.linalg.eigh``, for arrays, Duals and Variables.

    As numpy, it reads one triangle of ``a`` only (``UPLO='L'``, the default: the lower
    one; ``'U'``: the upper one) and takes the matrix to be symmetric; the other triangle
    is ignored, so its entries get a derivative of zero. For a symmetric ``a`` built
    from parameters this is the same as differentiating eigh((a + aᵀ)/2).
    ``dw_n = ψ_nᵀ dH ψ_n`` (Hellmann-Feynman) and
    ``dψ_n = Σ_{m≠n} ψ_m (ψ_mᵀ dH ψ_n) / (w_n - w_m)``, dH the perturbation of the
    symmetric matrix read.

    Degenerate eigenvalues: the eigenvectors of a degenerate level are any
    orthonormal basis of its subspace, and their derivative divides by
    ``w_n - w_m = 0``. Reverse mode raises ValueError naming the degenerate pairs
    if the result depends on those eigenvectors; forward mode gives nan for their
    tangents with a RuntimeWarning. The eigenvalues' derivatives stay finite, but
    at a degeneracy they are ψ_nᵀ dA ψ_n in the basis LAPACK returned: their sum
    over the degenerate level is right, the individual values need not be (the
    sorted eigenvalues have a kink where levels cross).
    """
    if UPLO not in ("L", "U"):
        raise ValueError(f"eigh: UPLO must be 'L' or 'U', not {UPLO!r}")
    packed = PRIMITIVES["eigh"](a, UPLO)
    return EighResult(packed[0], packed[1:])


@implements(np.linalg.eigvalsh)
def eigvalsh(a, UPLO="L"):
    """The eigenvalues of eigh (ascending), with eigh's derivatives. numpy computes them with
    another LAPACK routine (no eigenvectors), so they can differ from numpy's in the last bits."""
    return eigh(a, UPLO)[0]


@implements(np.linalg.matrix_power)
def matrix_power(a, n):
    """a to the integer power n (inv(a) ** -n for n < 0), by numpy's own sequence of
    matrix products, so the value is numpy's bit for bit; n = 0 gives the identity."""
    n = operator.index(n)
    if n == 0:
        return np.broadcast_to(np.eye(shape_of(a)[-1]), shape_of(a)).copy()
    if n < 0:
        a, n = np.linalg.inv(a), -n
    if n <= 3:
        return a if n == 1 else a @ a if n == 2 else (a @ a) @ a
    power = result = None
    while n > 0:  # the bits of n from the lowest: a, a², a⁴, ... multiplied in where set
        power = a if power is None else power @ power
        n, bit = divmod(n, 2)
        if bit:
            result = power if result is None else result @ power
    return result


# -- solve -----------------------------------------------------------------------------

def _solve_value(a, b):
    if np.ndim(a) < 2 or np.shape(a)[-1] != np.shape(a)[-2] or np.ndim(b) < 1:
        raise ValueError(
            f"solve needs square matrices (a stack of them: shape (..., n, n)) and a vector or "
            f"matrices of right-hand sides, got shapes {np.shape(a)} and {np.shape(b)}")
    return np.linalg.solve(a, b)


# numpy's solve takes a 1-D b as one vector (solved against every matrix of a stack),
# any other b as (..., n, k) matrices; the rules work on matrices: a vector is a column.

def _as_columns(v, b):
    return v[..., None] if np.ndim(b) == 1 else v


def _from_columns(v, b):
    return v[..., 0] if np.ndim(b) == 1 else v


def _solve_vjp_b(g, ans, a, b):
    return fit(_from_columns(np.linalg.solve(swap_last_axes(a), _as_columns(g, b)), b), b)


def _solve_vjp_a(g, ans, a, b):
    gb = np.linalg.solve(swap_last_axes(a), _as_columns(g, b))
    return fit(-(gb @ swap_last_axes(_as_columns(ans, b))), a)


defprimitive(
    "solve", _solve_value, numpy=np.linalg.solve,
    jvps=[lambda t, ans, a, b: -_from_columns(
              np.linalg.solve(a, full_tangent(t, a) @ _as_columns(ans, b)), b),
          lambda t, ans, a, b: _from_columns(
              np.linalg.solve(a, _as_columns(full_tangent(t, b), b)), b)],
    vjps=[_solve_vjp_a, _solve_vjp_b],
)


def solve(a, b):
    """Return x with a @ x = b (``np.linalg.solve``) for arrays, Duals and Variables.

    ``a`` is a square matrix or a stack of them (shape (..., n, n)); ``b`` a vector (solved
    against each matrix) or matrices of right-hand sides (..., n, k), broadcast as numpy does.
    Derivatives: dx = a⁻¹ (db - da x); gradients b̄ = a⁻ᵀ x̄ and ā = -b̄ xᵀ.
    """
    return PRIMITIVES["solve"](a, b)
