"""Primitives of linear algebra: einsum (which also gives tensordot and N-D dot), inv,
det, slogdet, the SVD, cholesky, pinv.

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
from ad_engine.rules import (
    PRIMITIVES,
    defprimitive,
    fit,
    full_tangent,
    implements,
    plain,
    shape_of,
    value_of,
)


def real_only(function, name):
    """``function`` refusing a complex matrix: the rules of ``name`` are written for real
    matrices (transposes where a complex matrix needs conjugate transposes)."""
    def evaluate(a, *args):
        if np.iscomplexobj(a):
            raise NotImplementedError(
                f"{name} of a complex matrix has no derivative rule here, in either mode (its "
                f"rule is written for real matrices); write the problem with real matrices "
                f"(a Hermitian A + iB has the eigenvalues of the real symmetric [[A, -B], [B, A]], "
                f"each twice)")
        return function(a, *args)

    return evaluate


# -- einsum: linear in each operand -----------------------------------------------------
# The derivative along operand k is einsum with the tangent in its place; the
# adjoint of operand k is einsum of the output's adjoint with the other operands,
# back to operand k's subscripts. Two cases need a constant operand more: a
# letter repeated in operand k ("ii", a diagonal) gets a fresh letter and an
# identity matrix tying the two; a letter only operand k has (summed over in
# the output, e.g. "ij->i") gets a vector of ones.

MAX_EINSUM_OPERANDS = 8
DEGENERACY_TOLERANCE = 1e-10  # relative gap below which two eigen- or singular values are equal


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
defprimitive("inv", np.linalg.inv, numpy=np.linalg.inv,
             jvps=[lambda t, ans, a: -(ans @ full_tangent(t, a) @ ans)],
             vjps=[lambda g, ans, a: -(swap_last_axes(ans) @ g @ swap_last_axes(ans))])

def _cofactors(ans, a):
    """The cofactor matrix C of each matrix a (ans = det a): d det A = sum(C * dA).
    C = det A · A^-T where every A is well inside the invertible ones; at or near a singular
    matrix, where A^-1 does not exist or is dominated by round-off (LAPACK's det of a singular
    matrix is 0 or a few ulps, depending on the BLAS kernel) but the derivative exists,
    C_ij = (-1)^(i+j) det(A without row i and column j)."""
    values = value_of(a)
    hadamard = np.prod(np.linalg.norm(values, axis=-1), axis=-1)  # |det A| <= this bound
    if np.all(np.abs(value_of(ans)) > np.sqrt(np.finfo(float).eps) * hadamard):
        return _with_matrix_axes(ans) * _inverse_transposed(a)
    n = shape_of(a)[-1]
    if n == 1:
        return np.ones(shape_of(a))
    others = [[k for k in range(n) if k != i] for i in range(n)]
    return np.stack([np.stack([(-1) ** (i + j) * np.linalg.det(a[..., others[i], :][..., others[j]])
                               for j in range(n)], axis=-1) for i in range(n)], axis=-2)


# d det A = sum(C * dA) = det A tr(A^-1 dA);  d log|det A| = tr(A^-1 dA)
defprimitive("det", lambda a: plain(np.linalg.det(a)), numpy=np.linalg.det,
             jvps=[lambda t, ans, a: np.sum(_cofactors(ans, a) * t, axis=(-2, -1))],
             vjps=[lambda g, ans, a: _with_matrix_axes(g) * _cofactors(ans, a)])
def _log_det_gradient(ans, a):
    """d log|det A| / dA = A^-T, which has no finite value at a singular A (log|det A| = -inf)."""
    if np.any(np.isneginf(value_of(ans))):
        raise np.linalg.LinAlgError(
            "np.linalg.slogdet: log|det A| is -inf at a singular matrix, and its derivative "
            "A^-T does not exist there; differentiate np.linalg.det (its derivative, the "
            "cofactor matrix, exists at a singular matrix) or move away from the singular point")
    return _inverse_transposed(a)


defprimitive("logabsdet", real_only(lambda a: plain(np.linalg.slogdet(a)[1]), "np.linalg.slogdet"),
             jvps=[lambda t, ans, a: np.sum(_log_det_gradient(ans, a) * t, axis=(-2, -1))],
             vjps=[lambda g, ans, a: _with_matrix_axes(g) * _log_det_gradient(ans, a)])


# -- the thin SVD A = U diag(s) V^T, as numpy computes it -------------------------------
# Three primitives, one per factor, each evaluated by np.linalg.svd on A itself (never on
# A^T: the signs of the singular vectors would differ from numpy's). The rules are written
# for a tall matrix (m >= n); a wide A is handled as its transpose A^T = V S U^T, whose
# factors are (Vh^T, s, U). Each rule calls the three primitives on its argument, so that
# they nest. With dP = U^T dA V and F_ij = 1 / (s_j^2 - s_i^2) off the diagonal (distinct
# singular values), 0 on it:
#   ds = diag(dP)
#   dU = U (F o (dP S + S dP^T)) + (I - U U^T) dA V S^-1
#   dV = V (F o (S dP + dP^T S))
# and their transposes (Townsend, "Differentiating the singular value decomposition", 2016).

def _thin_svd(a):
    u, s, vh = np.linalg.svd(a, full_matrices=False)
    return u, s, vh


def _is_wide(a):
    rows, columns = np.shape(a)[-2:]
    return rows < columns


def _tall_factors(a):
    """(U, s, V) of the tall matrix a (or of a^T for a wide a) and whether a is wide."""
    u, s, vh = PRIMITIVES["svd_u"](a), PRIMITIVES["svd_s"](a, True), PRIMITIVES["svd_vh"](a)
    if _is_wide(a):
        return swap_last_axes(vh), s, u, True
    return u, s, swap_last_axes(vh), False


def _gaps(s, rows=0):
    """F_ij = 1 / (s_j^2 - s_i^2) for i != j, 0 on the diagonal. At repeated singular values
    (a relative gap below DEGENERACY_TOLERANCE), or for U of a tall matrix (``rows`` > n) at a
    zero singular value (its term dA V S^-1), the singular vectors have no derivative: refused."""
    values = value_of(s)
    squares = values * values
    scale = max(float(np.max(squares, initial=0.0)), np.finfo(float).tiny)
    n = np.shape(values)[-1]
    repeated = (np.abs(squares[..., None, :] - squares[..., :, None])
                <= DEGENERACY_TOLERANCE * scale) & ~np.eye(n, dtype=bool)
    if repeated.any():
        pairs = ", ".join(f"({i}, {j})" for i, j in zip(*np.nonzero(np.triu(
            np.logical_or.reduce(repeated.reshape(-1, n, n), axis=0)))))
        where = f"at repeated singular values (pairs {pairs})"
    elif rows > n and np.any(squares <= DEGENERACY_TOLERANCE * scale):
        where = "in U at a zero singular value of a tall matrix (rank below n)"
    else:
        where = None
    if where:
        raise np.linalg.LinAlgError(
            f"np.linalg.svd: the singular vectors {where} have no derivative: any rotation of "
            f"them is an SVD, and their derivative divides by s_j² - s_i² = 0 or by s = 0; "
            f"differentiate the singular values alone (np.linalg.svd(x, compute_uv=False), "
            f"first order), or move away from the degeneracy")
    eye = np.eye(n)
    squares = s * s
    return (1.0 - eye) / (squares[..., None, :] - squares[..., :, None] + eye)


def _projected_tangent(t, a):
    """(U, s, V, wide, dA, dP = U^T dA V) of the tall problem (a, or a^T if a is wide)."""
    u, s, v, wide = _tall_factors(a)
    da = full_tangent(t, a)
    if wide:
        da = swap_last_axes(da)
    return u, s, v, wide, da, swap_last_axes(u) @ da @ v


def _u_tangent(u, s, v, da, dp):
    """dU of the tall problem."""
    inner = _gaps(s, shape_of(u)[-2]) * (dp * s[..., None, :] + s[..., :, None] * swap_last_axes(dp))
    projector = np.eye(np.shape(u)[-2]) - u @ swap_last_axes(u)
    return u @ inner + projector @ da @ v / s[..., None, :]


def _v_tangent(s, v, dp):
    """dV of the tall problem."""
    return v @ (_gaps(s) * (s[..., :, None] * dp + swap_last_axes(dp) * s[..., None, :]))


def _svd_s_jvp(t, ans, a):
    """ds = diag(U^T dA V): no singular vector's tangent (which needs distinct values)."""
    dp = _projected_tangent(t, a)[-1]
    return np.sum(dp * np.eye(shape_of(dp)[-1]), axis=-1)


