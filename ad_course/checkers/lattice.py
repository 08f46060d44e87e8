"""Checkers for the exercises of notebook 09 (U(1) lattice gauge theory and HMC), in the
style of the other checkers: each returns a :class:`Verdict`, recognises a few
typical mistakes by computing what they would give, and never shows a raw traceback.
"""

from __future__ import annotations

import functools
import math

import numpy as np

from ad_course.checkers.verdict import (
    StudentError,
    Verdict,
    apart,
    as_number,
    calls_watched,
    engine_watched,
    uses_complex,
    values_watched,
)
from ad_course.lattice import (
    hmc,
    kinetic_energy,
    leapfrog,
    plaquette_angles,
    reverse_mode_force,
    staple_force,
    wilson_action,
    wrap_angle,
)

# -- exercise 1: the force on one link, derived by hand ---------------------------------

_LINK_MISTAKES = (
    ("sign", "the sign is flipped: check the sign of the force (F = -dS/dtheta, not "
             "dS/dtheta) and the orientation of your plaquettes, theta_P(x) = theta_1(x) + "
             "theta_2(x + 1) - theta_1(x + 2) - theta_2(x) (in theta[mu, x1, x2], x + 1 raises "
             "x1 and x + 2 raises x2): the reverse orientation flips the sign of theta_P"),
    ("beta", "the factor beta is missing: S = beta sum_P (1 - cos theta_P)"),
    ("one", "only one plaquette counted: every link lies in two plaquettes, the one at x "
            "and the one below it (at x - 2 for theta_1, at x - 1 for theta_2)"),
    ("ahead", "the second plaquette is the one ahead (x + 2 or x + 1); the link theta_1(x) "
              "appears in theta_P(x - 2) as -theta_1(x), theta_2(x) in theta_P(x - 1) "
              "as +theta_2(x)"),
    ("axis", "the second plaquette is shifted along the wrong direction: for theta_1 it is "
             "x - 2 (array axis 1), for theta_2 it is x - 1 (array axis 0)"),
    ("one length", "on this lattice the two directions have different lengths: wrap the first "
                   "site index with theta.shape[1] and the second with theta.shape[2]"),
)


def _link_cases(rng):
    """(theta, beta, mu, x, y) cases: random configurations of a 4 x 4, a 6 x 6 and a
    4 x 6 lattice (the last one catches an answer that wraps both directions with one
    length), links at the edges included."""
    cases = []
    for (size_1, size_2), beta in (((4, 4), 1.3), ((6, 6), 0.7), ((4, 6), 1.1)):
        theta = rng.uniform(-np.pi, np.pi, (2, size_1, size_2))
        for mu in (0, 1):
            for x, y in ((0, 0), (size_1 - 1, 0), (0, size_2 - 1), (size_1 - 1, size_2 - 1),
                         (2, 1)):
                cases.append((theta, beta, mu, x, y))
    return cases


def _one_length_force(theta, beta, mu, x, y, size):
    """The force of an answer that wraps both site indices with the same ``size``."""
    def sin_plaquette(a, b):
        a, b = a % size, b % size
        return np.sin(theta[0, a, b] + theta[1, (a + 1) % size, b]
                      - theta[0, a, (b + 1) % size] - theta[1, a, b])
    try:
        if mu == 0:
            return beta * (sin_plaquette(x, y - 1) - sin_plaquette(x, y))
        return beta * (sin_plaquette(x, y) - sin_plaquette(x - 1, y))
    except IndexError:  # that answer raises instead; the checker reports the IndexError
        return math.nan


def link_force_reference(theta, beta, mu, x, y):
    """-dS/dtheta_mu(x, y), the reference: the library's staple force on that link."""
    return float(staple_force(theta, beta)[mu, x, y])


