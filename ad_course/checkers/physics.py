"""Notebook 08, exercises 2 and 4: derivatives of a level checked by AD. For the Cornell
potential V(r) = -kappa/r + sigma r, Hellmann-Feynman gives dM/dsigma = dE/dsigma = <r> and
dM/dkappa = -<1/r> (M = 2 m_c + E, m_c held fixed); the checkers compare the student's
numbers with the gradient of the level through ``eigh`` (reverse mode), to the four
decimals the exercises ask for (the values are of order 1, in GeV or GeV^-1)."""

from __future__ import annotations

import numpy as np

from ad_course.charmonium import EICHTEN, spin_averaged_masses
from ad_course.checkers.verdict import (
    StudentError,
    Verdict,
    apart,
    as_array,
    as_number,
    checker,
    close,
    engine_watched,
    expect_function,
    run,
)
from ad_engine.reverse import Variable

HBARC = 0.1973  # GeV fm


PARAMETERS = ("kappa", "sigma", "m_c")
DECIMALS = 4  # the exercises ask for four decimals: values typed from a printout pass
TOLERANCE = 0.5 * 10.0**-DECIMALS * (1 + 1e-9)  # half a unit in the last decimal asked for


def level_derivative_by_ad(hamiltonian, params, ell, level, parameter="kappa"):
    """dE/d(parameter) of level ``level`` (0 = lowest) of ``hamiltonian(kappa, sigma, m_c,
    ell)``, by reverse mode through np.linalg.eigh."""
    theta = Variable(np.asarray(params, dtype=float))
    energy = np.linalg.eigh(hamiltonian(theta[0], theta[1], theta[2], ell))[0][level]
    energy.backward()
    return float(theta.grad[PARAMETERS.index(parameter)])


def _by_function(derivative, waves, r, parameter):
    """The values of ``derivative(psi, r)`` for each state's normalised eigenvector psi
    (``waves``): the Hellmann-Feynman sum written as a function, which (unlike numbers) shows
    whether it was derived or computed by the AD engine the checker compares it with."""
    expect_function(derivative, 2, f"a function of (psi, r) returning dM/d{parameter}, or "
                                   f"the numbers")
    values = []
    for psi in waves:
        with engine_watched() as engine:
            value = run(derivative, psi.copy(), np.array(r, dtype=float),
                        what="your function of (psi, r)")
        if engine.used:
            raise StudentError(Verdict(False, f"your function of (psi, r) uses automatic "
                                              f"differentiation (ad.grad, .backward(), "
                                              f"mass_and_gradient ...), which is what it is "
                                              f"checked against; derive dM/d{parameter} by "
                                              f"Hellmann-Feynman (which term of H holds "
                                              f"{parameter}?) and write it as a sum over psi "
                                              f"and r with numpy"))
        if value is None:
            raise StudentError(Verdict(False, "your function of (psi, r) returned None: is the "
                                              "placeholder ... still its body? Return the sum"))
        try:  # one number per level: a float, a numpy scalar, a one-element array
            as_number(value, f"one number (dM/d{parameter} of that level)", rtol=TOLERANCE)
        except StudentError as error:
            raise StudentError(Verdict(False, "your function of (psi, r) should return "
                                       + error.verdict.message.removeprefix("expected "))) from None
        values.append(np.asarray(value).reshape(()))  # its dtype kept: float32 is 'typed'
    return values


def _compare(answer, hamiltonian, params, r, states, parameter, systems):
    """The student's numbers, AD's through eigh, each state's normalised eigenvector (from
    ``systems``, eigh of each state's Hamiltonian), two slips (the lowest eigenvector of its
    ell for every state; row ``level`` of eigh's eigenvectors instead of the column) and the
    grid."""
    reference, waves, slips = [], [], {"ground": [], "row": []}
    for (ell, level), (_, vectors) in zip(states, systems):
        reference.append(run(level_derivative_by_ad, hamiltonian, params, ell, level, parameter,
                             what="the hamiltonian you passed, on Variables,"))
        waves.append(vectors[:, level])
        slips["ground"].append(vectors[:, 0])
        slips["row"].append(vectors[level, :])
    if callable(answer):  # a function of (psi, r): run on each state's eigenvector
        answer = _by_function(answer, waves, r, parameter)
    # four decimals of values of order 1: float32 numbers carry enough digits for that
    got = as_array(answer, (len(states),), f"dM/d{parameter} for each state, an array",
                   rtol=TOLERANCE)

    def other_ell():  # only for a wrong answer: four more levels through eigh each
        return [(i, np.array([level_derivative_by_ad(hamiltonian, params, 0, level, parameter)
                              for level in range(4)]))
                for i, (ell, _) in enumerate(states) if ell > 0]

    return (got, np.array(reference), waves, slips, np.asarray(r, dtype=float),
            {"digits": not typed(answer), "other_ell": other_ell})