def _svd_u_jvp(t, ans, a):
    u, s, v, wide, da, dp = _projected_tangent(t, a)
    return _v_tangent(s, v, dp) if wide else _u_tangent(u, s, v, da, dp)


def _svd_vh_jvp(t, ans, a):
    u, s, v, wide, da, dp = _projected_tangent(t, a)
    return swap_last_axes(_u_tangent(u, s, v, da, dp) if wide else _v_tangent(s, v, dp))


def _u_cotangent(gu, u, s, v):
    """dL/dA of the tall problem for dL/dU = gu."""
    ut_g = swap_last_axes(u) @ gu
    inner = (_gaps(s, shape_of(u)[-2]) * (ut_g - swap_last_axes(ut_g))) * s[..., None, :]
    projector = np.eye(np.shape(u)[-2]) - u @ swap_last_axes(u)
    return (u @ inner + projector @ gu / s[..., None, :]) @ swap_last_axes(v)


def _v_cotangent(gv, u, s, v):
    """dL/dA of the tall problem for dL/dV = gv."""
    vt_gv = swap_last_axes(v) @ gv
    inner = s[..., :, None] * (_gaps(s) * (vt_gv - swap_last_axes(vt_gv)))
    return u @ inner @ swap_last_axes(v)


def _svd_s_vjp(g, ans, a):
    u, s, v, wide = _tall_factors(a)
    gradient = (u * g[..., None, :]) @ swap_last_axes(v)
    return swap_last_axes(gradient) if wide else gradient


