"""The benchmark workloads at tiny sizes, for correctness only: the runner at the "tiny" size
checks every engine against the reference answers to 1e-8 relative before it times them (it
stops on a disagreement) and writes its report; a peer not installed (make bench installs
them into .venv-bench) is reported skipped with the reason."""

import numpy as np
import pytest

import autodiff_helpers as ad
from benchmarks import workloads as w
from benchmarks.peers import load_peers

PEERS = load_peers()
# torch.func's first call warns that torch.jit.script is deprecated (torch's own use of it)
pytestmark = pytest.mark.filterwarnings("ignore:.*torch.jit.script.*:DeprecationWarning")


def test_scalar_map_gradient_stays_order_one_and_autodiff_helpers_follows_it_deep():
    # the point of the chosen map: dl/dx neither overflows nor underflows with depth
    for steps in (10, 1_000, 100_000):
        value, gradient = w.scalar_map_reference(steps)
        assert 0 < value < 1 and 0.5 < gradient < 1.0
    # and the reference recurrence is the derivative: compare a central difference
    h = 1e-6
    central = (w.scalar_map_reference(50, w.X0 + h)[0]
               - w.scalar_map_reference(50, w.X0 - h)[0]) / (2 * h)
    assert abs(central - w.scalar_map_reference(50)[1]) < 1e-8
    # autodiff_helpers follows it through a graph far deeper than Python's recursion limit
    forward, backward = w.scalar_engines(PEERS)[0]["autodiff_helpers"]
    steps = w.steps_for_depth(30_000)
    gradient = backward(forward(steps))
    assert w.relative_error(gradient, w.scalar_map_reference(steps)[1]) <= w.TOLERANCE


def test_mlp_step_updates_parameters_like_sgd():
    problem = w.mlp_problem((3, 5, 2), 4)
    params = [p.copy() for p in problem["params"]]
    grads = w.numpy_mlp_step(params, problem["x"], problem["onehot"])
    for before, after, g in zip(problem["params"], params, grads):
        np.testing.assert_allclose(after, before - w.LEARNING_RATE * g, rtol=0, atol=1e-15)


def test_the_staple_force_is_minus_the_gradient_of_the_action():
    for seed in range(5):
        theta = w.lattice_configuration(w.LATTICE_L, seed) * (1 + seed)  # also beyond [-pi, pi)
        force = w.staple_force(theta, 1.7)
        assert w.relative_error(-ad.grad(w.wilson_action)(theta, 1.7), force) < 1e-12
        # and a central difference along one link, independent of both
        h, link = 1e-5, (1, 3, 7)
        step = np.zeros_like(theta)
        step[link] = h
        central = (w.wilson_action(theta + step, 1.7) - w.wilson_action(theta - step, 1.7)) / (2 * h)
        assert abs(-central - force[link]) < 1e-7


def test_force_micro_benchmark_checks_its_floor_and_prints(capsys):
    from benchmarks import force_step

    medians = force_step.main(["--repeats", "2", "--size", "4"])  # asserts floor == AD force
    assert set(medians) == {"staple force (numpy, by hand)", "engine floor (its numpy calls)",
                            "AD force (-ad.grad)"}
    assert "AD force (-ad.grad)" in capsys.readouterr().out


def test_runner_writes_a_report_at_tiny_size(tmp_path, capsys):
    from benchmarks import run

    output = tmp_path / "RESULTS.md"
    run.main(["--tiny", "--output", str(output)])
    text = output.read_text()
    assert "Dry run (`--tiny`)" in text
    for heading in ("## Goals", "## 1. Scalar graph", "## 2. MLP", "## 3. Forward mode",
                    "## 4. Hessian-vector product", "## 5. The force of Hybrid Monte Carlo",
                    "| cores (os.cpu_count) |"):
        assert heading in text
    for name, peer in PEERS.items():  # loaded, or skipped with the reason
        assert f"| {name} | {peer.version if peer.available else f'SKIPPED: {peer.reason}'} |" in text
        assert peer.available or f"- {name}: SKIPPED (not installed" in text
    # both MLP sizes timed (after their agreement check) against the numpy floor
    assert text.count("| autodiff_helpers (Variable ops) |") == text.count("| numpy (hand-written) |") == 2
    assert (tmp_path / "results.png").stat().st_size > 0


def test_adam_step_script_checks_and_times_both_networks(capsys):
    from benchmarks import nn_step

    nn_step.main(["--repeats", "1", "--no-torch"])  # stops if a step disagrees with numpy
    rows = capsys.readouterr().out.splitlines()[1:]
    assert [row.split()[:2] for row in rows] == [["2-16-16-2", "400"], ["64-128-10", "256"]]
    assert all(row.split()[-2:] == ["not", "installed"] for row in rows)
