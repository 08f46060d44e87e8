"""The course's code, as the notebooks use it: ``import autodiff_helpers as ad``.

This file is a map. The code lives in two packages:

  ad_engine/   the automatic differentiation engine (imports nothing from ad_course)
  ad_course/   helpers of the lectures: plots, measurements, traces, physics examples

Each group below lists what one notebook needs first, and says where it lives.
"""

# ruff: noqa: I001  (the imports are grouped by notebook, not sorted alphabetically)

# -- 01 gradients: ad_course/style.py (plots), ad_course/iterations.py (descent, Newton)
from ad_course.iterations import gradient_ascent, gradient_descent, newton_iterates
from ad_course.style import (
    COURSE_RC,
    MEASUREMENT_COLORS,
    format_comparison,
    plot_loss_surface,
    plot_measurements,
    source_code,
    use_course_style,
)

# -- 02 symbolic differentiation: ad_course/symbolic.py (expression sizes, operation counts)
from ad_course.symbolic import (
    CountingFloat,
    CountingFunction,
    OperationCounter,
    count_forward_mode_operations,
    count_operations,
    cse_operation_count,
    logistic_map,
    operation_count,
)

# -- 03 finite differences: ad_engine/numerical.py (formulas), ad_course/finite_differences.py
from ad_engine.numerical import (
    central_difference,
    complex_step,
    forward_difference,
    numerical_gradient,
)
from ad_course.finite_differences import derivative_errors, difference_error_model, optimal_step

# -- 04 forward mode: ad_engine/ rules, numpy_rules, dispatch, forward.py; ad_course/shot_put.py
from ad_engine.rules import PRIMITIVES, UFUNCS, Primitive, bind, deflinear, defprimitive, unbroadcast
from ad_engine.numpy_rules import arctan, cos, exp, log, sin, sqrt, tan, tanh
from ad_engine.dispatch import ArraySurface
from ad_engine.forward import Dual, derivative, forward_gradient, jvp
from ad_course.shot_put import shot_put_best_angle, shot_put_range, shot_put_stationarity

# -- 05 reverse mode: ad_engine/ reverse.py, numerical.py; ad_course/ timing.py, traces.py
from ad_engine.reverse import Variable, grad, topological_order
from ad_engine.numerical import GradCheck, check_grad
from ad_course.timing import best_time, collector_paused
from ad_course.traces import Trace, TraceRow, draw_graph, local_gradients, trace_table

# -- 06 a network by hand: ad_engine/ nn.py, optim.py; ad_course/ising.py
from ad_engine.nn import (
    ACTIVATIONS,
    MLP,
    Linear,
    Module,
    affine,
    cross_entropy,
    cross_entropy_vjp,
    mse_loss,
    relu,
    sigmoid,
    softmax,
)
from ad_engine.optim import SGD, Adam, Optimizer
from ad_course.networks import plot_decision_boundary, two_spirals
from ad_course.ising import (
    ONSAGER_TC,
    bootstrap_crossing,
    checkerboard_sweeps,
    crossing_temperature,
    ising_configurations,
    ising_energy,
    ising_magnetization,
    ising_metropolis,
    metropolis_update,
)

# -- 07 beyond first derivatives: ad_engine/higher_order.py; ad_course/ rosenbrock.py, oscillator.py
from ad_engine.higher_order import hessian, hvp, value_and_derivatives
from ad_course.rosenbrock import iterations_to_converge, newton_minimize, rosenbrock
from ad_course.oscillator import oscillator_loss

# -- 08 differentiable physics: ad_engine/ linalg.py (eigh, solve), checkpoint.py; ad_course/ fitting.py, charmonium.py
from ad_engine.linalg import eigh, solve
from ad_engine.checkpoint import checkpoint
from ad_course.fitting import bfgs_minimize
from ad_course.charmonium import EICHTEN, PDG_MASSES, spin_averaged_masses