def _from_rounded_parameters(hamiltonian, params, states, parameter):
    """(values, decimals) for the parameters rounded to 2, 3 and 4 decimals, as a student
    who types them from a printed table gets them; only roundings that change them."""
    params = np.asarray(params, dtype=float)
    variants = []
    for decimals in (2, 3, 4):
        rounded = np.round(params, decimals)
        if not np.array_equal(rounded, params):
            variants.append((np.array([level_derivative_by_ad(hamiltonian, rounded, ell, level,
                                                              parameter)
                                       for ell, level in states]), decimals))
    return variants


ROUND_OFF = 1e-11  # AD through eigh and the Hellmann-Feynman sum agree to ~1e-15; the
# best central difference in a parameter only to ~4e-10 (h ~ 1e-5), a forward one to ~1e-6


def typed(answer):
    """True when the answer's numbers were typed (or rounded): each has at most 10 decimals,
    or they are float32 numbers, which carry no more than the four decimals checked. An
    array computed in float64 carries all 16 digits, and then they must be right to
    round-off (a finite difference is right to 1e-10 at best)."""
    values = answer if isinstance(answer, (list, tuple)) else [answer]
    values = [v.value if isinstance(v, Variable) else v for v in values]
    try:
        raw = np.asarray(values)
        if raw.dtype.kind == "f" and np.finfo(raw.dtype).eps > 1e-10:
            return True
        return all(round(float(v), 10) == float(v) for v in raw.astype(float).ravel())
    except (TypeError, ValueError):
        return False


def right_to_decimals(got, reference):
    """True when every value agrees with the reference to the four decimals asked for:
    the computed values, or the same values rounded to four or more decimals."""
    return bool(np.all(np.abs(np.asarray(got) - np.asarray(reference)) <= TOLERANCE))


ROW_HINT = ("row `level` of the eigenvectors is not an eigenvector: np.linalg.eigh returns "
            "them as the columns of its second output, vectors[:, level]")

STATE_NAMES = {(0, 0): "1S", (0, 1): "2S", (1, 0): "1P", (0, 2): "3S", (2, 0): "1D"}


def _off(got, exact):
    """Which way ``got`` is off from ``exact``, without ``exact``'s value (a hint that printed
    it would hand out the answer, one state per try): the sign, or a rough factor."""
    if exact == 0 or got == 0 or np.sign(got) != np.sign(exact):
        return "has the wrong sign" if got * exact < 0 else "is off"
    ratio = got / exact
    if ratio > 1.5 or ratio < 1 / 1.5:
        return f"is about {ratio:.2g} times the right value" if ratio > 1 else \
            f"is about 1/{1 / ratio:.2g} of the right value"
    return "is too large" if abs(got) > abs(exact) else "is too small"


def _not_by_the_method(got, reference, parameter, recipe, by_hand, digits):
    """For values right to the decimals asked: None, or the refusal of values that are not
    right to round-off although they carry all their digits (``digits``: computed, not
    typed), as a finite difference in the parameter gives."""
    off = float(np.max(np.abs(got - reference)))
    if not digits or off <= ROUND_OFF * max(1.0, float(np.max(np.abs(reference)))):
        return None
    method = ("derive it by Hellmann-Feynman and compute the sum "
              f"{recipe} with the normalised eigenvectors" if by_hand else
              "compute it by reverse mode, the gradient of the level through eigh "
              "(ad.grad, or .backward() as mass_and_gradient does)")
    return Verdict(False, f"your values agree with the gradient through eigh to about "
                          f"{off:.0e}, not to round-off, as a finite difference in "
                          f"{parameter} does; the exercise asks for another method: "
                          f"{method}, which agrees to round-off")


