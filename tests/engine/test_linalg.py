"""eigh and solve in both modes: against central differences, Hellmann-Feynman,
first-order perturbation theory, and nested (second) derivatives."""

import warnings

import numpy as np
import pytest

import autodiff_helpers as ad


def symmetric_split(rng, n=4):
    """A symmetric matrix with eigenvalues about 3 apart (the eigenvector derivative
    divides by the gaps)."""
    a = rng.uniform(-0.5, 0.5, (n, n))
    return 0.5 * (a + a.T) + np.diag(3.0 * np.arange(n))


def numerical_matrix_gradient(f, a, h=1e-6):
    """Central differences of a scalar f over every entry of the matrix a."""
    return ad.numerical_gradient(lambda flat: f(flat.reshape(a.shape)), a.ravel(), h=h).reshape(a.shape)


def eigen_objective(weights_w, weights_v):
    """A scalar of eigenvalues and squared eigenvectors (the square removes the sign choice)."""
    def f(a):
        w, v = np.linalg.eigh(0.5 * (a + a.T))
        return np.sum(w * weights_w) + np.sum(v**2 * weights_v)
    return f


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_eigh_values_match_numpy_on_variables_and_duals(seed):
    a = symmetric_split(np.random.default_rng(seed))
    w, v = np.linalg.eigh(a)
    wv, vv = np.linalg.eigh(ad.Variable(a))
    wd, vd = ad.eigh(ad.Dual(a, np.zeros_like(a)))
    np.testing.assert_array_equal(wv.value, w)
    np.testing.assert_array_equal(vv.value, v)
    np.testing.assert_array_equal(wd.val, w)
    np.testing.assert_array_equal(vd.val, v)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_eigh_gradient_against_central_differences_both_modes(seed):
    rng = np.random.default_rng(seed)
    a = symmetric_split(rng)
    f = eigen_objective(rng.normal(size=4), rng.normal(size=(4, 4)))
    reference = numerical_matrix_gradient(f, a)
    gradient = ad.grad(f)(a)
    np.testing.assert_allclose(gradient, reference, rtol=1e-7, atol=1e-8)
    np.testing.assert_allclose(gradient, gradient.T, rtol=0, atol=1e-14)  # symmetric
    direction = rng.normal(size=(4, 4))
    _, tangent = ad.jvp(f, a, direction)
    assert tangent == pytest.approx(np.sum(reference * direction), rel=1e-7, abs=1e-8)


@pytest.mark.parametrize("mode", ["forward", "reverse"])
def test_eigh_eigenvalue_derivative_is_hellmann_feynman(mode):
    rng = np.random.default_rng(5)
    h0, h1 = symmetric_split(rng, 5), symmetric_split(rng, 5) - np.diag(3.0 * np.arange(5))
    theta = 0.3
    w, v = np.linalg.eigh(h0 + theta * h1)
    hellmann_feynman = np.einsum("in,ij,jn->n", v, h1, v)  # ψ_nᵀ (dH/dθ) ψ_n
    for n in range(5):
        def level(t, n=n):
            return np.linalg.eigh(h0 + t * h1)[0][n]
        slope = ad.derivative(level, theta) if mode == "forward" else ad.grad(level)(theta)
        assert slope == pytest.approx(hellmann_feynman[n], rel=1e-12, abs=1e-13)


def test_eigh_eigenvector_tangent_is_first_order_perturbation_theory():
    rng = np.random.default_rng(7)
    h0, h1 = symmetric_split(rng), rng.normal(size=(4, 4))
    h1 = h1 + h1.T
    w, v = np.linalg.eigh(h0)
    _, tangent = ad.jvp(lambda a: np.linalg.eigh(a)[1], h0, h1)
    coupling = v.T @ h1 @ v
    expected = np.zeros_like(v)
    for n in range(4):
        for m in range(4):
            if m != n:
                expected[:, n] += v[:, m] * coupling[m, n] / (w[n] - w[m])
    np.testing.assert_allclose(tangent, expected, rtol=1e-12, atol=1e-13)


