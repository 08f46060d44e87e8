"""Mutation run of the exercise checkers: break each checker's reference (a sign, a
factor, a transposed shape or swapped order, a missing term) and the right answers
of tests/course/exercise_cases.py must be rejected. A checker that still accepted
them would not be comparing with its reference at all."""

import dataclasses

import numpy as np
import pytest
from exercise_cases import CASES

import ad_course.checkers.backward as backward_module
import ad_course.checkers.hessian as hessian_module
import ad_course.checkers.jacobian as jacobian_module
import ad_course.checkers.lattice as lattice_module
import ad_course.checkers.layer as layer_module
import ad_course.checkers.numbers as numbers_module
import ad_course.checkers.physics as physics_module
import ad_course.checkers.pinn as pinn_module
import ad_course.checkers.steps as steps_module
import ad_course.checkers.tangent as tangent_module
import ad_course.checkers.training as training_module
import ad_course.checkers.vjp as vjp_module

BREAKS = {
    "sign": lambda v: -np.asarray(v),
    "factor": lambda v: 2 * np.asarray(v),
    "transposed": lambda v: np.asarray(v).T if np.ndim(v) == 2 and np.shape(v)[0] != np.shape(v)[1]
    else np.asarray(v)[::-1] if np.ndim(v) == 1 and np.size(v) > 1 and len(set(np.ravel(v))) > 1
    else np.asarray(v) + 0.5,  # a scalar cannot be transposed: a shifted value instead
    "missing term": lambda v: _drop_largest(v),
}


def _drop_largest(v):
    """The reference with its largest entry (a term of it) left out: set to 0."""
    v = np.array(v, dtype=float)
    flat = v.reshape(-1)
    i = int(np.argmax(np.abs(flat)))
    flat[i] = 0.0 if flat[i] != 0 else 1.0
    return v


def _wrap(original, broken):
    def mutated(*args, **kwargs):
        return broken(original(*args, **kwargs))
    return mutated


def mutate(monkeypatch, name, kind):
    """Apply mutation ``kind`` to the reference of checker ``name``."""
    brk = BREAKS[kind]
    if name.startswith("check_optimal_step"):
        monkeypatch.setattr(steps_module, "optimal_step_reference",
                            _wrap(steps_module.optimal_step_reference, lambda v: float(brk(v))))
    elif name.startswith("check_tangent_rule"):
        original = tangent_module.check_tangent_rule.__wrapped__

        def with_broken_reference(f, make_dual, derivative=None, **kwargs):
            step = 1e-5

            def slope(x):
                return (float(f(x + step)) - float(f(x - step))) / (2 * step)
            broken = {"sign": lambda x: -slope(x), "factor": lambda x: 2 * slope(x),
                      "transposed": lambda x: slope(-x) + 0.1, "missing term": lambda x: 1.0}[kind]
            return original(f, make_dual, broken, **kwargs)
        monkeypatch.setattr(tangent_module.check_tangent_rule, "__wrapped__", with_broken_reference)
        monkeypatch.setattr(tangent_module, "check_tangent_rule",
                            tangent_module.checker(with_broken_reference))
        import autodiff_helpers
        monkeypatch.setattr(autodiff_helpers, "check_tangent_rule",
                            tangent_module.checker(with_broken_reference))
    elif name.startswith("check_backward"):
        original = backward_module._graphs

        def graphs(Node):
            return [(n, leaves, y, tuple(np.ravel(brk(np.array(exact)))))
                    for n, leaves, y, exact in original(Node)]
        monkeypatch.setattr(backward_module, "_graphs", graphs)
    elif name.startswith("check_layer_gradient"):
        monkeypatch.setattr(layer_module, "layer_gradient",
                            _wrap(layer_module.layer_gradient, brk))
    elif name.startswith("check_logsumexp_rule"):
        reference = vjp_module.logsumexp
        broken = {"sign": lambda x: -reference(x),
                  "factor": lambda x: 2 * reference(x),
                  "transposed": lambda x: np.log(np.sum(np.exp(x * np.arange(1, x.size + 1)))),
                  "missing term": lambda x: np.sum(np.exp(x))}[kind]
        monkeypatch.setattr(vjp_module, "logsumexp", broken)
    elif name.startswith("check_jacobian"):
        cases = [(n, F, _wrap(exact, brk), x) for n, F, exact, x in jacobian_module.CASES]
        monkeypatch.setattr(jacobian_module, "CASES", cases)
    elif name.startswith(("check_kappa_derivative", "check_sigma_derivative")):
        monkeypatch.setattr(physics_module, "level_derivative_by_ad",
                            _wrap(physics_module.level_derivative_by_ad,
                                  lambda v: float(np.ravel(brk(np.array([v, v / 2])))[0])))
    elif name.startswith("check_count_paths"):
        import ad_course.checkers.functions as functions_module
        monkeypatch.setattr(functions_module, "paths_reference", _wrap(
            functions_module.paths_reference,
            lambda v: float(np.ravel(brk(np.array([float(v)])))[0])))
    elif name.startswith("check_newton_cg"):
        import ad_course.rosenbrock as rosenbrock_module
        monkeypatch.setattr(rosenbrock_module, "newton_minimize",
                            _wrap(rosenbrock_module.newton_minimize, brk))
    elif name.startswith("check_sgd_training"):
        original = training_module.sgd_reference
        monkeypatch.setattr(training_module, "sgd_reference",
                            lambda *args, **kwargs: [brk(v) for v in original(*args, **kwargs)])
    elif name.startswith("check_logsumexp_hessian"):
        monkeypatch.setattr(hessian_module, "hessian_reference",
                            _wrap(hessian_module.hessian_reference, brk))
    elif name.startswith("check_damped_oscillator"):
        monkeypatch.setattr(pinn_module, "damped_reference", _wrap(pinn_module.damped_reference, brk))
    elif name.startswith("check_link_force"):
        monkeypatch.setattr(lattice_module, "link_force_reference",
                            _wrap(lattice_module.link_force_reference,
                                  lambda v: float(np.ravel(brk(np.array([v, v / 2])))[0])))
    elif name.startswith("check_integrator_slope"):  # its reference: Hamilton's flow
        monkeypatch.setattr(lattice_module, "leapfrog", _wrap(
            lattice_module.leapfrog, lambda end: tuple(brk(part) for part in end)))
    elif name.startswith("check_answer"):
        key = name.split()[-1]
        question = numbers_module.QUESTIONS[key]
        monkeypatch.setitem(numbers_module.QUESTIONS, key, dataclasses.replace(
            question, reference=_wrap(question.reference, lambda v: brk(np.ravel(np.asarray(v, float))))))
    else:
        raise KeyError(name)


MUTATIONS = [(name, kind) for name in CASES for kind in BREAKS]


@pytest.mark.parametrize("name, kind", MUTATIONS, ids=[f"{n}: {k}" for n, k in MUTATIONS])
def test_a_broken_reference_rejects_the_right_answers(monkeypatch, name, kind):
    mutate(monkeypatch, name, kind)
    right, _ = CASES[name]
    accepted = [label for label, thunk in right if thunk().ok]
    assert not accepted, f"{kind} mutation of {name}: still accepted {accepted}"