def _link_variants(theta, beta, mu, x, y):
    """The right force on link (mu, x, y) and what each typical mistake gives."""
    size_1, size_2 = theta.shape[1], theta.shape[2]
    s = np.sin(plaquette_angles(theta))
    here = s[x, y]
    below_1, below_2 = s[x, (y - 1) % size_2], s[(x - 1) % size_1, y]
    ahead_1, ahead_2 = s[x, (y + 1) % size_2], s[(x + 1) % size_1, y]
    if mu == 0:
        right, one, ahead, axis = below_1 - here, -here, ahead_1 - here, below_2 - here
    else:
        right, one, ahead, axis = here - below_2, here, here - ahead_2, here - below_1
    right = link_force_reference(theta, beta, mu, x, y)  # equal to beta * right above
    variants = {"sign": -right, "beta": right / beta, "one": beta * one,
                "ahead": beta * ahead, "axis": beta * axis}
    if size_1 != size_2:
        lengths = [_one_length_force(theta, beta, mu, x, y, size) for size in (size_1, size_2)]
        wrong = [v for v in lengths if not math.isnan(v) and abs(v - right) > 1e-10]
        if wrong:
            variants["one length"] = wrong[0]
    return right, variants


# -dS/dtheta written by hand (sin of the two plaquettes, or Im of the complex phases
# e^{i theta_P}) agrees with the staple force to ~1e-15; a finite difference of the action
# extrapolated by Richardson reaches ~1e-12, a plain central one ~1e-9
_LINK_RTOL = 1e-13


def _complex_step_of(theta):
    """A predicate: the value is theta with a tiny imaginary part added (a complex step,
    theta + i h e_link), not complex phases exp(i theta), whose real part is cos theta."""
    def predicate(value):
        return (isinstance(value, np.ndarray) and value.dtype.kind == "c"
                and value.shape == theta.shape and np.allclose(value.real, theta, rtol=0, atol=1e-12)
                and 0 < float(np.max(np.abs(value.imag))) <= 1e-3)
    return predicate


def check_link_force(link_force, seed=9):
    """Check ``link_force(theta, beta, mu, x, y)``: the force -dS/dtheta_mu(x, y) on one
    link, mu = 0 (theta_1) or 1 (theta_2), written by hand, on random configurations of
    4 x 4, 6 x 6 and 4 x 6 lattices, links on the edges included (periodic neighbours).

    The reference is ``staple_force``, which agrees with the reverse-mode force to
    round-off; an answer is accepted to a relative 1e-13 (_LINK_RTOL); one that takes a
    complex step on theta is refused.
    """
    if not callable(link_force):
        return Verdict(False, f"link_force must be a function (theta, beta, mu, x, y) -> "
                              f"number, got {type(link_force).__name__}")
    cases = _link_cases(np.random.default_rng(seed))
    for theta, beta, mu, x, y in cases:
        where = f"link mu = {mu} at (x, y) = ({x}, {y}) of a {theta.shape[1]}x{theta.shape[2]} lattice"
        try:
            with engine_watched() as engine, calls_watched(staple_force) as staple, \
                    values_watched(_complex_step_of(theta)) as complex_step:
                got = link_force(theta.copy(), beta, mu, x, y)
        except IndexError as error:
            if "axis 0 with size 2" in str(error):  # theta[1], theta[2] for theta_1, theta_2
                return Verdict(False, f"IndexError at {where}: {error}. numpy counts from 0: "
                                      f"theta_1 is theta[0] and theta_2 is theta[1]")
            return Verdict(False, f"IndexError at {where}: {error}. The lattice is periodic: "
                                  f"the neighbour of x = L - 1 is (x + 1) % L, with L the "
                                  f"length of that direction (theta.shape[1] for x, "
                                  f"theta.shape[2] for y)")
        except Exception as error:  # the student's code may raise anything
            return Verdict(False, f"link_force raised {type(error).__name__} at {where}: {error}")
        if engine.used:
            return Verdict(False, "link_force uses automatic differentiation (ad.grad, "
                                  "ad.reverse_mode_force, ad.Variable ...), which is what the "
                                  "answer is checked against; derive -dS/dtheta for the one "
                                  "link by hand, from the two plaquettes that contain it "
                                  "(d(1 - cos theta_P)/d theta_P = sin theta_P), and write it "
                                  "with np.sin")
        if complex_step.found or uses_complex(link_force, tiny=1e-3):
            return Verdict(False, "link_force takes a complex step (theta + i h on the link, "
                                  "then Im S / h), a numerical derivative of the action that is "
                                  "exact to round-off; the exercise asks for the force derived "
                                  "by hand: -dS/dtheta from the two plaquettes that contain the "
                                  "link (d(1 - cos theta_P)/d theta_P = sin theta_P), with np.sin "
                                  "of their angles")
        if staple.count:
            return Verdict(False, "link_force calls staple_force (ad.staple_force or "
                                  "ad_course.lattice.staple_force), the library's force on every "
                                  "link, which is what the answer is checked against and what "
                                  "the exercise asks you not to use; write -dS/dtheta for the "
                                  "one link from the two plaquettes that contain it, with np.sin "
                                  "of their angles")
        try:
            got = as_number(got, "one number for one link")
        except StudentError as error:
            return Verdict(False, f"link_force at {where}: {error.verdict.message}")
        right, variants = _link_variants(theta, beta, mu, x, y)
        if abs(got - right) <= _LINK_RTOL * max(1.0, abs(right)):
            continue
        hits = [name for name, value in variants.items() if abs(got - value) <= 1e-10]
        for name, hint in _LINK_MISTAKES:
            if name in hits:
                return Verdict(False, f"at {where} (beta = {beta}) your force is {got:.10g}; "
                                      f"expected {right:.10g}: {hint}")
        if abs(got - right) <= 1e-5 * max(1.0, abs(right)):
            yours, exact = apart(got, right)
            return Verdict(False, f"at {where} (beta = {beta}) your force is {yours}; "
                                  f"expected -dS/dtheta = {exact}: right to about "
                                  f"{abs(got - right) / max(1.0, abs(right)):.0e} but not to "
                                  f"round-off, as from a finite difference (extrapolated or "
                                  f"not); derive the force from the two plaquettes that contain "
                                  f"the link")
        return Verdict(False, f"at {where} (beta = {beta}) your force is {got:.10g}; expected "
                              f"-dS/dtheta = {right:.10g}")
    return Verdict(True, f"-dS/dtheta agrees with the staple force to round-off on {len(cases)} "
                         f"links of square and non-square lattices, edges of the periodic lattice included")