def test_eigh_second_derivative_nested_modes():
    rng = np.random.default_rng(3)
    h0, h1, h2 = (symmetric_split(rng, 3) for _ in range(3))

    def f(x):
        w, v = np.linalg.eigh(h0 + x[0] * h1 + x[1] * x[1] * h2)
        return w[1] + v[0, 2] ** 2

    x = np.array([0.2, -0.4])
    hessian = ad.hessian(f, x)
    reference = np.column_stack([ad.numerical_gradient(lambda y, i=i: ad.grad(f)(y)[i], x)
                                 for i in range(2)])
    np.testing.assert_allclose(hessian, reference, rtol=1e-6, atol=1e-7)


def test_eigh_degenerate_levels():
    h = np.diag([1.0, 1.0, 2.0])
    # eigenvalues only: finite, and the degenerate level's trace is right (d tr/dH = I there);
    # the sum is taken in one call (two calls would each see one eigenvalue of the level alone)
    gradient = ad.grad(lambda a: np.sum(np.linalg.eigh(a)[0][:2]))(h)
    np.testing.assert_allclose(gradient, np.diag([1.0, 1.0, 0.0]), atol=1e-15)
    # eigenvectors of the degenerate level: a clear error in reverse mode
    with pytest.raises(ValueError, match=r"degenerate eigenvalues \(pairs \(0, 1\)\)"):
        ad.grad(lambda a: np.sum(np.linalg.eigh(a)[1] ** 3))(h)
    # forward mode: nan tangents for those eigenvectors, with a warning
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        _, tangent = ad.jvp(lambda a: np.linalg.eigh(a)[1], h, np.ones((3, 3)))
    assert any("degenerate" in str(w.message) for w in caught)
    assert np.isnan(tangent[:, :2]).all() and np.isfinite(tangent[:, 2]).all()
    # ... and still finite tangents for the eigenvalues, the same as reverse mode's
    level = lambda a: np.linalg.eigh(a)[0][0] + np.linalg.eigh(a)[0][1]  # noqa: E731
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        assert ad.jvp(level, h, np.ones((3, 3)))[1] == 2.0
        assert ad.derivative(lambda x: np.sum(np.linalg.eigh(np.eye(2) * x)[0] ** 2), 1.0) == 4.0


def _degenerate_matrix():
    """Q diag(1, 1, 3) Qᵀ with a random rotation Q: a doubly degenerate level, no zero entries."""
    q = np.linalg.qr(np.random.default_rng(3).normal(size=(3, 3)))[0]
    return q @ np.diag([1.0, 1.0, 3.0]) @ q.T


def test_eigh_at_a_degenerate_level_differentiates_what_does_not_depend_on_its_basis():
    """The other level's eigenvector and the level's eigenvalues weighed alike have a
    derivative at the degeneracy: reverse mode gives it (central differences agree). The
    old rule refused as soon as any eigenvector was used (tester33 §13)."""
    h, weights = _degenerate_matrix(), np.array([0.3, -1.2, 0.7])
    functions = {
        "the simple level's eigenvector": lambda a: np.sum(np.linalg.eigh(a)[1][:, 2] * weights) ** 2,
        "the level's eigenvalues weighed alike": lambda a: (
            3.0 * np.sum(np.linalg.eigh(a)[0][:2]) + np.linalg.eigh(a)[0][2] ** 2),
        "a symmetric function of all eigenvalues": lambda a: np.sum(np.linalg.eigh(a)[0] ** 3),
    }
    for name, f in functions.items():
        reference = numerical_matrix_gradient(f, h)
        np.testing.assert_allclose(ad.grad(f)(h), reference, atol=1e-7, err_msg=name)


def test_eigh_at_a_degenerate_level_refuses_what_has_no_derivative():
    """A degenerate level's eigenvalues one by one (w[0] alone: the sorted eigenvalues have a
    kink there), or its eigenvectors (numpy returns one basis out of many), have no derivative:
    refused, where the old rule returned w[0]'s derivative in LAPACK's basis without a word."""
    h = _degenerate_matrix()
    with pytest.raises(ValueError, match=r"eigenvalues of a degenerate level \(pairs \(0, 1\)\)"):
        ad.grad(lambda a: np.linalg.eigh(a)[0][0])(h)
    with pytest.raises(ValueError, match=r"eigenvalues of a degenerate level"):
        ad.grad(lambda a: np.linalg.eigh(a)[0][0] - 2.0 * np.linalg.eigh(a)[0][1])(h)
    with pytest.raises(ValueError, match=r"eigenvectors with degenerate eigenvalues \(pairs \(0, 1\)\)"):
        ad.grad(lambda a: np.sum(np.linalg.eigh(a)[1][:, 0] ** 4))(h)


