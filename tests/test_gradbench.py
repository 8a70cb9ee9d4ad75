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


@needs_data
@pytest.mark.parametrize("name", EVAL_NAMES)
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
    answer = tool.handle({"id": 1, "kind": "define", "module": "ba"})
    assert answer["id"] == 1 and answer["success"] is False and "ba" in answer["error"]
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
