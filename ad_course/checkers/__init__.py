"""Exercise checkers, one module per exercise kind. Each returns a :class:`Verdict`
and names the typical mistake when the answer matches one; bad input and errors in
the student's code become messages (type, message, the student's line)."""

from ad_course.checkers.backward import check_backward
from ad_course.checkers.functions import check_count_paths, check_newton_cg
from ad_course.checkers.hessian import check_logsumexp_hessian
from ad_course.checkers.jacobian import check_jacobian
from ad_course.checkers.layer import check_layer_gradient
from ad_course.checkers.numbers import QUESTIONS, check_answer
from ad_course.checkers.physics import check_kappa_derivative, check_sigma_derivative
from ad_course.checkers.pinn import check_damped_oscillator
from ad_course.checkers.steps import check_optimal_step
from ad_course.checkers.tangent import check_tangent_rule
from ad_course.checkers.training import check_sgd_training
from ad_course.checkers.verdict import Verdict
from ad_course.checkers.vjp import check_logsumexp_rule, check_vjp_rule, logsumexp

__all__ = [
    "QUESTIONS", "Verdict", "check_answer", "check_backward", "check_count_paths", "check_damped_oscillator",
    "check_jacobian",
    "check_kappa_derivative", "check_layer_gradient", "check_sigma_derivative", "check_logsumexp_hessian", "check_logsumexp_rule",
    "check_newton_cg", "check_optimal_step", "check_sgd_training", "check_tangent_rule", "check_vjp_rule", "logsumexp",
]
