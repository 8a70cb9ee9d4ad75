"""The benchmark harness: hand-written adjoints against finite differences, and the
harness end to end on tiny sizes.  Needs none of the peer frameworks (torch, jax,
autograd); speed is never asserted here."""
import importlib

import numpy as np
import pytest

from adjit.bench import cli
from adjit.bench.compare import relative_error
from adjit.bench.engines import Engine, make_engines
from adjit.bench.engines.shims import ScalarArray, namespace, numpy_array_maker, rebind
from adjit.bench.problems import PROBLEMS
from adjit.bench.progress import progress
from adjit.bench.runner import RunSettings, run_all
from adjit.bench.timing import QUICK


def central_differences(function, args, argnum):
    """d function / d args[argnum] by central differences, entry by entry."""
    def at(point):
        changed = list(args)
        changed[argnum] = point
        return function(*changed)

    x = args[argnum]
    if isinstance(x, float):
        h = 1e-6 * max(1.0, abs(x))
        return (at(x + h) - at(x - h)) / (2 * h)
    grad = np.zeros_like(x)
    for index in np.ndindex(x.shape):
        h = 1e-6 * max(1.0, abs(x[index]))
        up, down = x.copy(), x.copy()
        up[index] += h
        down[index] -= h
        grad[index] = (at(up) - at(down)) / (2 * h)
    return grad


def central_jacobian(function, args, argnum, h=1e-6):
    """d function / d args[argnum] of an array-valued function, shaped out.shape + x.shape."""
    x = args[argnum]
    columns = []
    for index in np.ndindex(x.shape):
        up, down = list(args), list(args)
        up[argnum], down[argnum] = x.copy(), x.copy()
        up[argnum][index] += h
        down[argnum][index] -= h
        columns.append((np.asarray(function(*up)) - np.asarray(function(*down))) / (2 * h))
    J = np.stack(columns, axis=-1)
    return J.reshape(J.shape[:-1] + x.shape)


def central_hessian(function, args, argnum, h=1e-4):
    """The Hessian of scalar `function` in args[argnum] by central second differences."""
    x = args[argnum]

    def at(*steps):
        point = x.copy()
        for index, step in steps:
            point[index] += step
        changed = list(args)
        changed[argnum] = point
        return function(*changed)
    indices = list(np.ndindex(x.shape))
    H = np.zeros(x.shape + x.shape)
    for i in indices:
        for j in indices:
            H[i + j] = (at((i, h), (j, h)) - at((i, h), (j, -h)) - at((i, -h), (j, h)) + at((i, -h), (j, -h))) / (4 * h * h)
    return H


@pytest.mark.parametrize("seed", [0, 1])
@pytest.mark.parametrize("name", list(PROBLEMS))
def test_hand_adjoint_matches_finite_differences(name, seed):
    problem = PROBLEMS[name]
    args = problem.args(problem.test_size, seed)
    value, grads = problem.hand(*args)
    if problem.derivative == "jacobian":
        assert np.allclose(value, problem.function(*args), rtol=1e-12, atol=0)
    else:
        assert value == pytest.approx(problem.function(*args), rel=1e-12, abs=1e-300)
    assert len(grads) == len(problem.argnums)
    for argnum, grad in zip(problem.argnums, grads):
        if problem.derivative == "hessian":
            expected = central_hessian(problem.function, args, argnum)
        elif problem.derivative == "jacobian":
            expected = central_jacobian(problem.function, args, argnum)
        else:
            expected = central_differences(problem.function, args, argnum)
        scale = np.max(np.abs(expected))
        assert scale > 0, "a zero gradient would make this check vacuous"
        assert np.shape(grad) == np.shape(expected)
        assert np.max(np.abs(np.asarray(grad) - expected)) <= 1e-6 * scale


MECHANICAL = [name for name, p in PROBLEMS.items() if p.hand_mechanical is not None]


@pytest.mark.parametrize("seed", [0, 1])
@pytest.mark.parametrize("name", MECHANICAL)
def test_mechanical_adjoint_matches_finite_differences(name, seed):
    """The second reference (engine hand-mech) is checked on its own, not against `hand`."""
    problem = PROBLEMS[name]
    args = problem.args(problem.test_size, seed)
    value, grads = problem.hand_mechanical(*args)
    assert value == pytest.approx(problem.function(*args), rel=1e-12)
    for argnum, grad in zip(problem.argnums, grads):
        expected = central_differences(problem.function, args, argnum)
        assert np.max(np.abs(np.asarray(grad) - expected)) <= 1e-6 * np.max(np.abs(expected))