# -- exercise 2: the energy error of a fourth-order integrator --------------------------

_STEPS = (6, 8, 12, 16)  # n steps of eps = 1 / n: a trajectory of length 1, as in the notebook
_FINEST = _STEPS[-1]
_FLOW_TOLERANCE = 0.05  # a fourth-order integrator is ~5e-4 from the flow at n = 16, leapfrog ~0.02
# the composition takes 6 forces a step (3 leapfrog steps of 2), fewer with merged kicks; 12
# leaves room for other fourth-order schemes (Suzuki's five stages: 10)
_MAX_FORCES_PER_STEP = 12


@functools.lru_cache(maxsize=1)
def _integrator_start(seed=2026, size=8, replicas=8, beta=2.0):
    """The checker's own starting points: ``replicas`` configurations of a size x size
    lattice after 20 HMC trajectories at ``beta`` (thermalised enough for a clean power
    law), and Gaussian momenta. Made once (read-only: integrators get copies)."""
    rng = np.random.default_rng(seed)
    theta = rng.uniform(-np.pi, np.pi, (2, size, size, replicas))
    theta = hmc(theta, beta, 0.1, 10, 20, rng).theta
    momentum = rng.standard_normal(theta.shape)
    theta.flags.writeable = momentum.flags.writeable = False
    return theta, momentum, beta


_LEAPFROG_LIKE = 0.99  # the cosine above which Delta H has plain leapfrog's pattern


@functools.lru_cache(maxsize=1)
def _leapfrog_pattern():
    """Delta H of plain leapfrog (step 1/512, a trajectory of length 1) over the checker's
    configurations, normalised: the pattern every leapfrog of a small step has."""
    theta, momentum, beta = _integrator_start()
    end = leapfrog(theta, momentum, beta, 1.0 / 512, 512, force=staple_force)
    delta = (kinetic_energy(end[1]) + wilson_action(end[0], beta)
             - kinetic_energy(momentum) - wilson_action(theta, beta)).ravel()
    return delta / np.linalg.norm(delta)


def _distance(theta, momentum, to_theta, to_momentum):
    """The largest difference between two points of phase space (angles modulo 2 pi)."""
    return max(float(np.max(np.abs(wrap_angle(theta - to_theta)))),
               float(np.max(np.abs(momentum - to_momentum))))