def _verdict(got, reference, states, parameter, mistakes, unit, recipe, rounded=(), *,
             digits=True, other_ell=list):
    """The verdict on values that are not right to the decimals asked. ``digits``: the
    answer carries all its digits (computed, not typed); ``other_ell()``: (state index,
    values) of a state with ell > 0 computed with the ell = 0 Hamiltonian."""
    for values, decimals in rounded:
        if right_to_decimals(got, values):
            return Verdict(False, f"your values {np.array2string(got, precision=4)} are "
                                  f"dM/d{parameter} computed with the parameters rounded to "
                                  f"{decimals} decimals, as a table prints them: compute with "
                                  f"the parameters themselves (the array you pass here)")
    for wrong, hint in mistakes:
        if close(got, wrong, rtol=1e-6) or np.all(np.abs(got - wrong) <= 10 * TOLERANCE):
            return Verdict(False, f"your values {np.array2string(got, precision=4)} are not "
                                  f"dM/d{parameter}: {hint}")
    names = ", ".join(STATE_NAMES.get(state, str(state)) for state in states)
    for i, values in other_ell():
        others = np.arange(len(states)) != i
        if right_to_decimals(got[others], reference[others]) and \
                np.any(np.abs(got[i] - values) <= TOLERANCE):
            ell, _ = states[i]
            name = STATE_NAMES.get(states[i], str(states[i]))
            return Verdict(False, f"state {i} ({name}) is computed with the ell = 0 Hamiltonian: "
                                  f"{name} has ell = {ell}, so its eigenvector comes from the "
                                  f"Hamiltonian with ell = {ell} (the last argument of the "
                                  f"hamiltonian), where its level is {states[i][1]}")
    if right_to_decimals(np.sort(got), np.sort(reference)):
        return Verdict(False, f"the right values in the wrong order: expected the states in the "
                              f"order {names}")
    i = int(np.argmax(np.abs(got - reference)))
    yours, _ = apart(got[i], reference[i])
    name = STATE_NAMES.get(states[i], str(states[i]))
    off = abs(got[i] - reference[i])
    if off < 100 * TOLERANCE and digits:  # computed, off in the 4th decimal
        return Verdict(False, f"state {i} ({name}): your {yours} {unit} is close (off by about "
                              f"{off:.0e}), but not right to {DECIMALS} decimals, as a finite "
                              f"difference in {parameter} gives (or another grid): compute "
                              f"{recipe} with the normalised eigenvectors of the hamiltonian "
                              f"you pass here, for its parameters and on its grid r")
    if off < 100 * TOLERANCE:  # typed with 2 or 3 decimals
        return Verdict(False, f"state {i} ({name}): your {yours} {unit} is close, but not "
                              f"right to {DECIMALS} decimals; compute with the parameters and "
                              f"the grid r you pass here (not rounded parameters, not another "
                              f"grid) and pass the computed values, not values rounded to "
                              f"fewer than {DECIMALS} decimals")
    return Verdict(False, f"state {i} ({name}): your {yours} {unit} {_off(got[i], reference[i])}"
                          f": compute {recipe} with the normalised eigenvector u of that level "
                          f"(column `level` of np.linalg.eigh's second output, whose "
                          f"eigenvalues come in ascending order), for the parameters and on "
                          f"the grid r you pass here")


STATES = ((0, 0), (0, 1), (1, 0))  # (ell, level): 1S, 2S, 1P

# The exercises ask for the derivatives at the fitted parameters theta, which notebook 08
# fits (Newton's method) so that M = 2 m_c + E of 1S, 2S and 1P equals the spin-averaged
# PDG masses (ad_course/charmonium.py). The fit reproduces them to 1e-10 GeV on any grid;
# other parameters (Eichten et al.'s, a table's rounding) miss them by MeV or more.
FIT_TARGETS = spin_averaged_masses()
FIT_TOLERANCE = 1e-3  # GeV: a PDG update moves the targets by a fraction of an MeV


def _eigensystems(hamiltonian, params, states):
    """np.linalg.eigh of the student's Hamiltonian with each state's ell: (w, V) per state,
    computed once for the parameter check and the eigenvectors the hints use."""
    return [np.linalg.eigh(run(hamiltonian, *params, ell, what="the hamiltonian you passed"))
            for ell, _ in states]