def _svd_u_vjp(g, ans, a):
    u, s, v, wide = _tall_factors(a)
    if wide:  # numpy's U is V of a^T
        return swap_last_axes(_v_cotangent(g, u, s, v))
    return _u_cotangent(g, u, s, v)


def _svd_vh_vjp(g, ans, a):
    u, s, v, wide = _tall_factors(a)
    if wide:  # numpy's Vh is U^T of a^T
        return swap_last_axes(_u_cotangent(swap_last_axes(g), u, s, v))
    return _v_cotangent(swap_last_axes(g), u, s, v)


# svd_s(a, vectors): LAPACK computes s alone (vectors=False, np.linalg.svd(a, compute_uv=False))
# by another path than with the vectors: each as numpy does, to the last bit
defprimitive("svd_s", real_only(lambda a, vectors: np.linalg.svd(a, compute_uv=vectors)[1]
                                 if vectors else np.linalg.svd(a, compute_uv=False),
                                 "np.linalg.svd"),
             jvps=[lambda t, ans, a, vectors: _svd_s_jvp(t, ans, a), None],
             vjps=[lambda g, ans, a, vectors: _svd_s_vjp(g, ans, a), None])
defprimitive("svd_u", real_only(lambda a: _thin_svd(a)[0], "np.linalg.svd"), jvps=[_svd_u_jvp], vjps=[_svd_u_vjp])
defprimitive("svd_vh", real_only(lambda a: _thin_svd(a)[2], "np.linalg.svd"), jvps=[_svd_vh_jvp], vjps=[_svd_vh_vjp])


# -- one triangle of a symmetric matrix --------------------------------------------------
# np.linalg.eigh and np.linalg.cholesky read one triangle of their argument (the lower one,
# or the upper one on request) and take the matrix to be symmetric: the other triangle is
# never read, so it has no derivative. Their rules see the symmetric H that is read.

def read_triangle(m, uplo):
    """The symmetric matrix (or stack) that eigh and cholesky see in ``m``: its lower (uplo
    'L') or upper ('U') triangle, mirrored. Linear in m, so it also maps a tangent dA to
    the dH they see."""
    part = np.tril(m) if uplo == "L" else np.triu(m)
    strict = np.tril(m, -1) if uplo == "L" else np.triu(m, 1)
    return part + swap_last_axes(strict)


def triangle_gradient(g, uplo):
    """The transpose of ``read_triangle``: dL/dA for dL/dH = g (g symmetric): g_ij + g_ji on
    the triangle read, g_ii on the diagonal, 0 on the triangle that is ignored."""
    both = g + swap_last_axes(g)
    diagonal = np.eye(shape_of(g)[-1]) * g
    return (np.tril(both) if uplo == "L" else np.triu(both)) - diagonal


# -- Cholesky factor L of a symmetric positive definite H = L L^T (U = L^T with upper=True) -
# dL = L phi(L^-1 dH L^-T), phi: the lower triangle with half the diagonal; H is the
# symmetric matrix read from one triangle of the argument (read_triangle).

def _phi(x):
    return np.tril(x) * (1.0 - 0.5 * np.eye(np.shape(x)[-1]))