def test_relative_error_is_relative_to_the_max_norm():
    reference = (2.0, (np.array([1.0, 1e-12, -4.0]),))
    assert relative_error(reference, reference) == 0.0
    # a relative error of 1 on a tiny entry is small against the max-norm
    tiny_off = (2.0, (np.array([1.0, 2e-12, -4.0]),))
    assert relative_error(tiny_off, reference) == pytest.approx(1e-12 / 4.0)
    assert relative_error((2.0, (np.array([1.0, 1e-12, -4.4]),)), reference) == pytest.approx(0.1)
    assert relative_error((2.0, (np.array([np.nan, 0, 0]),)), reference) == np.inf
    assert relative_error((2.0, (np.zeros(2),)), reference) == np.inf       # wrong shape
    assert relative_error((2.0 + 2e-9, None), reference) == pytest.approx(1e-9)  # value only


def test_scalar_array_stand_ins_run_the_user_function_unchanged():
    """The shims the torch and autograd engines use, here with plain floats."""
    import math
    problem = PROBLEMS["ode"]
    x, steps = problem.args(12)
    np_ns = namespace("numpy", np, {"zeros": numpy_array_maker(0.0)})
    as_lists = rebind(problem.function, {"np": np_ns, "math": math}, spell_out_augmented=True)
    value = as_lists(ScalarArray(x.tolist(), x.shape), steps)
    assert value == pytest.approx(problem.function(x, steps), rel=1e-13)

    grid = ScalarArray.filled((2, 3), 0.0)
    grid[1, 2] = 5.0
    assert grid.items == [0.0] * 5 + [5.0] and grid.shape == (2, 3) and grid[1, 2] == 5.0


class _Exploding(Engine):
    name = "exploding"

    def prepare(self, problem):
        def run(*args):
            raise ValueError("boom")
        return run


class _Wrong(Engine):
    name = "wrong"

    def prepare(self, problem):
        def run(*args):
            value, grads = problem.hand(*args)
            return value, tuple(1.01 * np.asarray(g) for g in grads)
        return run


def test_failing_and_wrong_engines_are_reported_not_fatal():
    settings = RunSettings(timing=QUICK, rtol=1e-8, quick=True)
    engines = make_engines(["hand"]) + [_Exploding(), _Wrong()]
    results = run_all([PROBLEMS["logsumexp"]], engines, lambda p: [16], settings, progress(3, enabled=False))
    (size, rows), = results["logsumexp"]
    by_name = {row.engine: row for row in rows}
    assert size == 16
    assert by_name["hand"].status == "ok" and by_name["hand"].error == 0.0
    assert by_name["exploding"].status == "failed" and "boom" in by_name["exploding"].message
    assert by_name["wrong"].status == "mismatch" and by_name["wrong"].error == pytest.approx(0.01)


def _tape_importable():
    try:
        return hasattr(importlib.import_module("adjit.tape"), "value_and_grad")
    except Exception:   # noqa: BLE001 - the tape engine may be mid-construction
        return False


def test_quick_run_end_to_end_writes_the_tables(tmp_path, capsys):
    out = tmp_path / "results.md"
    engines = ["hand", "primal", "adjit"] + (["adjit.tape"] if _tape_importable() else [])
    status = cli.main(["--quick", "--sizes", "24", "--engines", ",".join(engines),
                       "--out", str(out), "--no-progress", "--warm-cache"])
    assert status == 0
    text = out.read_text()
    assert "## rosenbrock" in capsys.readouterr().out      # the report is printed too
    summary = text[text.index("## Summary"):]
    assert all(f"| {name} | " in summary for name in PROBLEMS)
    for name, problem in PROBLEMS.items():
        assert f"## {name}: {problem.title}" in text
    table_rows = [line for line in text.splitlines() if line.startswith("| hand |")]
    assert len(table_rows) == len(PROBLEMS)
    assert all("reference" in row for row in table_rows)
    primal_rows = [line for line in text.splitlines() if line.startswith("| primal (")]
    assert len(primal_rows) == len(PROBLEMS)
    assert not any("MISMATCH" in row or "failed" in row for row in primal_rows)
    # adjit is either measured or reported failed with its error, never a crash
    assert text.count("| adjit |") == len(PROBLEMS)


def test_the_default_report_goes_to_the_current_directory_not_the_docs(tmp_path, monkeypatch, capsys):
    """A quick run must never overwrite the tracked docs/benchmarks-results.md (issue 16)."""
    monkeypatch.chdir(tmp_path)
    assert cli.main(["--quick", "--sizes", "16", "--problems", "logsumexp", "--engines", "hand",
                     "--no-progress", "--warm-cache"]) == 0
    assert (tmp_path / cli.DEFAULT_OUT).is_file() and not (tmp_path / "docs").exists()
    assert str(tmp_path / cli.DEFAULT_OUT) in capsys.readouterr().err   # says where it wrote


def test_missing_peers_are_summarised_once():
    from adjit.bench.runner import skip_summary
    skips = [(engine, problem, "torch is not installed")
             for problem in ("a", "b", "c") for engine in ("torch", "torch-vec")]
    skips.append(("jax", "b", "no JAX version of b"))
    assert skip_summary(skips, ["a", "b", "c"]) == [
        "note: torch, torch-vec skipped on every problem: torch is not installed",
        "note: jax skipped on b: no JAX version of b"]


