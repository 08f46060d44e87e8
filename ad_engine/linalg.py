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


def _degenerate_pairs(w):
    """The boolean matrix of pairs m != n whose gap w_n - w_m is below DEGENERACY_TOLERANCE
    times the spectrum's scale (w sorted ascending)."""
    values = value_of(w)
    scale = max(np.max(np.abs(values)), np.finfo(float).tiny)
    gaps = np.abs(values[None, :] - values[:, None])
    return (gaps <= DEGENERACY_TOLERANCE * scale) & ~np.eye(len(values), dtype=bool)


def _gap_factors(w, degenerate, fill):
    """F[m, n] = 1 / (w_n - w_m) for m != n, 0 on the diagonal, ``fill`` at the ``degenerate``
    pairs (where the gap is 0)."""
    usable = ~np.eye(len(value_of(w)), dtype=bool) & ~degenerate
    filled = np.where(degenerate, fill, 0.0)
    shift = (~usable).astype(float)  # no division by zero where the fill is taken
    return np.where(usable, 1.0 / (w[None, :] - w[:, None] + shift), filled)


def _pairs(degenerate):
    m, n = np.nonzero(np.triu(degenerate))
    return ", ".join(f"({i}, {j})" for i, j in zip(m, n))


def _warn_degenerate(degenerate):
    warnings.warn(
        f"eigh: degenerate eigenvalues (pairs {_pairs(degenerate)}): the tangent of their "
        "eigenvectors is nan (it divides by the gap w_n - w_m = 0); the level's eigenvalues "
        "have a kink there, and their tangents are the derivatives along +t (the eigenvalues of "
        "the level's block of the perturbation): one-sided each, exact for their sum",
        RuntimeWarning, stacklevel=2)


def _eigh_jvp(tangent, ans, a, uplo):
    w, v = ans[0], ans[1:]
    da = read_triangle(full_tangent(tangent, a), uplo)  # the perturbation of what eigh reads
    projected = v.T @ da @ v  # <ψ_m| dH |ψ_n>
    dw = (v * (da @ v)).sum(axis=0)  # the diagonal of ``projected``: ψ_nᵀ dH ψ_n
    degenerate = _degenerate_pairs(w)
    if degenerate.any():
        _warn_degenerate(degenerate)
        dw = _level_tangents(dw, projected, degenerate)
    dv = v @ (_gap_factors(w, degenerate, np.nan) * projected)
    return _stack(dw, dv)


def _level_tangents(dw, projected, degenerate):
    """dw with each degenerate level's entries replaced by the eigenvalues of the level's block
    of ``projected`` (ascending): the derivatives of the sorted eigenvalues along +t, whatever
    basis of the level LAPACK returned (ψ_nᵀ dA ψ_n depends on it; the block's trace does not)."""
    n, pieces, start = len(degenerate), [], 0
    while start < n:
        end = start + 1
        while end < n and degenerate[end - 1, end]:  # sorted: a level is a run of indices
            end += 1
        pieces.append(dw[start:end] if end == start + 1
                      else np.linalg.eigvalsh(projected[start:end, start:end]))
        start = end
    return np.concatenate(pieces)


def _stack(dw, dv):
    """[dw; dV] as one (n + 1, n) array. Each part is put in its place (np.concatenate, which
    also acts on Duals and Variables: a nested derivative), never multiplied by a zero: at a
    degeneracy dV holds nan, and 0 * nan in a padded product would make dw nan too."""
    return np.concatenate([dw[None, :], dv], axis=0)


def _eigh_vjp(adjoint, ans, a, uplo):
    w, v = ans[0], ans[1:]
    gw, gv = adjoint[0], adjoint[1:]
    degenerate = _degenerate_pairs(w)
    if degenerate.any():
        _refuse_what_depends_on_the_basis(degenerate, value_of(gw), value_of(gv))
    inner = np.eye(len(value_of(w))) * gw[None, :]  # diag(w̄)
    if np.any(value_of(gv) != 0):  # the eigenvectors were used: the 1/(w_n - w_m) terms
        # a degenerate pair's term is 0: neither of its eigenvectors was used (refused above)
        inner = inner + _gap_factors(w, degenerate, 0.0) * (v.T @ gv)
    gradient = v @ inner @ v.T  # dL/dH of the symmetric matrix eigh reads
    return triangle_gradient(0.5 * (gradient + gradient.T), uplo)


def _refuse_what_depends_on_the_basis(degenerate, gw, gv):
    """At a degenerate level (pairs m, n) numpy returns one basis of the level's subspace out
    of many, and the sorted eigenvalues have a kink where the levels cross: a result that uses
    an eigenvector of the level, or its eigenvalues with different weights (w[0] alone), has
    no derivative. What does not use them (the other levels' eigenvectors, the level's
    eigenvalues with one weight: their sum) has one, and is differentiated."""
    m, n = np.nonzero(np.triu(degenerate))
    pairs = _pairs(degenerate)
    if np.any(gv[:, m] != 0) or np.any(gv[:, n] != 0):
        raise ValueError(
            f"eigh: the gradient of eigenvectors with degenerate eigenvalues (pairs {pairs}) is "
            "undefined: numpy returns one basis of the level out of many, and the derivative "
            "divides by the gap w_n - w_m = 0. Use the eigenvalues, or the eigenvectors of the "
            "other levels, or lift the degeneracy. (A function of the level that does not depend "
            "on its basis, such as its projector, has a derivative, but this rule cannot tell it "
            "from one that does. A derivative of a derivative that passes through eigh meets "
            "the eigenvectors too, even for eigenvalues only: a second derivative at a "
            "degenerate level is refused.)")
    scale = max(float(np.max(np.abs(gw))), np.finfo(float).tiny)
    if np.any(np.abs(gw[m] - gw[n]) > 1e-8 * scale):
        raise ValueError(
            f"eigh: the eigenvalues of a degenerate level (pairs {pairs}) have no derivative one "
            "by one: sorted, they have a kink where the levels cross, and each one's derivative "
            "depends on the basis numpy returned. Differentiate a function that weighs the "
            "level's eigenvalues alike (their sum, or np.sum(w**2) over all of them) from one "
            "eigh call (two calls each see one eigenvalue of the level alone), or lift the "
            "degeneracy; forward mode (ad.jvp) gives the one-sided derivatives along +t.")


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
    ``w_n - w_m = 0``; sorted, the level's eigenvalues have a kink where the levels
    cross. Reverse mode raises ValueError naming the degenerate pairs if the result
    uses an eigenvector of the level, or weighs its eigenvalues differently (``w[0]``
    alone); the other levels' eigenvectors and the level's eigenvalues weighed alike
    (their sum) are differentiated. Forward mode, which cannot see how the result is
    used, gives nan for the tangents of the level's eigenvectors with a RuntimeWarning,
    and for its eigenvalues the derivatives along +t, the eigenvalues of the level's block
    of the perturbation (one-sided each; their sum is exact). Second derivatives at a
    degenerate level are refused (they pass through the eigenvectors).
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
