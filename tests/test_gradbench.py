"""adjit as a gradbench tool (``python -m adjit.gradbench``).

The recorded sessions in ``tests/data/gradbench`` (see tests/data/README.md) hold real messages from
gradbench's evals and the answers of gradbench's reference tool (hand-written C++).
Each one is replayed through the tool as a subprocess, as gradbench runs it, and every
evaluate output is checked against the reference with the evals' rule,
|x - y| / max(1, |x| + |y|) <= 1e-4, element by element.

That rule cannot see small numbers (lstm's gradient entries are ~1e-4, ode's recorded
gradients are exactly zero), so every gradient is also checked against central
differences on small inputs, with an error relative to the gradient's largest entry.
"""
import json
import math
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from adjit.bench.gradbench_evals import EVAL_NAMES, load
from adjit.gradbench.replay import mismatches, read_session, replay
from adjit.gradbench.tool import Tool, timed_runs

ROOT = Path(__file__).resolve().parents[1]
DATA = Path(__file__).resolve().parent / "data" / "gradbench"   # with ../adbench: ADBench's lstm files

needs_data = pytest.mark.skipif(not DATA.is_dir(), reason=f"the recorded gradbench sessions are not there ({DATA})")


def run_tool(messages, *options):
    """Feed `messages` to ``python -m adjit.gradbench``; its answers, one per message."""
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")])))
    text = "".join(json.dumps(m) + "\n" for m in messages)
    out = subprocess.run([sys.executable, "-m", "adjit.gradbench", *options], input=text, capture_output=True,
                         text=True, timeout=600, cwd=ROOT, env=env)
    assert out.returncode == 0, out.stderr
    answers = [json.loads(line) for line in out.stdout.splitlines()]
    assert len(answers) == len(messages), out.stderr
    return answers


# every recorded session: one per eval that gradbench's reference tool answers, and ht's
# simple variant (kmeans and det were not recorded; particle and saddle carry their
# expected answer in the eval itself and are checked against it below)
SESSIONS = sorted(p.stem for p in DATA.glob("*.jsonl")) if DATA.is_dir() else []


def test_every_session_is_an_eval():
    assert {name.replace("_simple", "") for name in SESSIONS} <= set(EVAL_NAMES)


@needs_data
@pytest.mark.parametrize("name", SESSIONS)
def test_recorded_session_validates_through_the_tool_process(name):
    records = read_session(DATA / f"{name}.jsonl")
    messages = [r["message"] for r in records]
    answers = run_tool(messages)
    evaluations = 0
    for message, expected, answer in zip(messages, (r["response"] for r in records), answers):
        assert answer["id"] == message["id"]
        kind = message["kind"]
        if kind == "start":
            assert answer["tool"] == "adjit"
        elif kind == "define":
            assert answer["success"] is True, answer.get("error")
        elif kind == "evaluate":
            evaluations += 1
            assert answer["success"] is True, answer.get("error")
            problems = mismatches(answer["output"], expected["output"])
            assert not problems, f"{message['function']} {message.get('description')}: {problems[:5]}"
            names = [t["name"] for t in answer["timings"]]
            runs = message["input"].get("min_runs", 1) if isinstance(message["input"], dict) else 1
            assert names.count("evaluate") >= runs
            assert all(isinstance(t["nanoseconds"], int) and t["nanoseconds"] >= 0 for t in answer["timings"])
        else:
            assert answer == {"id": message["id"]}
    assert evaluations > 0


@needs_data
def test_replay_in_process_reports_timings_and_honours_min_runs():
    results = replay(read_session(DATA / "llsq.jsonl"), min_runs=3, min_seconds=0.0)
    assert [r.function for r in results] == ["primal", "gradient", "primal", "gradient"]
    for r in results:
        assert not r.problems
        assert sum(t["name"] == "evaluate" for t in r.response["timings"]) == 3
        assert r.seconds > 0


def test_the_api_timing_option_gives_the_same_answers():
    messages = [{"id": 0, "kind": "start", "eval": "hello"}, {"id": 1, "kind": "define", "module": "hello"},
                {"id": 2, "kind": "evaluate", "module": "hello", "function": "double", "input": 3.0}]
    answers = run_tool(messages, "--through-api")
    assert answers[2]["success"] and answers[2]["output"] == 6.0


