"""Notebook 08, exercise 4: a derivation checked by AD. For the Cornell potential
V(r) = -kappa/r + sigma r, Hellmann-Feynman gives dE/dkappa = <psi|dH/dkappa|psi>
= -<1/r>; the checker compares the student's numbers with the gradient of the
level through ``eigh`` (reverse mode)."""

from __future__ import annotations

import numpy as np

from ad_course.checkers.verdict import Verdict, apart, as_array, checker, close, run
from ad_engine.reverse import Variable

HBARC = 0.1973  # GeV fm


def kappa_derivative_by_ad(hamiltonian, params, ell, level):
    """dE/dkappa of level ``level`` (0 = lowest) of ``hamiltonian(kappa, sigma, m_c, ell)``,
    by reverse mode through np.linalg.eigh."""
    theta = Variable(np.asarray(params, dtype=float))
    energy = np.linalg.eigh(hamiltonian(theta[0], theta[1], theta[2], ell))[0][level]
    energy.backward()
    return float(theta.grad[0])


@checker
def check_kappa_derivative(answer, hamiltonian, params, r, states=((0, 0), (0, 1), (1, 0))):
    """Check the student's dE/dkappa (GeV per unit kappa) for each (ell, level) in
    ``states`` against AD through eigh. On the grid ``r`` (GeV^-1), with u the
    normalised eigenvector, the expected value is -sum_i u_i^2 / r_i."""
    got = as_array(answer, (len(states),), "dE/dkappa for each state, an array")
    reference, waves = [], []
    for ell, level in states:
        reference.append(run(kappa_derivative_by_ad, hamiltonian, params, ell, level,
                             what="the hamiltonian you passed, on Variables,"))
        H = run(hamiltonian, *params, ell, what="the hamiltonian you passed")
        waves.append(np.linalg.eigh(H)[1][:, level])
    reference = np.array(reference)
    if close(got, reference, rtol=1e-8):
        return Verdict(True, "dE/dkappa = -<1/r> agrees with the gradient through eigh for "
                             "every state")
    r = np.asarray(r, dtype=float)
    ground = [np.linalg.eigh(hamiltonian(*params, ell))[1][:, 0] for ell, _ in states]

    def mean(f, psis=waves):
        return np.array([u @ (f * u) for u in psis])

    mistakes = [
        (-reference, "the sign: dH/dkappa = -1/r, so dE/dkappa = -<1/r> (a stronger Coulomb "
                     "term binds more, it lowers the level)"),
        (mean(r), "that is <r>, the derivative with respect to sigma; kappa multiplies -1/r"),
        (-mean(r), "that is -<r>; kappa multiplies -1/r, so dE/dkappa = -<1/r>"),
        (-mean(1 / r**2), "that is -<1/r²>; kappa multiplies -1/r"),
        (-np.array([np.sum(u / r) for u in waves]), "the expectation value needs u_i², "
                                                    "sum(u**2 / r), not sum(u / r)"),
        (-mean(1 / r) * HBARC, "a factor 0.1973: dE/dkappa is in GeV, and r on the grid is "
                               "already in GeV^-1, so no conversion is needed"),
        (-mean(1 / r) / HBARC, "a factor 1/0.1973: r on the grid is already in GeV^-1"),
        (-mean(1 / r, ground), "every state used the lowest eigenvector: take column `level` "
                               "of the eigenvectors of the Hamiltonian with its own ell"),
    ]
    for wrong, hint in mistakes:
        if close(got, wrong, rtol=1e-6):
            return Verdict(False, f"your values {np.array2string(got, precision=4)} are not "
                                  f"dE/dkappa: {hint}")
    i = int(np.argmax(np.abs(got - reference)))
    yours, exact = apart(got[i], reference[i])
    return Verdict(False, f"state {i} ({states[i]}): your {yours}, the gradient "
                          f"through eigh {exact} GeV: compute -sum(u**2 / r) "
                          f"with the normalised eigenvector u of that level")


__all__ = ["check_kappa_derivative", "kappa_derivative_by_ad"]