def _measure_integrator(integrator):
    """Run ``integrator(theta, p, beta, eps, n)`` over a trajectory of length 1 for every n
    in _STEPS from the checker's starting points; return the slope of log rms(Delta H) against
    log eps, or a Verdict saying what went wrong: an error, a wrong shape, too many forces (at
    the finest step), an end point away from Hamilton's flow (on a trajectory of length 1/2),
    no change of H at all."""
    theta, momentum, beta = _integrator_start()
    start = kinetic_energy(momentum) + wilson_action(theta, beta)
    rms = []
    for n in _STEPS:
        where = f"with eps = 1/{n} and n = {n} (theta of shape {theta.shape})"
        try:
            with engine_watched() as engine:  # counts the forces of ad.leapfrog's default
                end = integrator(theta.copy(), momentum.copy(), beta, 1.0 / n, n)
        except Exception as error:  # the student's code may raise anything
            return Verdict(False, f"your integrator raised {type(error).__name__} {where}: "
                                  f"{error}")
        try:
            new_theta, new_momentum = (np.asarray(part, dtype=float) for part in end)
        except (TypeError, ValueError):
            return Verdict(False, f"your integrator returned {type(end).__name__} {where}; it "
                                  f"must return the pair (theta, p)")
        if new_theta.shape != theta.shape or new_momentum.shape != theta.shape:
            return Verdict(False, f"your integrator returned shapes {new_theta.shape} and "
                                  f"{new_momentum.shape} {where}; it must return "
                                  f"(theta, p), both of the shape of theta")
        delta_h = kinetic_energy(new_momentum) + wilson_action(new_theta, beta) - start
        rms.append(float(np.sqrt(np.mean(delta_h**2))))
    finest = np.asarray(delta_h, dtype=float).ravel()  # per configuration, at n = _FINEST
    # from here on, engine is the finest trajectory's (n = _FINEST)
    # plain leapfrog with steps of eps / n (n^2 of them) also has Delta H ~ eps^4 here, since
    # its step shrinks like eps^2: the composition is told apart by its cost, the forces it
    # evaluates, counted when they come from reverse mode (ad.leapfrog's default)
    with engine_watched() as one:
        reverse_mode_force(theta, beta)
    forces = engine.nodes / one.nodes
    if forces > _MAX_FORCES_PER_STEP * _FINEST:
        return Verdict(False, f"your integrator evaluates the force about {forces:.0f} times "
                              f"for n = {_FINEST} steps, {forces / _FINEST:.0f} a step; the "
                              f"composition needs 6 a step (three leapfrog steps of two "
                              f"forces), fewer with merged kicks. Leapfrog with more, smaller "
                              f"steps also makes Delta H fall like eps^4 when its step shrinks "
                              f"like eps^2, but it is not the composition w1, w0, w1 of one "
                              f"leapfrog step each")
    # the end point against Hamilton's flow (256 leapfrog steps a unit of time, to ~1e-5), on
    # a trajectory of length 1/2: n steps of eps = 1 / (2n), so that an integrator that takes
    # its number of steps from 1 / eps, or its step from 1 / n, is not right by accident
    eps = 0.5 / _FINEST
    try:
        end = integrator(theta.copy(), momentum.copy(), beta, eps, _FINEST)
        new_theta, new_momentum = (np.asarray(part, dtype=float) for part in end)
    except Exception as error:  # the student's code may raise anything
        return Verdict(False, f"your integrator raised {type(error).__name__} with eps = "
                              f"1/{2 * _FINEST} and n = {_FINEST}: {error}")
    for step, steps in ((eps / _FINEST, _FINEST**2), (eps**2, round(_FINEST / eps))):
        # plain leapfrog whose step shrinks like eps^2 (Delta H ~ eps^4 too), with any force:
        # the count above sees only forces from reverse mode
        smaller = leapfrog(theta, momentum, beta, step, steps, force=staple_force)
        if _distance(new_theta, new_momentum, *smaller) <= 1e-8:
            return Verdict(False, f"your integrator ends where plain leapfrog with {steps} steps "
                                  f"of {step:.3g} ends (n = {_FINEST}, eps = 1/{2 * _FINEST}): "
                                  f"leapfrog whose step shrinks like eps^2 also makes Delta H "
                                  f"fall like eps^4, but it is not the composition w1, w0, w1 "
                                  f"of one leapfrog step each, n times")
    # plain leapfrog with any step that shrinks like eps^2 (slope 4): its Delta H over the
    # configurations is, to leading order, the step squared times one pattern, which the
    # composition's is not (cosine -0.93 for Yoshida's and Suzuki's, above 0.999 for
    # leapfrog of any small step); a slope of 2 gets the hints about the weights
    pattern = _leapfrog_pattern()
    fourth = all(math.isfinite(r) and r > 0 for r in rms) and abs(
        np.polyfit(np.log(1.0 / np.array(_STEPS)), np.log(rms), 1)[0] / 4 - 1) <= 0.1
    if fourth and np.linalg.norm(finest) > 0 and \
            float(finest @ pattern) / float(np.linalg.norm(finest)) > _LEAPFROG_LIKE:
        return Verdict(False, f"the energy error of your integrator at n = {_FINEST} is plain "
                              f"leapfrog's: over the checker's {finest.size} configurations "
                              f"Delta H is proportional to that of leapfrog with a small step "
                              f"(the same pattern, scaled). Leapfrog whose step shrinks like "
                              f"eps^2 also makes Delta H fall like eps^4, but it is not the "
                              f"composition w1, w0, w1 of one leapfrog step each, n times")
    flow = leapfrog(theta, momentum, beta, 1.0 / 256, 128)
    distance = _distance(new_theta, new_momentum, *flow)
    if not distance <= _FLOW_TOLERANCE:
        if _distance(new_momentum, new_theta, *flow) <= _FLOW_TOLERANCE:
            return Verdict(False, "your integrator returns (p, theta): return (theta, p), in "
                                  "the order ad.leapfrog takes and returns them")
        return Verdict(False, f"after n = {_FINEST} steps of eps = 1/{2 * _FINEST} your "
                              f"integrator ends {distance:.2g} (largest difference in theta or "
                              f"p) from where Hamilton's equations lead: it does not integrate "
                              f"dtheta/dt = p, dp/dt = F over n steps of eps (a trajectory of "
                              f"length n eps = 1/2). Build it from ad.leapfrog(theta, p, beta, "
                              f"w * eps, 1) with the weights w1, w0, w1, n times; the weights "
                              f"add up to 1 (w1 = 1 / (2 - 2^(1/3)), w0 = 1 - 2 w1)")
    if not all(math.isfinite(r) and r > 0 for r in rms):
        shown = ", ".join(f"{r:.1e}" for r in rms)
        return Verdict(False, f"rms(Delta H) of your integrator is {shown} at n = "
                              f"{', '.join(map(str, _STEPS))}: an integrator of Hamilton's "
                              f"equations changes H a little, by an amount that falls with eps")
    return float(np.polyfit(np.log(1.0 / np.array(_STEPS)), np.log(rms), 1)[0])