def test_protocol_edge_cases():
    tool = Tool()
    assert tool.handle({"id": 0, "kind": "start", "eval": "hello"})["tool"] == "adjit"
    answer = tool.handle({"id": 1, "kind": "define", "module": "nosuch"})
    assert answer["id"] == 1 and answer["success"] is False and "nosuch" in answer["error"]
    answer = tool.handle({"id": 2, "kind": "evaluate", "module": "hello", "function": "square", "input": 2.0})
    assert answer["success"] is False and "not defined" in answer["error"]
    assert tool.handle({"id": 3, "kind": "define", "module": "hello"})["success"] is True
    answer = tool.handle({"id": 4, "kind": "evaluate", "module": "hello", "function": "cube", "input": 2.0})
    assert answer["success"] is False and "cube" in answer["error"]
    answer = tool.handle({"id": 5, "kind": "evaluate", "module": "hello", "function": "square", "input": "x"})
    assert answer["success"] is False and answer["error"]
    assert tool.handle({"id": 6, "kind": "analysis", "of": 5, "valid": False, "error": "?"}) == {"id": 6}
    assert tool.handle({"id": 7, "kind": "end"}) == {"id": 7}


def test_timed_runs_honours_min_runs_and_min_seconds():
    calls = []
    result, timings = timed_runs(lambda v: calls.append(v) or v, (5,), min_runs=4, min_seconds=0.0)
    assert result == 5 and len(timings) == 4 == len(calls)
    _, timings = timed_runs(lambda: sum(range(1000)), (), min_runs=1, min_seconds=0.02)
    assert sum(timings) >= 0.02e9


def test_comparison_rule():
    assert mismatches([1.0, {"a": [2.0]}], [1.0, {"a": [2.0 + 1e-5]}]) == []
    assert mismatches(1e-5, 5e-5) == []                 # |x - y| is measured against max(1, |x| + |y|)
    assert mismatches(100.0, 100.1) != []
    assert mismatches([1.0], [1.0, 2.0]) != []          # lengths must match
    assert mismatches({"a": 1.0}, {"b": 1.0}) != []     # keys must match
    assert mismatches(2, 2.0) == []                     # an int against a float is a number


def central_differences(function, args, argnum, eps=1e-6):
    x = args[argnum]
    grad = np.zeros_like(x)
    for index in np.ndindex(x.shape):
        up, down = x.copy(), x.copy()
        up[index] += eps
        down[index] -= eps
        grad[index] = (function(*args[:argnum], up, *args[argnum + 1:])
                       - function(*args[:argnum], down, *args[argnum + 1:])) / (2 * eps)
    return grad


SMALL_INPUTS = {
    "lse": lambda rng: {"x": (3 * rng.standard_normal(7)).tolist()},
    "llsq": lambda rng: {"x": rng.random(5).tolist(), "n": 9},
    # n small enough that the last output depends on every x (one RK4 step reaches 4 entries further)
    "ode": lambda rng: {"x": rng.random(6).tolist(), "s": 2},
    "gmm": lambda rng: dict(load("gmm").example(), m=2, gamma=1.5,
                            alpha=rng.standard_normal(2).tolist()),
    "lstm": lambda rng: load("lstm").example(),
}


@pytest.mark.parametrize("name", sorted(SMALL_INPUTS))
def test_gradients_match_central_differences(name):
    """The differentiated functions, on small inputs where every entry of the gradient matters."""
    evaluation = load(name)
    primal, gradient = evaluation.functions.values()
    inp = SMALL_INPUTS[name](np.random.default_rng(7))
    args = gradient.arguments(inp)
    grads = gradient.run(*args)
    grads = grads if isinstance(grads, tuple) else (grads,)
    argnums = gradient.run.argnums if isinstance(gradient.run.argnums, tuple) else (gradient.run.argnums,)
    function = gradient.run.py_func
    primal_output = primal.run(*args)
    assert function(*args) == pytest.approx(primal_output[-1] if name == "ode" else primal_output)
    for argnum, grad in zip(argnums, grads):
        expected = central_differences(function, args, argnum)
        scale = np.max(np.abs(expected))
        assert scale > 0
        assert np.max(np.abs(grad - expected)) <= 1e-6 * max(scale, 1e-3), (name, argnum)


