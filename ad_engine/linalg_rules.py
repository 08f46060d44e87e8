"""Primitives of linear algebra: einsum (which also gives tensordot, N-D dot and trace),
inv, det, slogdet, singular values, cholesky, pinv.

Every jvp and vjp is written with numpy calls that dispatch (@, *, np.einsum,
np.linalg.inv...) on the primitive's own output and arguments, so that a traced
argument or adjoint (a second derivative, any mode over any mode) is traced
through them. The formulas are the standard ones (Giles, "An extended
collection of matrix derivative results", 2008; autograd's numpy_vjps).
"""

from __future__ import annotations

import string

import numpy as np

from ad_engine.numpy_rules import swap_last_axes
from ad_engine.rules import defprimitive, fit, full_tangent, plain, value_of

# -- einsum: linear in each operand -----------------------------------------------------
# The derivative along operand k is einsum with the tangent in its place; the
# adjoint of operand k is einsum of the output's adjoint with the other operands,
# back to operand k's subscripts. Two cases need a constant operand more: a
# letter repeated in operand k ("ii", a diagonal) gets a fresh letter and an
# identity matrix tying the two; a letter only operand k has (summed over in
# the output, e.g. "ij->i") gets a vector of ones.

MAX_EINSUM_OPERANDS = 8


def parse_einsum(subscripts, count):
    """The explicit form (inputs, output) of einsum's ``subscripts`` for ``count`` operands."""
    subscripts = subscripts.replace(" ", "")
    if "." in subscripts:
        raise NotImplementedError("np.einsum with '...' is not supported on Duals and "
                                  "Variables; write every axis with a letter")
    inputs, arrow, output = subscripts.partition("->")
    inputs = inputs.split(",")
    if len(inputs) != count:
        raise ValueError(f"np.einsum: {subscripts!r} names {len(inputs)} operands, got {count}")
    if not arrow:  # implicit output: the letters that appear once, in alphabetical order
        letters = "".join(inputs)
        output = "".join(sorted(c for c in set(letters) if letters.count(c) == 1))
    return inputs, output


def _einsum_jvp(k):
    def jvp(t, ans, subscripts, *operands):
        operands = list(operands)
        operands[k] = full_tangent(t, operands[k])
        return np.einsum(subscripts, *operands)

    return jvp


def _einsum_vjp(k):
    def vjp(g, ans, subscripts, *operands):
        inputs, output = parse_einsum(subscripts, len(operands))
        others = [s for j, s in enumerate(inputs) if j != k]
        present = set(output).union(*others)
        fresh = iter(c for c in string.ascii_letters if c not in subscripts)
        target, extra_subscripts, extras = "", [], []
        for letter, size in zip(inputs[k], np.shape(operands[k])):
            if letter in target:  # a diagonal: a fresh letter tied to it by the identity
                new = next(fresh)
                extra_subscripts.append(letter + new)
                extras.append(np.eye(size))
                letter = new
            elif letter not in present:  # summed over in operand k alone
                extra_subscripts.append(letter)
                extras.append(np.ones(size))
            target += letter
        spec = ",".join([output, *others, *extra_subscripts]) + "->" + target
        other_operands = [op for j, op in enumerate(operands) if j != k]
        return fit(plain(np.einsum(spec, g, *other_operands, *extras)), operands[k])

    return vjp


defprimitive("einsum", lambda subscripts, *operands: plain(np.einsum(subscripts, *operands)),
             jvps=[None] + [_einsum_jvp(k) for k in range(MAX_EINSUM_OPERANDS)],
             vjps=[None] + [_einsum_vjp(k) for k in range(MAX_EINSUM_OPERANDS)])


# -- inverse, determinant ------------------------------------------------------------------

def _with_matrix_axes(y):
    """y (one number per matrix) with two axes of length 1 appended: it broadcasts
    against the matrices."""
    return np.reshape(y, np.shape(y) + (1, 1))


def _inverse_transposed(a):
    return swap_last_axes(np.linalg.inv(a))