def test_eigh_refuses_what_it_does_not_support():
    with pytest.raises(ValueError, match="square"):
        np.linalg.eigh(ad.Variable(np.ones((2, 3))))
    with pytest.raises(ValueError, match="UPLO must be 'L' or 'U'"):
        ad.eigh(ad.Variable(np.eye(2)), UPLO="X")


@pytest.mark.parametrize("uplo", ["L", "U"])
def test_eigh_of_a_non_symmetric_matrix_reads_one_triangle_as_numpy(uplo):
    """numpy's eigh reads one triangle: the other has no influence, so its gradient is 0,
    and the derivative is that of numpy's function, in both modes."""
    rng = np.random.default_rng(7)
    a = symmetric_split(rng, 3) + np.triu(rng.normal(size=(3, 3)), 1)  # not symmetric
    weights_w, weights_v = rng.normal(size=3), rng.normal(size=(3, 3))

    def f(m):
        w, v = np.linalg.eigh(m, UPLO=uplo)
        return np.sum(w * weights_w) + np.sum(v**2 * weights_v)

    reference = numerical_matrix_gradient(f, a)
    ignored = np.triu(np.ones((3, 3)), 1) if uplo == "L" else np.tril(np.ones((3, 3)), -1)
    np.testing.assert_array_equal(reference * ignored, 0.0)
    gradient = ad.grad(f)(a)
    np.testing.assert_allclose(gradient, reference, rtol=1e-7, atol=1e-8)
    np.testing.assert_array_equal(gradient * ignored, 0.0)
    direction = rng.normal(size=(3, 3))
    _, tangent = ad.jvp(f, a, direction)
    assert tangent == pytest.approx(np.sum(reference * direction), rel=1e-7, abs=1e-8)


@pytest.mark.parametrize("shape", [(3, 5), (5, 3), (2, 3, 4)])
def test_svd_under_tracing_gives_numpys_singular_vectors(shape):
    """The singular vectors' signs are numpy's choice: traced, the factors are the same
    arrays as numpy's, and the gradient is that of numpy's function (wide, tall, stacked)."""
    rng = np.random.default_rng(3)
    a = rng.normal(size=shape)
    u0, s0, vh0 = np.linalg.svd(a, full_matrices=False)
    weight_u, weight_vh = rng.normal(size=u0.shape), rng.normal(size=vh0.shape)

    def f(m):
        u, s, vh = np.linalg.svd(m, full_matrices=False)
        return np.sum(u * weight_u) + np.sum(s) + np.sum(vh * weight_vh)

    for make, value in [(ad.Variable, lambda x: x.value), (lambda x: ad.Dual(x, 0 * x), ad.Dual.primal.fget)]:
        u, s, vh = np.linalg.svd(make(a), full_matrices=False)
        np.testing.assert_array_equal(value(u), u0)
        np.testing.assert_array_equal(value(s), s0)
        np.testing.assert_array_equal(value(vh), vh0)
    reference = numerical_matrix_gradient(f, a)
    np.testing.assert_allclose(ad.grad(f)(a), reference, rtol=1e-6, atol=1e-8)
    direction = rng.normal(size=shape)
    assert ad.jvp(f, a, direction)[1] == pytest.approx(np.sum(reference * direction), rel=1e-6)


@pytest.mark.parametrize("rhs_shape", [(3,), (3, 2)])
def test_solve_gradient_both_arguments_both_modes(rhs_shape):
    rng = np.random.default_rng(11)
    a = rng.uniform(-1, 1, (3, 3)) + 3 * np.eye(3)
    b = rng.normal(size=rhs_shape)
    weight = rng.normal(size=rhs_shape)

    def f(a, b):
        return np.sum(np.linalg.solve(a, b) ** 2 * weight)

    np.testing.assert_allclose(np.linalg.solve(ad.Variable(a), b).value, np.linalg.solve(a, b))
    grad_a, grad_b = ad.grad(f, argnums=(0, 1))(a, b)
    np.testing.assert_allclose(grad_a, numerical_matrix_gradient(lambda m: f(m, b), a), rtol=1e-7)
    np.testing.assert_allclose(
        grad_b, numerical_matrix_gradient(lambda r: f(a, r.reshape(rhs_shape)), b.reshape(3, -1))
        .reshape(rhs_shape),
        rtol=1e-7)
    da, db = rng.normal(size=a.shape), rng.normal(size=rhs_shape)
    _, tangent = ad.jvp(f, (a, b), (da, db))
    assert tangent == pytest.approx(np.sum(grad_a * da) + np.sum(grad_b * db), rel=1e-12)