def test_ode_primal_is_the_whole_solution_and_gradient_is_of_its_last_entry():
    evaluation = load("ode")
    args = evaluation.functions["primal"].arguments({"x": [0.3, 0.7, 0.2, 0.9], "s": 3})
    y = evaluation.functions["primal"].run(*args)
    from adjit.bench.gradbench_evals.ode import ode_last
    assert y.shape == (4,) and y[-1] == ode_last(*args)
    h = 2.0 / 3
    assert y[0] == pytest.approx(3 * h * 0.3)          # y_0' = x_0


def test_gmm_objective_counts_every_term():
    """The objective against a direct transcription with full matrices (small d, k, n)."""
    from adjit.bench.gradbench_evals.gmm import gmm_objective, wishart_constant
    rng = np.random.default_rng(3)
    d, k, n, m, gamma = 3, 2, 5, 1, 1.3
    alpha, mu, q = rng.standard_normal(k), rng.standard_normal((k, d)), rng.standard_normal((k, d))
    l, x = rng.standard_normal((k, d * (d - 1) // 2)), rng.standard_normal((n, d))
    expected = -n * d * 0.5 * math.log(2 * math.pi)
    qs = []
    for ik in range(k):
        qk = np.diag(np.exp(q[ik]))
        rows, cols = np.triu_indices(d, 1)      # (i, j) with i < j in the column-by-column order
        for idx, (i, j) in enumerate(zip(rows, cols)):
            qk[j, i] = l[ik, idx]
        qs.append(qk)
    for ix in range(n):
        terms = [alpha[ik] + q[ik].sum() - 0.5 * np.sum((qs[ik] @ (x[ix] - mu[ik])) ** 2) for ik in range(k)]
        expected += np.log(np.sum(np.exp(terms)))
    expected -= n * np.log(np.sum(np.exp(alpha)))
    for ik in range(k):
        expected -= 0.5 * gamma ** 2 * (np.sum(np.exp(q[ik]) ** 2) + np.sum(l[ik] ** 2)) - m * q[ik].sum()
    expected += k * wishart_constant(d, gamma, m)
    assert gmm_objective(alpha, mu, q, l, x, gamma, m, wishart_constant(d, gamma, m)) == pytest.approx(expected)


def test_the_timed_callable_answers_as_the_public_call():
    from adjit.gradbench.tool import specialised
    evaluation = load("gmm")
    jacobian = evaluation.functions["jacobian"]
    args = jacobian.arguments(evaluation.example())
    fast = specialised(jacobian.run, args)
    assert fast is not jacobian.run                     # the compiled specialisation is timed
    for a, b in zip(fast(*args), jacobian.run(*args)):
        assert np.array_equal(a, b)
    assert specialised(jacobian.run, args, through_api=True) is jacobian.run


@needs_data
@pytest.mark.parametrize("name", ["lse", "llsq", "ode", "gmm", "lstm"])
def test_generated_default_workloads_start_with_the_recorded_ones(name):
    """The timing workloads are generated as gradbench's evals generate them: the first
    ones are exactly the recorded sessions' inputs (lstm: the recorded parameters were
    unseeded random numbers, so only the sequence can agree)."""
    import itertools
    from adjit.gradbench.workloads import iter_workloads
    recorded = []
    for record in read_session(DATA / f"{name}.jsonl"):
        message = record["message"]
        if message.get("kind") == "evaluate" and message["function"] in ("primal", "objective"):
            recorded.append((message["input"], message["description"]))
    generated = list(itertools.islice(iter_workloads(name, DATA.parent / "adbench"), len(recorded)))
    assert len(generated) == len(recorded)
    for (inp, description, _), (expected, expected_description) in zip(generated, recorded):
        if name == "lstm":
            assert inp["sequence"] == expected["sequence"]
            assert [len(inp[k]) for k in ("main_params", "extra_params", "state")] == \
                   [len(expected[k]) for k in ("main_params", "extra_params", "state")]
        else:
            assert description == expected_description
            assert inp == {k: v for k, v in expected.items() if k not in ("min_runs", "min_seconds")}


# ---- the evals added for issue 17: kmeans, ba, ht, det, particle, saddle -----------------

def test_det_and_its_gradient_at_several_matrices():
    """Expansion by minors against LAPACK's determinant; its gradient against central
    differences and adjit.tape, at matrices of sizes 1 to 4."""
    from adjit import tape
    from adjit.bench.gradbench_evals.det import det_by_minors
    evaluation = load("det")
    rng = np.random.default_rng(5)
    for ell in (1, 2, 3, 4):
        inp = {"A": rng.standard_normal(ell * ell).tolist(), "ell": ell}
        args = evaluation.functions["primal"].arguments(inp)
        assert evaluation.functions["primal"].run(*args) == pytest.approx(np.linalg.det(args[0]), rel=1e-12, abs=1e-12)
        grad = evaluation.functions["gradient"].run(*args)
        expected = central_differences(det_by_minors, args, 0)
        assert np.max(np.abs(grad - expected)) <= 1e-7 * max(1.0, np.max(np.abs(expected)))
        assert np.max(np.abs(grad - tape.grad(det_by_minors)(*args))) <= 1e-12 * max(1.0, np.max(np.abs(grad)))
        output = evaluation.functions["gradient"].output(grad)
        assert output == pytest.approx(np.ravel(grad).tolist()) and len(output) == ell * ell   # row-major


def test_kmeans_newton_direction_against_differences_and_tape():
    """dir = J / diag(H): J against central differences and adjit.tape, diag(H) against
    second differences (the cost is piecewise quadratic), at two inputs."""
    from adjit import tape
    from adjit.bench.gradbench_evals.kmeans import cost_gradient, kmeans_cost
    evaluation = load("kmeans")
    for seed, (n, k, d) in ((1, (9, 3, 2)), (2, (12, 4, 3))):
        points = np.random.default_rng(seed).random((n, d))
        inp = {"points": points.tolist(), "centroids": points[-k:].tolist()}
        args = evaluation.functions["dir"].arguments(inp)
        P, C = args[0], args[1]
        assert evaluation.functions["cost"].run(P, C) == pytest.approx(
            np.sum(np.min(((P[:, None, :] - C[None]) ** 2).sum(-1), axis=1)))
        gradient = cost_gradient(P, C)
        assert np.allclose(gradient, central_differences(kmeans_cost, (P, C), 1), atol=1e-6)
        assert np.allclose(gradient, tape.grad(kmeans_cost, argnums=1)(P, C), atol=1e-12)
        eps = 1e-4
        diagonal = np.zeros_like(C)
        for index in np.ndindex(C.shape):
            up, down = C.copy(), C.copy()
            up[index] += eps
            down[index] -= eps
            diagonal[index] = (kmeans_cost(P, up) - 2 * kmeans_cost(P, C) + kmeans_cost(P, down)) / eps ** 2
        direction = evaluation.functions["dir"].run(*args)
        assert np.allclose(direction, gradient / diagonal, rtol=1e-6, atol=1e-9)


def sparse_to_dense(rows, cols, vals, shape):
    dense = np.zeros(shape)
    for r in range(shape[0]):
        for at in range(rows[r], rows[r + 1]):
            dense[r, cols[at]] += vals[at]
    return dense


def test_ba_sparse_jacobian_is_the_jacobian_of_the_objective():
    """The whole sparse Jacobian (not only the part the eval sends), made dense, against
    central differences of the objective in every camera, point and weight; one row of
    blocks also against adjit.tape."""
    from adjit import tape
    from adjit.bench.gradbench_evals import ba
    evaluation = load("ba")
    inp = dict(ba.example_input(), n=2, m=3, p=5)
    cams, xs, ws, obs, feats = evaluation.functions["jacobian"].arguments(inp)
    cams = cams + 0.01 * np.random.default_rng(4).standard_normal(cams.shape)   # cameras that differ
    rows, cols, vals = evaluation.functions["jacobian"].run(cams, xs, ws, obs, feats)
    n, m, p = 2, 3, 5
    dense = sparse_to_dense(rows, cols, vals, (3 * p, 11 * n + 3 * m + p))
    flat = np.concatenate([cams.ravel(), xs.ravel(), ws])

    def objective(v):
        reproj, w_err = evaluation.functions["objective"].run(
            v[:11 * n].reshape(n, 11), v[11 * n:11 * n + 3 * m].reshape(m, 3), v[11 * n + 3 * m:], obs, feats)
        return np.concatenate([reproj, w_err])
    expected = np.zeros_like(dense)
    for j in range(flat.size):
        step = 1e-6 * max(1.0, abs(flat[j]))
        up, down = flat.copy(), flat.copy()
        up[j] += step
        down[j] -= step
        expected[:, j] = (objective(up) - objective(down)) / (2 * step)
    assert np.max(np.abs(dense - expected)) <= 1e-6 * np.max(np.abs(expected))
    c, x = cams[obs[3, 0]], xs[obs[3, 1]]
    numbers = (*c, *x, ws[3], *feats[3])
    block = tape.grad(ba.residual_v, argnums=ba.WRT)(*numbers)
    assert np.allclose(vals[rows[7]:rows[8]], block, rtol=1e-12)
    output = evaluation.functions["jacobian"].output((rows, cols, vals))
    assert output["rows"] == rows[:30].tolist() + [rows[-1]] and len(output["cols"]) == len(output["vals"]) == 31


@pytest.mark.parametrize("complicated", [False, True])
def test_ht_jacobian_against_central_differences(complicated):
    """Every column: theta's, and in the complicated case the two compressed u columns
    (residual i moves with u_i only), against central differences of the objective."""
    from adjit.bench.gradbench_evals.ht import example_input
    evaluation = load("ht")
    inp = example_input(complicated)
    args = evaluation.functions["jacobian"].arguments(inp)
    jacobian = evaluation.functions["jacobian"].run(*args)
    objective = evaluation.functions["objective"].run
    theta = args[1]
    columns = []
    if complicated:
        us = args[4]
        for c in range(2):
            def moved(step, c=c):
                shifted = us.copy()
                shifted[:, c] += step
                return objective(*args[:4], shifted, *args[5:])
            columns.append((moved(1e-6) - moved(-1e-6)) / 2e-6)
    for j in range(theta.size):
        up, down = theta.copy(), theta.copy()
        up[j] += 1e-6
        down[j] -= 1e-6
        columns.append((objective(args[0], up, *args[2:]) - objective(args[0], down, *args[2:])) / 2e-6)
    expected = np.stack(columns, axis=1)
    assert jacobian.shape == expected.shape == (3 * len(inp["data"]["correspondences"]), 28 if complicated else 26)
    assert np.max(np.abs(jacobian - expected)) <= 1e-6 * np.max(np.abs(expected))


EXPECTED_NESTED = {"particle": ({"w": 0.0}, 0.2071918746486116),
                   "saddle": ({"start": [1.0, 1.0]}, [8.246324826140356e-06] * 4)}


@pytest.mark.parametrize("name", sorted(EXPECTED_NESTED))
def test_nested_evals_give_the_evals_expected_answer_in_every_variant(name):
    """The evals validate against a fixed answer (python/gradbench/gradbench/evals/*/run.py):
    all four variants must give it, and agree with each other closely."""
    evaluation = load(name)
    inp, expected = EXPECTED_NESTED[name]
    answers = []
    for variant in ("ff", "fr", "rf", "rr"):
        function = evaluation.functions[variant]
        answers.append(function.output(function.run(*function.arguments(inp))))
        assert not mismatches(answers[-1], expected), variant
    assert np.allclose(answers, answers[0], rtol=1e-9, atol=1e-15)


def test_nested_derivatives_against_central_differences():
    """The derivatives the descents take: particle's d/dw of the trajectory objective
    (outer over inner) at three w in all four mode pairs, and saddle's gradient of the
    inner maximum at two points, against central differences of the compiled primal."""
    import adjit
    from adjit.bench.gradbench_evals import particle, saddle
    from adjit.bench.gradbench_evals.descent import VARIANTS, derivative, maximise
    for inner in "fr":
        objective = particle.euler_objective(derivative(inner, particle.potential))
        plain = adjit.jit(objective)
        for outer in "fr":
            slope = derivative(outer, objective, only_first=True)
            for w in (-0.3, 0.0, 0.25):
                expected = (plain(w + 1e-6, 0.0, 0.0, 0.0) - plain(w - 1e-6, 0.0, 0.0, 0.0)) / 2e-6
                got = slope(w, 0.0, 0.0, 0.0)
                assert got[0] == pytest.approx(expected, rel=1e-5, abs=1e-8) and got[1] == 0.0, (outer + inner, w)
    for modes in VARIANTS[::3]:           # ff and rr
        cost = saddle.outer_cost(maximise(saddle.inner_objective, derivative(modes[1], saddle.inner_objective)))
        plain = adjit.jit(cost)
        gradient = derivative(modes[0], cost)
        for x1, y1 in ((0.5, -0.25), (1.0, 1.0)):
            got = gradient(x1, y1, 1.0, 1.0)
            expected = [(plain(x1 + 1e-6, y1, 1.0, 1.0) - plain(x1 - 1e-6, y1, 1.0, 1.0)) / 2e-6,
                        (plain(x1, y1 + 1e-6, 1.0, 1.0) - plain(x1, y1 - 1e-6, 1.0, 1.0)) / 2e-6]
            assert np.allclose(got, expected, rtol=1e-5, atol=1e-7), (modes, x1, y1)


def test_generated_kmeans_and_det_workloads_follow_the_evals_generators():
    """kmeans and det were not recorded: their workloads follow the eval scripts' order and
    seeds (np.random.seed(31337) once, sizes sorted by k n d; ell = 5 ... 11), and every
    kmeans cluster has a point (the centroids are the last k points)."""
    import itertools
    from adjit.gradbench.workloads import iter_workloads
    first = list(itertools.islice(iter_workloads("kmeans"), 2))
    assert [d for _, d, _ in first] == ["k=10,n=1000,d=8", "k=10,n=1000,d=16"]
    np.random.seed(31337)
    points = np.random.rand(1000, 8).tolist()
    assert first[0][0] == {"points": points, "centroids": points[-10:]}
    dets = list(iter_workloads("det"))
    assert [d for _, d, _ in dets] == [str(ell) for ell in range(5, 12)]
    np.random.seed(31337)
    assert dets[0][0] == {"A": np.random.rand(25).tolist(), "ell": 5}


def test_unrecorded_evals_answer_through_the_tool_process():
    """kmeans, det, particle and saddle through ``python -m adjit.gradbench``: defined,
    every function answers, and the answers are the evals' (closed forms for kmeans and
    det, the evals' expected numbers for particle and saddle)."""
    points = np.random.default_rng(8).random((20, 3))
    A = np.random.default_rng(9).random(25)
    runs = {"min_runs": 2, "min_seconds": 0.0}
    plan = [("kmeans", "cost", {"points": points.tolist(), "centroids": points[-4:].tolist()}),
            ("kmeans", "dir", {"points": points.tolist(), "centroids": points[-4:].tolist()}),
            ("det", "primal", {"A": A.tolist(), "ell": 5}), ("det", "gradient", {"A": A.tolist(), "ell": 5})]
    plan += [(name, variant, EXPECTED_NESTED[name][0]) for name in ("particle", "saddle")
             for variant in ("ff", "fr", "rf", "rr")]
    messages = [{"id": 0, "kind": "start", "eval": "several"}]
    for name in ("kmeans", "det", "particle", "saddle"):
        messages.append({"id": len(messages), "kind": "define", "module": name})
    evaluations = {}
    for name, function, inp in plan:
        evaluations[len(messages)] = (name, function)
        messages.append({"id": len(messages), "kind": "evaluate", "module": name, "function": function,
                         "input": dict(inp, **runs)})
    answers = run_tool(messages)
    assert all(a["success"] for a in answers[1:5]), answers[1:5]
    near = np.argmin(((points[:, None, :] - points[None, -4:]) ** 2).sum(-1), axis=1)
    a = A.reshape(5, 5)
    expected = {("kmeans", "cost"): float(np.sum(np.min(((points[:, None, :] - points[None, -4:]) ** 2).sum(-1), 1))),
                ("kmeans", "dir"): [(points[-4 + j] - points[near == j].mean(0)).tolist() for j in range(4)],
                ("det", "primal"): float(np.linalg.det(a)),
                ("det", "gradient"): (np.linalg.det(a) * np.linalg.inv(a).T).ravel().tolist()}
    for ident, (name, function) in evaluations.items():
        answer = answers[ident]
        assert answer["success"], answer.get("error")
        assert sum(t["name"] == "evaluate" for t in answer["timings"]) >= 2
        want = expected.get((name, function), EXPECTED_NESTED.get(name, (None, None))[1])
        assert not mismatches(answer["output"], want, tolerance=1e-10), (name, function)