# -- 09 lattice field theory: ad_course/lattice.py (U(1) gauge theory, HMC, Gamma method)
from ad_course.lattice import (
    STORED_RESOLUTION,
    Estimate,
    HMCRun,
    autocorrelation,
    bessel_i,
    charge_variance_exact,
    gamma_method,
    hmc,
    kinetic_energy,
    leapfrog,
    mean_plaquette,
    plaquette_angles,
    plaquette_curvature_exact,
    plaquette_exact,
    plaquette_slope_exact,
    plaquette_torus,
    reverse_mode_force,
    staple_force,
    topological_charge,
    total_action,
    wilson_action,
    wrap_angle,
)
from ad_course.checkers.lattice import (
    check_curvature_estimator,
    check_integrator_slope,
    check_link_force,
)

# -- exercises of every notebook: ad_course/checkers/ (checkers that name the likely mistake)
from ad_course.checkers import (
    QUESTIONS,
    Verdict,
    check_answer,
    check_backward,
    check_count_paths,
    check_damped_oscillator,
    check_jacobian,
    check_kappa_derivative,
    check_layer_gradient,
    check_logsumexp_hessian,
    check_logsumexp_rule,
    check_newton_cg,
    check_optimal_step,
    check_sgd_training,
    check_sigma_derivative,
    check_tangent_rule,
    check_vjp_rule,
)
from ad_course.solutions import FoldedOutput, folded_output

__all__ = [
    # 01
    "COURSE_RC", "MEASUREMENT_COLORS", "format_comparison", "gradient_ascent", "gradient_descent",
    "newton_iterates", "plot_loss_surface", "plot_measurements", "source_code", "use_course_style",
    # 02
    "CountingFloat", "CountingFunction", "OperationCounter", "count_forward_mode_operations",
    "count_operations", "cse_operation_count", "logistic_map", "operation_count",
    # 03
    "central_difference", "complex_step", "derivative_errors", "difference_error_model",
    "forward_difference", "numerical_gradient", "optimal_step",
    # 04
    "PRIMITIVES", "UFUNCS", "Primitive", "defprimitive", "deflinear", "unbroadcast",
    "arctan", "cos", "exp", "log", "sin", "sqrt", "tan", "tanh", "ArraySurface", "bind",
    "Dual", "derivative", "forward_gradient", "jvp",
    "shot_put_best_angle", "shot_put_range", "shot_put_stationarity",
    # 05
    "Variable", "grad", "topological_order", "GradCheck", "check_grad", "best_time",
    "collector_paused", "Trace", "TraceRow", "draw_graph", "local_gradients", "trace_table",
    # 06
    "ACTIVATIONS", "MLP", "Linear", "Module", "affine", "cross_entropy", "cross_entropy_vjp",
    "mse_loss", "relu", "sigmoid", "softmax", "SGD", "Adam", "Optimizer",
    "plot_decision_boundary", "two_spirals", "bootstrap_crossing", "crossing_temperature",
    "ONSAGER_TC", "checkerboard_sweeps", "ising_configurations", "ising_energy",
    "ising_magnetization", "ising_metropolis", "metropolis_update",
    # 07
    "hessian", "hvp", "value_and_derivatives", "iterations_to_converge", "newton_minimize",
    "rosenbrock", "oscillator_loss",
    # 08
    "eigh", "solve", "checkpoint", "bfgs_minimize", "EICHTEN", "PDG_MASSES", "spin_averaged_masses",
    # 09
    "STORED_RESOLUTION", "Estimate", "HMCRun", "autocorrelation", "bessel_i", "charge_variance_exact",
    "gamma_method",
    "hmc", "kinetic_energy", "leapfrog", "mean_plaquette", "plaquette_angles",
    "plaquette_curvature_exact", "plaquette_exact", "plaquette_slope_exact", "plaquette_torus",
    "reverse_mode_force", "staple_force", "topological_charge", "total_action", "wilson_action",
    "wrap_angle",
    "check_curvature_estimator", "check_integrator_slope", "check_link_force",
    # exercises
    "QUESTIONS", "Verdict", "check_answer", "check_backward", "check_count_paths", "check_jacobian",
    "check_kappa_derivative", "check_layer_gradient", "check_logsumexp_rule", "check_sigma_derivative", "check_newton_cg", "check_optimal_step",
    "check_damped_oscillator", "check_logsumexp_hessian", "check_sgd_training", "check_tangent_rule", "check_vjp_rule", "FoldedOutput", "folded_output",
]