# ---- the regression gate (python -m adjit.bench --check), on made-up timings --------------
def _fake_measure(hand, adjit, error=0.0, failure=""):
    from adjit.bench.check import Outcome

    def measure(gate):
        return Outcome(gate, hand=hand, adjit=adjit * gate.threshold, error=error, failure=failure)
    return measure


@pytest.mark.parametrize("factor, error, failure, status, verdict", [
    (0.9, 0.0, "", 0, "ok"),                       # under every threshold
    (1.1, 0.0, "", 1, "TOO SLOW"),                 # just over every threshold
    (0.5, 1e-3, "", 1, "MISMATCH"),                # fast but wrong
    (0.5, None, "AdjitError: refused", 1, "FAILED"),
])
def test_the_gate_fails_over_a_threshold_on_a_mismatch_or_an_error(factor, error, failure, status, verdict):
    import io
    from adjit.bench.check import GATES, run_check
    out = io.StringIO()
    # adjit's time is `factor` times the threshold times the reference's (1 ms)
    assert run_check(measure=_fake_measure(1e-3, factor * 1e-3, error, failure), out=out) == status
    rows = [line for line in out.getvalue().splitlines() if line.startswith("| ") and "---" not in line][1:]
    assert len(rows) == len(GATES) and all(f"| {verdict}" in row for row in rows)
    assert ("FAILED:" in out.getvalue()) == (status != 0)


def test_one_slow_problem_fails_the_gate_and_is_named():
    import io
    from adjit.bench.check import GATES, Outcome, run_check
    slow = GATES[-1].problem

    def measure(gate):
        ratio = 3.0 * gate.threshold if gate.problem == slow else 0.5 * gate.threshold
        return Outcome(gate, hand=2e-6, adjit=ratio * 2e-6, error=0.0)
    out = io.StringIO()
    assert run_check(measure=measure, out=out) == 1
    assert out.getvalue().strip().endswith(f"FAILED: {slow} (TOO SLOW)")
    assert run_check(problems=[g.problem for g in GATES[:-1]], measure=measure, out=io.StringIO()) == 0


def test_the_gates_name_known_problems_with_headroom():
    from adjit.bench.check import GATES
    for gate in GATES:
        assert gate.problem in PROBLEMS
        assert 2.0 * gate.measured <= gate.threshold <= 4.0 * gate.measured, gate


PEER_ENGINES = {"torch": "torch", "torch-vec": "torch", "autograd": "autograd",
                "jax": "jax", "jax-loop": "jax"}


@pytest.mark.parametrize("engine_name", list(PEER_ENGINES))
def test_installed_peer_engines_agree_with_the_hand_adjoints(engine_name):
    """The problems as rewritten for each peer framework (skipped when it is missing)."""
    pytest.importorskip(PEER_ENGINES[engine_name])
    engine, = make_engines([engine_name])
    settings = RunSettings(timing=QUICK, rtol=1e-8, quick=True)
    results = run_all(list(PROBLEMS.values()), [engine], lambda p: [p.test_size], settings,
                      progress(len(PROBLEMS), enabled=False))
    for name, [(size, [row])] in results.items():
        assert row.status in ("ok", "skipped"), (name, row.status, row.error, row.message)


@pytest.mark.parametrize("engine_name", ["adjit.tape", "adjit"])
def test_adjit_engines_agree_with_the_hand_adjoints(engine_name):
    engine, = make_engines([engine_name])
    settings = RunSettings(timing=QUICK, rtol=1e-8, quick=True)
    results = run_all(list(PROBLEMS.values()), [engine], lambda p: [p.test_size], settings,
                      progress(len(PROBLEMS), enabled=False))
    for name, [(size, [row])] in results.items():
        if engine_name == "adjit.tape" and PROBLEMS[name].derivative != "gradient":
            assert row.status == "skipped", (name, row.status)   # the tape computes gradients only
            continue
        assert row.status == "ok", (name, row.status, row.error, row.message)


def ignores_its_second_argument(a, b):
    return a * a


def test_an_argument_the_function_ignores_gets_a_zero_gradient():
    from adjit.bench.problem import Problem
    pytest.importorskip("torch")
    problem = Problem(
        name="ignores-b", title="", summary="", function=ignores_its_second_argument,
        make_args=lambda size, rng: (3.0, np.ones(size)), argnums=(0, 1),
        hand=lambda a, b: (a * a, (2 * a, np.zeros_like(b))), size_name="n",
        default_size=4, quick_size=4, slow_size=4, sweep=(4,), test_size=4)
    engine, = make_engines(["torch"])
    value, (d_a, d_b) = engine.prepare(problem)(*problem.args(4))
    assert value == 9.0 and d_a == 6.0 and np.array_equal(d_b, np.zeros(4))