# d(A^-1) = -A^-1 dA A^-1
defprimitive("inv", np.linalg.inv,
             jvps=[lambda t, ans, a: -(ans @ full_tangent(t, a) @ ans)],
             vjps=[lambda g, ans, a: -(swap_last_axes(ans) @ g @ swap_last_axes(ans))])

# d det A = det A tr(A^-1 dA);  d log|det A| = tr(A^-1 dA)
defprimitive("det", lambda a: plain(np.linalg.det(a)),
             jvps=[lambda t, ans, a: ans * np.sum(_inverse_transposed(a) * t, axis=(-2, -1))],
             vjps=[lambda g, ans, a: _with_matrix_axes(g * ans) * _inverse_transposed(a)])
defprimitive("logabsdet", lambda a: plain(np.linalg.slogdet(a)[1]),
             jvps=[lambda t, ans, a: np.sum(_inverse_transposed(a) * t, axis=(-2, -1))],
             vjps=[lambda g, ans, a: _with_matrix_axes(g) * _inverse_transposed(a)])


# -- singular values: d s_k = u_k^T dA v_k (distinct, nonzero singular values) ------------

def _singular_vectors(a):
    """U and V^T of the thin SVD of the plain matrix ``a`` (the vectors are constants to
    this rule: a traced ``a``, i.e. a second derivative, would need their derivatives)."""
    if a is not value_of(a) or np.iscomplexobj(a):
        raise NotImplementedError(
            "np.linalg.svd: only first derivatives of the singular values of a real matrix "
            "are supported (second derivatives need the derivatives of the singular vectors)"
        )
    u, _, vh = np.linalg.svd(a, full_matrices=False)
    return u, vh


def _singular_values_jvp(t, ans, a):
    u, vh = _singular_vectors(a)
    return np.sum(u * (full_tangent(t, a) @ swap_last_axes(vh)), axis=-2)


def _singular_values_vjp(g, ans, a):
    u, vh = _singular_vectors(a)
    return (u * g[..., None, :]) @ vh


defprimitive("singular_values", lambda a: np.linalg.svd(a, compute_uv=False),
             jvps=[_singular_values_jvp], vjps=[_singular_values_vjp])


# -- Cholesky factor L of a symmetric positive definite A = L L^T -------------------------
# dL = L phi(L^-1 dA L^-T), phi: the lower triangle with half the diagonal. The vjp
# reads the symmetric part of its result (cholesky reads one triangle of A only).

def _phi(x):
    return np.tril(x) * (1.0 - 0.5 * np.eye(np.shape(x)[-1]))


def _cholesky_jvp(t, ans, a):
    inverse = np.linalg.inv(ans)
    return ans @ _phi(inverse @ full_tangent(t, a) @ swap_last_axes(inverse))


def _cholesky_vjp(g, ans, a):
    inverse = np.linalg.inv(ans)
    s = swap_last_axes(inverse) @ _phi(swap_last_axes(ans) @ g) @ inverse
    return 0.5 * (s + swap_last_axes(s))


defprimitive("cholesky", np.linalg.cholesky, jvps=[_cholesky_jvp], vjps=[_cholesky_vjp])


# -- pseudo-inverse P = A^+ (constant rank; Golub and Pereyra 1973) ----------------------
# dP = -P dA P + P P^T dA^T (I - A P) + (I - P A) dA^T P^T P

def _pinv_jvp(t, ans, a):
    p, da = ans, swap_last_axes(full_tangent(t, a))
    left = np.eye(np.shape(a)[-2]) - a @ p
    right = np.eye(np.shape(a)[-1]) - p @ a
    return (-(p @ swap_last_axes(da) @ p) + p @ swap_last_axes(p) @ da @ left
            + right @ da @ swap_last_axes(p) @ p)


def _pinv_vjp(g, ans, a):
    p, gt = ans, swap_last_axes(g)
    left = np.eye(np.shape(a)[-2]) - a @ p
    right = np.eye(np.shape(a)[-1]) - p @ a
    pt = swap_last_axes(p)
    return -(pt @ g @ pt) + left @ gt @ p @ pt + pt @ p @ gt @ right


defprimitive("pinv", np.linalg.pinv, jvps=[_pinv_jvp], vjps=[_pinv_vjp])