def test_solve_second_derivative_nested_modes():
    rng = np.random.default_rng(2)
    a0, a1 = rng.uniform(-1, 1, (3, 3)) + 3 * np.eye(3), rng.normal(size=(3, 3))
    b = rng.normal(size=3)

    def f(x):
        return np.sum(np.linalg.solve(a0 + x[0] * a1, b * x[1]) ** 2)

    x = np.array([0.1, 0.7])
    reference = np.column_stack([ad.numerical_gradient(lambda y, i=i: ad.grad(f)(y)[i], x)
                                 for i in range(2)])
    np.testing.assert_allclose(ad.hessian(f, x), reference, rtol=1e-6, atol=1e-8)


ROUNDED_RANK_2 = np.random.default_rng(0).normal(size=(3, 2)) @ np.random.default_rng(1).normal(size=(2, 3))


@pytest.mark.parametrize("a", [np.arange(1.0, 10.0).reshape(3, 3), np.zeros((3, 3)),
                               np.array([[1.0, 2.0], [2.0, 4.0]]), ROUNDED_RANK_2],
                         ids=["rank-2", "zero", "2x2-rank-1", "rank-2-det-a-few-ulps"])
def test_det_at_a_singular_matrix_has_the_cofactors_as_derivative(a):
    """d det A = sum(C * dA) with C the cofactor matrix, which exists where A^-1 does not;
    det(A + tV) is a polynomial in t, whose derivatives at t = 0 every nesting must give."""
    n = len(a)
    cofactors = np.array([[(-1) ** (i + j) * np.linalg.det(np.delete(np.delete(a, i, 0), j, 1))
                           for j in range(n)] for i in range(n)])
    np.testing.assert_allclose(ad.grad(np.linalg.det)(a), cofactors, atol=1e-12)
    v = np.arange(n * n).reshape(n, n) % 3 - 0.7 * np.eye(n)
    np.testing.assert_allclose(ad.jvp(np.linalg.det, a, v)[1], np.sum(cofactors * v), atol=1e-12)
    f = lambda t: np.linalg.det(a + t * v)  # noqa: E731
    ts = np.arange(n + 1.0) - 1
    polynomial = np.polynomial.Polynomial.fit(ts, [f(t) for t in ts], n).convert()
    second = polynomial.deriv(2)(0.0)
    for route in (lambda: ad.grad(ad.grad(f))(0.0), lambda: ad.derivative(ad.grad(f), 0.0),
                  lambda: ad.grad(lambda t: ad.derivative(f, t))(0.0),
                  lambda: ad.derivative(lambda s: ad.derivative(f, s), 0.0)):
        np.testing.assert_allclose(route(), second, atol=1e-10)


@pytest.mark.parametrize("mode", ["reverse", "forward"])
def test_slogdet_at_a_singular_matrix_is_refused_with_the_way_out(mode):
    a = np.array([[1.0, 2.0], [2.0, 4.0]])
    logabsdet = lambda m: np.linalg.slogdet(m)[1]  # noqa: E731
    with pytest.raises(np.linalg.LinAlgError, match=r"slogdet.*singular.*np\.linalg\.det"):
        ad.grad(logabsdet)(a) if mode == "reverse" else ad.jvp(logabsdet, a, np.eye(2))


@pytest.mark.parametrize("mode", ["reverse", "forward"])
@pytest.mark.parametrize("a", [np.outer([1.0, 2.0, -1.0], [0.5, -1.0, 2.0]), np.zeros((2, 3)),
                               np.array([[1.0, 2.0], [2.0, 4.0], [0.0, 0.0]])],
                         ids=["rank-1-square", "zero-wide", "rank-1-tall"])