def _at_the_fit(hamiltonian, params, states):
    """(refusal, eigensystems): the refusal is None when ``params`` reproduce the fit's
    targets (the masses of 1S, 2S, 1P): the exercise's derivatives are taken at the fitted
    theta. Other states than the exercise's: the caller's own parameters, not checked."""
    if tuple(states) != STATES:
        return None, _eigensystems(hamiltonian, params, states)
    params = run(lambda: np.asarray(params, dtype=float), what="the parameters")
    if params.shape != (3,):
        return Verdict(False, f"the parameters must be the three numbers (kappa, sigma, m_c) "
                              f"of the fit, theta; got shape {params.shape}"), None
    systems = _eigensystems(hamiltonian, params, states)
    masses = np.array([2 * params[2] + w[level] for (w, _), (_, level) in zip(systems, states)])
    if np.all(np.abs(masses - FIT_TARGETS) <= FIT_TOLERANCE):
        return None, systems
    which = ("Eichten et al.'s parameters (EICHTEN)" if np.allclose(params, EICHTEN, rtol=1e-6)
             else "not the fitted parameters")
    shown = ", ".join(f"{1e3 * m:.1f}" for m in masses)
    return Verdict(False, f"the parameters you pass, {np.array2string(params, precision=4)}, "
                          f"are {which}: with them 1S, 2S, 1P have M = 2 m_c + E = {shown} "
                          f"MeV, not the spin-averaged masses the fit reproduces "
                          f"({', '.join(f'{1e3 * m:.1f}' for m in FIT_TARGETS)} MeV). The "
                          f"exercise asks for the derivatives at the fitted theta: compute "
                          f"them there and pass theta itself (not rounded)"), systems


CONTROL = (0, 2)  # 3S: a level the exercise does not ask for, to run the student's function on


def _another_level(derivative, hamiltonian, params, r, parameter):
    """None, or the refusal of a function of (psi, r) that is right on the exercise's three
    levels but not on 3S: it returns stored numbers (AD's, computed beforehand) or a formula
    that matches on those three by chance, instead of computing from psi and r."""
    ell, level = CONTROL
    psi = np.linalg.eigh(run(hamiltonian, *params, ell, what="the hamiltonian you passed"))[1][:, level]
    value = float(_by_function(derivative, [psi], r, parameter)[0])
    exact = run(level_derivative_by_ad, hamiltonian, params, ell, level, parameter,
                what="the hamiltonian you passed, on Variables,")
    if abs(value - exact) <= TOLERANCE:
        return None
    return Verdict(False, f"your function gives dM/d{parameter} right for 1S, 2S and 1P, but "
                          f"not for the next S level, 3S ({STATE_NAMES[CONTROL]}: your "
                          f"{value:.6g} {_off(value, exact)}): it must compute the derivative "
                          f"from the eigenvector psi and the grid r it is given, for any level, "
                          f"not return numbers stored beforehand")