def check_integrator_slope(predicted, integrator=None, measured=None):
    """Check the predicted exponent k of |Delta H| ~ eps^k (at fixed trajectory length)
    for the fourth-order composition of three leapfrog steps (Yoshida, Forest-Ruth), and
    the student's ``integrator(theta, p, beta, eps, n) -> (theta, p)``: the checker runs
    it on its own lattice (8 x 8, 8 configurations, beta = 2, trajectories of length 1),
    checks that it follows Hamilton's flow and measures its slope (accepted within 10 %
    of 4). ``measured``, the slope the student fitted, is compared with that measurement."""
    try:
        k = as_number(predicted, "the exponent k as a number", finite=False)
        slope = None if measured is None else as_number(measured, "the measured slope as a number",
                                                        finite=False, rtol=0.1)
    except StudentError as error:
        return Verdict(False, f"the exponent and the measured slope must be numbers: "
                              f"{error.verdict.message}")
    if not math.isfinite(k) or not (slope is None or math.isfinite(slope)):
        return Verdict(False, f"the exponent and the measured slope must be finite numbers, got "
                              f"{k} and {slope}: fit log|Delta H| against log eps where "
                              f"|Delta H| is above round-off")
    if abs(k - 4) > 1e-9:
        # the hints say how to find the exponent, never the exponent itself: the exercise
        # asks for a prediction, and a hint that stated it would make one wrong guess enough
        hints = {
            2: "that is the leapfrog's exponent; the composition's step errs by eps^5, not by "
               "the leapfrog's eps^3: count how the N = tau / eps steps of a trajectory of "
               "fixed length add up",
            5: "eps^5 is the error of one step; over a trajectory of fixed length "
               "tau = N eps, N = tau / eps steps add up: what power of eps is that?",
            8: "eps^8 is how <Delta H> falls (<Delta H> = <Delta H^2> / 2 to leading order, "
               "so its power is twice that of |Delta H|); the exercise asks for |Delta H|",
            3: "eps^3 is the local error of one leapfrog step; the composition's step errs by "
               "eps^5, and a trajectory of fixed length tau has N = tau / eps steps",
        }
        hint = hints.get(int(round(k)), "") if abs(k - round(k)) < 1e-9 else ""
        return Verdict(False, f"your exponent is {k:g}, not the right one: " + (hint or (
            "start from the error of one step, eps^5 for the composition (eps^3 for the "
            "leapfrog), and count how the N = tau / eps steps of a trajectory of fixed length "
            "tau add up; the leapfrog's slope, measured above, follows the same count")))
    if integrator is None:
        if slope is not None:
            return Verdict(False, "the prediction 4 is right; pass your integrator too, "
                                  "ad.check_integrator_slope(4, fourth_order, measured=...): "
                                  "the checker measures its slope itself (a number alone could "
                                  "have been typed in)")
        return Verdict(False, "the prediction 4 is right (|Delta H| ~ eps^4 for a fourth-order "
                              "symplectic integrator); now write the integrator, fit its slope "
                              "and pass both: ad.check_integrator_slope(4, fourth_order, "
                              "measured=my_slope)")
    if not callable(integrator):
        return Verdict(False, f"the second argument is your integrator, a function (theta, p, "
                              f"beta, eps, n) -> (theta, p), not {type(integrator).__name__}; "
                              f"pass the slope you fitted as measured=...")
    result = _measure_integrator(integrator)
    if isinstance(result, Verdict):
        return result
    ours = result
    if abs(ours / 4 - 1) > 0.1:
        if abs(ours / 5 - 1) <= 0.1:
            hint = ("one composite step has error eps^5, so a trajectory of n = 1 / eps of "
                    "them has eps^4: does your integrator run n steps of the composition "
                    "w1, w0, w1 of leapfrog steps?")
        elif ours < 4:
            hint = ("the composition does not cancel the eps^3 error of each leapfrog step "
                    "(a slope near 2 is second order); check the weights w1 = 1 / (2 - 2^(1/3)) "
                    "and w0 = 1 - 2 w1, that the substeps run w1, w0, w1 and that each uses its "
                    "weight times eps")
        else:
            hint = "it falls faster than a fourth-order integrator can"
        return Verdict(False, f"the prediction 4 is right, but on the checker's lattice "
                              f"rms(Delta H) of your integrator falls like eps^{ours:.2f} "
                              f"(n = {', '.join(map(str, _STEPS))}), more than 10 % from 4: {hint}")
    if slope is not None and abs(slope - ours) > 0.4:
        if abs(slope / -4 - 1) <= 0.1:
            hint = ("the sign says you fitted against the number of steps n (or 1 / eps); "
                    "fit log rms(Delta H) against log eps")
        elif abs(slope / 2 - 1) <= 0.1:
            hint = ("about 2 is the leapfrog's slope (the variable slope earlier in the notebook "
                    "holds the leapfrog's fit); fit rms(Delta H) of your own integrator")
        elif abs(slope / 8 - 1) <= 0.1:
            hint = ("twice 4, the slope of <Delta H^2>; fit the root mean square, "
                    "sqrt(<Delta H^2>), against eps")
        else:
            hint = ("fit the step sizes where |Delta H| is a clean power law, above "
                    "round-off and below the largest steps")
        return Verdict(False, f"your integrator is of order 4 (the checker measures the slope "
                              f"{ours:.2f}), but the slope you fitted is {slope:.2f}: {hint}")
    if slope is None:  # the exercise asks for the slope measured on theta_eq, p_eq too
        return Verdict(False, f"your integrator is of order 4 (on the checker's lattice its "
                              f"rms(Delta H) falls like eps^{ours:.2f}); the exercise also asks "
                              f"for the slope you measured on theta_eq, p_eq: fit it and pass "
                              f"it, ad.check_integrator_slope(4, fourth_order, measured=my_slope)")
    return Verdict(True, f"|Delta H| ~ eps^4: on the checker's lattice your integrator's "
                         f"rms(Delta H) falls like eps^{ours:.2f}, within 10 % of 4; your own "
                         f"fit gives {slope:.2f}")