def _lower_factor(ans, upper):
    return swap_last_axes(ans) if upper else ans


def _cholesky_jvp(t, ans, a, upper):
    lower = _lower_factor(ans, upper)
    inverse = np.linalg.inv(lower)
    dh = read_triangle(full_tangent(t, a), "U" if upper else "L")
    dl = lower @ _phi(inverse @ dh @ swap_last_axes(inverse))
    return swap_last_axes(dl) if upper else dl


def _cholesky_vjp(g, ans, a, upper):
    lower = _lower_factor(ans, upper)
    inverse = np.linalg.inv(lower)
    s = swap_last_axes(inverse) @ _phi(swap_last_axes(lower) @ _lower_factor(g, upper)) @ inverse
    return triangle_gradient(0.5 * (s + swap_last_axes(s)), "U" if upper else "L")


@implements(np.linalg.cholesky)
def cholesky(a, /, *, upper=False):
    """np.linalg.cholesky: L (or U = L^T with upper=True) of the symmetric matrix read from
    the lower (upper) triangle of ``a``; the other triangle is ignored, as numpy ignores it."""
    return PRIMITIVES["cholesky"](a, bool(upper))


defprimitive(
    "cholesky", real_only(lambda a, upper: np.linalg.cholesky(a, upper=upper), "np.linalg.cholesky"),
    jvps=[_cholesky_jvp, None], vjps=[_cholesky_vjp, None])


# -- pseudo-inverse P = A^+ (full rank; Golub and Pereyra 1973) --------------------------
# dP = -P dA P + P P^T dA^T (I - A P) + (I - P A) dA^T P^T P, for a constant rank. Below full
# rank (rank < min(m, n)) almost every perturbation raises the rank and P jumps: no derivative.

def _full_rank_projector(ans, a, function):
    """A P, after checking that ``a`` has full rank as numpy's pinv saw it (the trace of the
    projector A P is the rank that numpy's cutoff of the singular values kept)."""
    projector = a @ ans
    values = value_of(projector)
    rank = np.rint(np.trace(values, axis1=-2, axis2=-1))
    if np.any(rank < min(shape_of(a)[-2:])):
        raise np.linalg.LinAlgError(
            f"{function}: at a matrix of rank {int(np.min(rank))}, below min(m, n), the "
            f"pseudo-inverse jumps (almost every perturbation raises the rank), so it has no "
            f"derivative; differentiate at a matrix of full rank (a least-squares fit with "
            f"independent columns), or drop the dependent rows or columns first")
    return projector


def _pinv_jvp(t, ans, a):
    p, da = ans, swap_last_axes(full_tangent(t, a))
    left = np.eye(np.shape(a)[-2]) - _full_rank_projector(ans, a, "np.linalg.pinv")
    right = np.eye(np.shape(a)[-1]) - p @ a
    return (-(p @ swap_last_axes(da) @ p) + p @ swap_last_axes(p) @ da @ left
            + right @ da @ swap_last_axes(p) @ p)


def _pinv_vjp(g, ans, a):
    p, gt = ans, swap_last_axes(g)
    left = np.eye(np.shape(a)[-2]) - _full_rank_projector(ans, a, "np.linalg.pinv")
    right = np.eye(np.shape(a)[-1]) - p @ a
    pt = swap_last_axes(p)
    return -(pt @ g @ pt) + left @ gt @ p @ pt + pt @ p @ gt @ right


# pinv(a, options): numpy's pinv with its keyword arguments (rcond, hermitian, rtol) as a tuple
# of (name, value) pairs, a constant of the primitive
defprimitive("pinv", real_only(lambda a, options: np.linalg.pinv(a, **dict(options)),
                               "np.linalg.pinv"),
             jvps=[lambda t, ans, a, options: _pinv_jvp(t, ans, a), None],
             vjps=[lambda g, ans, a, options: _pinv_vjp(g, ans, a), None])


@implements(np.linalg.pinv)
def pinv(a, rcond=None, hermitian=False, **rtol):
    """np.linalg.pinv of a matrix of full rank (or a stack of them), with numpy's arguments.
    With hermitian=True numpy reads only the lower triangle (through eigh): the rule sees the
    symmetric matrix read from it, which has the same lower triangle, so numpy's value."""
    if hermitian:
        a = read_triangle(a, "L")
    return PRIMITIVES["pinv"](a, (("rcond", rcond), ("hermitian", hermitian), *rtol.items()))