@checker
def check_kappa_derivative(answer, hamiltonian, params, r, states=STATES):
    """Check the student's dM/dkappa (GeV per unit kappa) for each (ell, level) in
    ``states`` against AD through eigh, to four decimals. ``answer``: a function of
    (psi, r) that computes one from a normalised eigenvector psi on the grid r; it is run on
    each state's eigenvector (and, for the default states, on 3S's: stored numbers are right
    on the three only) and refused when it uses AD. The numbers themselves get the hints of
    their mistakes, but right ones are refused: AD's are the same numbers, and the exercise
    asks for the derivation as a function. On the grid ``r`` (GeV^-1), with u the
    normalised eigenvector, the expected value is -sum_i u_i^2 / r_i. For the default
    states, ``params`` must be the fit's theta (see _at_the_fit)."""
    refused, systems = _at_the_fit(hamiltonian, params, states)
    if refused is not None:
        return refused
    got, reference, waves, slips, r, how = _compare(answer, hamiltonian, params, r, states,
                                                    "kappa", systems)
    if right_to_decimals(got, reference):
        refused = _not_by_the_method(got, reference, "kappa", "-sum(u**2 / r)", True,
                                     how["digits"])
        if refused is None and not callable(answer):  # AD's numbers are these numbers too
            refused = Verdict(False, f"your values are right to {DECIMALS} decimals, but the "
                                     f"exercise asks for the function dM_dkappa(psi, r) itself: "
                                     f"pass it, ad.check_kappa_derivative(dM_dkappa, ...). The "
                                     f"checker runs it on each level's eigenvector, so that a sum "
                                     f"derived by Hellmann-Feynman is told apart from numbers "
                                     f"that automatic differentiation computed")
        if refused is None and tuple(states) == STATES:
            refused = _another_level(answer, hamiltonian, params, r, "kappa")
        return refused if refused is not None else \
            Verdict(True, f"dM/dkappa = -<1/r> agrees with the gradient through eigh to "
                          f"{DECIMALS} decimals for every state")

    def mean(f, psis=waves):
        return np.array([u @ (f * u) for u in psis])

    mistakes = [
        (-reference, "the sign: dH/dkappa = -1/r, so dM/dkappa = -<1/r> (a stronger Coulomb "
                     "term binds more, it lowers the level)"),
        (mean(r), "that is <r>, the derivative with respect to sigma; kappa multiplies -1/r"),
        (-mean(r), "that is -<r>; kappa multiplies -1/r, so dM/dkappa = -<1/r>"),
        (-mean(1 / r**2), "that is -<1/r²>; kappa multiplies -1/r"),
        (-np.array([np.sum(u / r) for u in waves]), "the expectation value needs u_i², "
                                                    "sum(u**2 / r), not sum(u / r)"),
        (-mean(1 / r) * HBARC, "a factor 0.1973: dM/dkappa is in GeV, and r on the grid is "
                               "already in GeV^-1, so no conversion is needed"),
        (-mean(1 / r) / HBARC, "a factor 1/0.1973: r on the grid is already in GeV^-1"),
        (-mean(1 / r, slips["ground"]), "every state used the lowest eigenvector: take column "
                                        "`level` of the eigenvectors of the Hamiltonian with its "
                                        "own ell"),
        (-mean(1 / r, slips["row"]), ROW_HINT),
    ]
    return _verdict(got, reference, states, "kappa", mistakes, "GeV", "-sum(u**2 / r)",
                    _from_rounded_parameters(hamiltonian, params, states, "kappa"), **how)


@checker
def check_sigma_derivative(answer, hamiltonian, params, r, states=STATES):
    """Check the student's dM/dsigma (GeV^-1, before any conversion to fm) for each
    (ell, level) in ``states`` against AD through eigh, to four decimals: by
    Hellmann-Feynman it is <r> = sum_i u_i^2 r_i on the grid ``r``. For the default states,
    ``params`` must be the fit's theta (see _at_the_fit)."""
    refused, systems = _at_the_fit(hamiltonian, params, states)
    if refused is not None:
        return refused
    got, reference, waves, slips, r, how = _compare(answer, hamiltonian, params, r, states,
                                                    "sigma", systems)
    if right_to_decimals(got, reference):
        refused = _not_by_the_method(got, reference, "sigma", "sum(u**2 * r)", False,
                                     how["digits"])
        return refused if refused is not None else \
            Verdict(True, f"dM/dsigma agrees with the gradient through eigh to {DECIMALS} "
                          f"decimals for every state: it is <r>")
    mistakes = [
        (-reference, "the sign: dH/dsigma = +r, a stronger string raises every level"),
        (reference * HBARC, "these are in fm: give dM/dsigma in GeV^-1, before the factor 0.1973"),
        (np.array([u @ (u / r) for u in waves]), "that is <1/r>; sigma multiplies r"),
        (np.array([np.sum(u * r) for u in waves]), "the expectation value needs u_i², "
                                                   "sum(u**2 * r), not sum(u * r)"),
        (np.array([u @ (r * u) for u in slips["ground"]]), "every state used the lowest "
                                                           "eigenvector: take column `level` of "
                                                           "the eigenvectors"),
        (np.array([u @ (r * u) for u in slips["row"]]), ROW_HINT),
    ]
    return _verdict(got, reference, states, "sigma", mistakes, "GeV^-1", "sum(u**2 * r)",
                    _from_rounded_parameters(hamiltonian, params, states, "sigma"), **how)


__all__ = ["check_kappa_derivative", "check_sigma_derivative", "level_derivative_by_ad"]