# -- exercise 3: the second derivative from the third cumulant --------------------------

_CUMULANT_RTOL = 2e-3


def check_curvature_estimator(estimator, seed=5):
    """Check ``estimator(plaquettes, n_plaquettes)``, which should return
    d^2<P>/dbeta^2 = N_P^2 kappa_3(P-bar) from a series of mean plaquettes P-bar (the
    third cumulant, i.e. the third central moment). Tested on skewed synthetic series
    with two values of N_P; the unbiased k_3 and the plain central moment both pass."""
    if not callable(estimator):
        return Verdict(False, f"estimator must be a function (plaquettes, n_plaquettes) -> "
                              f"number, got {type(estimator).__name__}")
    rng = np.random.default_rng(seed)
    # one series skewed to each side, so that the sign of the cumulant is checked too
    for n_plaquettes, size, side in ((256, 4000, -1), (64, 3000, 1)):
        series = 0.7 + side * 0.01 * rng.gamma(2.0, 1.0, size)
        delta = series - series.mean()
        variance, third = np.mean(delta**2), np.mean(delta**3)
        right = n_plaquettes**2 * third
        try:
            got = estimator(series.copy(), n_plaquettes)
        except Exception as error:  # the student's code may raise anything
            return Verdict(False, f"estimator raised {type(error).__name__}: {error}")
        try:
            got = as_number(got, "one number", rtol=_CUMULANT_RTOL)
        except StudentError as error:
            return Verdict(False, f"estimator must return one number: {error.verdict.message}")
        # the plain central moment and the unbiased k_3 differ by about 3 / len(series) = 0.1 %
        if abs(got / right - 1) < _CUMULANT_RTOL:
            continue
        mistakes = (
            (-right, "the sign is flipped: d<O>/dbeta = +N_P cov(O, P-bar) here, since "
                     "-dS/dbeta = N_P P-bar - N_P"),
            (n_plaquettes * third, "one factor N_P is missing: each derivative d/dbeta brings "
                                   "down -dS/dbeta = N_P (P-bar - 1), so two derivatives give N_P^2"),
            (third, "the factor N_P^2 is missing"),
            (n_plaquettes**2 * np.mean(series**3), "that is the raw moment <P^3>; the "
                                                   "cumulant uses the deviations from the mean"),
            (n_plaquettes**2 * (np.mean(series**3) - series.mean() ** 3),
             "<P^3> - <P>^3 is not the third cumulant; it is <(P - <P>)^3>"),
            (n_plaquettes * variance, "that is the first derivative N_P Var(P-bar)"),
            (n_plaquettes**2 * variance, "that is N_P^2 times the variance; the second "
                                         "derivative needs the third cumulant"),
            (n_plaquettes**2 * third / variance**1.5, "that is N_P^2 times the skewness "
                                                      "<d^3> / <d^2>^(3/2); the cumulant is "
                                                      "<d^3> itself, not divided by sigma^3"),
            (n_plaquettes**3 * third, "N_P^3 is the factor of the third derivative of ln Z; "
                                      "d^2<P>/dbeta^2 = d^3 ln Z / dbeta^3 / N_P, so N_P^2"),
        )
        for wrong, hint in mistakes:
            if abs(got - wrong) <= _CUMULANT_RTOL * abs(wrong):
                return Verdict(False, f"with N_P = {n_plaquettes} your estimate is {got:.6g}; "
                                      f"expected N_P^2 <(P - <P>)^3> = {right:.6g}: {hint}")
        return Verdict(False, f"with N_P = {n_plaquettes} your estimate is {got:.6g}; expected "
                              f"N_P^2 <(P - <P>)^3> = {right:.6g}")
    return Verdict(True, "d^2<P>/dbeta^2 = N_P^2 <(P - <P>)^3> on both test series")
