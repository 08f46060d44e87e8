"""Notebook 08, exercises 2 and 4: derivatives of a level checked by AD. For the Cornell
potential V(r) = -kappa/r + sigma r, Hellmann-Feynman gives dE/dsigma = <r> and dE/dkappa
= -<1/r>; the checkers compare the student's numbers with the gradient of the level
through ``eigh`` (reverse mode)."""

from __future__ import annotations

import numpy as np

from ad_course.checkers.verdict import Verdict, apart, as_array, checker, close, run
from ad_engine.reverse import Variable

HBARC = 0.1973  # GeV fm


PARAMETERS = ("kappa", "sigma", "m_c")


def level_derivative_by_ad(hamiltonian, params, ell, level, parameter="kappa"):
    """dE/d(parameter) of level ``level`` (0 = lowest) of ``hamiltonian(kappa, sigma, m_c,
    ell)``, by reverse mode through np.linalg.eigh."""
    theta = Variable(np.asarray(params, dtype=float))
    energy = np.linalg.eigh(hamiltonian(theta[0], theta[1], theta[2], ell))[0][level]
    energy.backward()
    return float(theta.grad[PARAMETERS.index(parameter)])


def _compare(answer, hamiltonian, params, r, states, parameter):
    """The student's numbers, AD's through eigh, each state's normalised eigenvector, the
    lowest eigenvector of its ell (a slip: the ground state for every state) and the grid."""
    got = as_array(answer, (len(states),), f"dE/d{parameter} for each state, an array")
    reference, waves, ground = [], [], []
    for ell, level in states:
        reference.append(run(level_derivative_by_ad, hamiltonian, params, ell, level, parameter,
                             what="the hamiltonian you passed, on Variables,"))
        vectors = np.linalg.eigh(run(hamiltonian, *params, ell, what="the hamiltonian you passed"))[1]
        waves.append(vectors[:, level])
        ground.append(vectors[:, 0])
    return got, np.array(reference), waves, ground, np.asarray(r, dtype=float)


def _verdict(got, reference, states, parameter, mistakes, unit, recipe):
    for wrong, hint in mistakes:
        if close(got, wrong, rtol=1e-6):
            return Verdict(False, f"your values {np.array2string(got, precision=4)} are not "
                                  f"dE/d{parameter}: {hint}")
    i = int(np.argmax(np.abs(got - reference)))
    yours, exact = apart(got[i], reference[i])
    return Verdict(False, f"state {i} ({states[i]}): your {yours}, the gradient through eigh "
                          f"{exact} {unit}: compute {recipe} with the normalised eigenvector u "
                          f"of that level")


STATES = ((0, 0), (0, 1), (1, 0))  # (ell, level): 1S, 2S, 1P


@checker
def check_kappa_derivative(answer, hamiltonian, params, r, states=STATES):
    """Check the student's dE/dkappa (GeV per unit kappa) for each (ell, level) in
    ``states`` against AD through eigh. On the grid ``r`` (GeV^-1), with u the
    normalised eigenvector, the expected value is -sum_i u_i^2 / r_i."""
    got, reference, waves, ground, r = _compare(answer, hamiltonian, params, r, states, "kappa")
    if close(got, reference, rtol=1e-8):
        return Verdict(True, "dE/dkappa = -<1/r> agrees with the gradient through eigh for "
                             "every state")

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
    return _verdict(got, reference, states, "kappa", mistakes, "GeV", "-sum(u**2 / r)")


@checker
def check_sigma_derivative(answer, hamiltonian, params, r, states=STATES):
    """Check the student's dM/dsigma (GeV^-1, before any conversion to fm) for each
    (ell, level) in ``states`` against AD through eigh: by Hellmann-Feynman it is
    <r> = sum_i u_i^2 r_i on the grid ``r``."""
    got, reference, waves, ground, r = _compare(answer, hamiltonian, params, r, states, "sigma")
    if close(got, reference, rtol=1e-8):
        return Verdict(True, "dM/dsigma from reverse mode agrees with the gradient through eigh "
                             "for every state: it is <r>")
    mistakes = [
        (-reference, "the sign: dH/dsigma = +r, a stronger string raises every level"),
        (reference * HBARC, "these are in fm: give dM/dsigma in GeV^-1, before the factor 0.1973"),
        (np.array([u @ (u / r) for u in waves]), "that is <1/r>; sigma multiplies r"),
        (np.array([np.sum(u * r) for u in waves]), "the expectation value needs u_i², "
                                                   "sum(u**2 * r), not sum(u * r)"),
        (np.array([u @ (r * u) for u in ground]), "every state used the lowest eigenvector: take "
                                                  "column `level` of the eigenvectors"),
    ]
    return _verdict(got, reference, states, "sigma", mistakes, "GeV^-1", "sum(u**2 * r)")


__all__ = ["check_kappa_derivative", "check_sigma_derivative", "level_derivative_by_ad"]