def test_pinv_below_full_rank_is_refused_with_the_way_out(a, mode):
    """At a matrix of rank below min(m, n) the pseudo-inverse jumps (almost every perturbation
    raises the rank: entries of size 1/h), so it has no derivative; the constant-rank rule
    would give a finite number."""
    f = lambda x: np.sum(np.linalg.pinv(x) * np.arange(x.size).reshape(x.shape).T)  # noqa: E731
    with pytest.raises(np.linalg.LinAlgError, match=r"np\.linalg\.pinv.*rank.*full rank"):
        if mode == "reverse":
            ad.grad(f)(a)
        else:
            ad.jvp(f, a, np.ones(a.shape))


REPEATED = np.diag([2.0, 2.0, 1.0])  # the singular values 2, 2, 1
WEIGHTS = np.arange(9.0).reshape(3, 3) - 4.0


@pytest.mark.parametrize("mode", ["reverse", "forward"])
@pytest.mark.parametrize("factor", [0, 2])
def test_svd_vectors_at_repeated_singular_values_are_refused_with_the_way_out(factor, mode):
    """Their derivative divides by s_j² - s_i² = 0 (any rotation of the two vectors is an SVD):
    refused, naming the pairs, instead of nan from inside the rule."""
    f = lambda x: np.sum(np.linalg.svd(x)[factor] * WEIGHTS)  # noqa: E731
    with pytest.raises(np.linalg.LinAlgError, match=r"np\.linalg\.svd.*repeated.*\(0, 1\).*compute_uv=False"):
        ad.grad(f)(REPEATED) if mode == "reverse" else ad.jvp(f, REPEATED, WEIGHTS.T)


def test_second_derivative_through_repeated_singular_values_is_refused():
    """The nuclear norm's second derivative needs the singular vectors' derivative: refused
    at repeated singular values (it was nan, with numpy's divide-by-zero warnings)."""
    nuclear = lambda x: np.linalg.norm(x, "nuc")  # noqa: E731
    with pytest.raises(np.linalg.LinAlgError, match=r"np\.linalg\.svd.*repeated"):
        ad.jvp(ad.grad(nuclear), np.eye(3), WEIGHTS)


@pytest.mark.parametrize("a", [REPEATED, np.eye(3)], ids=["diag-2-2-1", "identity"])
def test_singular_values_alone_at_repeated_values_have_their_first_derivative(a):
    """The sum of the singular values (the nuclear norm of an invertible matrix) is smooth
    there: its gradient U Vᵀ in both modes, without a warning (the forward rule of s no longer
    computes the singular vectors' tangents, which divide by the zero gap)."""
    nuclear = lambda x: np.linalg.norm(x, "nuc")  # noqa: E731
    np.testing.assert_allclose(ad.grad(nuclear)(a), np.eye(3), atol=1e-14)
    np.testing.assert_allclose(ad.jvp(nuclear, a, WEIGHTS)[1], np.trace(WEIGHTS), atol=1e-13)


def test_eigh_forward_mode_gives_a_degenerate_levels_eigenvalues_their_derivatives_along_plus_t():
    """At a degenerate level each sorted eigenvalue has a kink; forward mode gives its
    derivative along +t, the eigenvalues of the level's block of the perturbation (ascending),
    where it gave ψ_nᵀ dA ψ_n in the basis LAPACK returned: the right sum, but each value
    belonged to no derivative (review36: 2.35 where the one-sided ones are 1.18 and 3.20)."""
    rng = np.random.default_rng(3)
    q = np.linalg.qr(rng.normal(size=(3, 3)))[0]
    a = q @ np.diag([1.0, 2.0, 2.0]) @ q.T
    direction = rng.normal(size=(3, 3))
    direction = direction + direction.T
    step = 1e-7
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        for k in range(3):
            def f(m, k=k):
                return np.linalg.eigh(m)[0][k]

            one_sided = (f(a + step * direction) - f(a)) / step
            np.testing.assert_allclose(ad.jvp(f, a, direction)[1], one_sided, rtol=1e-5)
        level_sum = ad.jvp(lambda m: np.sum(np.linalg.eigh(m)[0][1:]), a, direction)[1]
    np.testing.assert_allclose(level_sum, np.trace(q[:, 1:].T @ direction @ q[:, 1:]), rtol=1e-12)
