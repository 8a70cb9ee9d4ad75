"""Replay a recorded gradbench session through the tool and check every output.

A recorded session (``tests/data/gradbench/*.jsonl``) has one line per eval message,
``{"message": ..., "response": ...}``, with the reference tool's response.  ``replay``
feeds the messages to a ``Tool`` and compares each evaluate output with the reference
by gradbench's rule (``python/gradbench/gradbench/comparison.py``, from ADBench):
``|x - y| / max(1, |x| + |y|) <= 1e-4`` for floats, recursively through lists and dicts,
lengths and keys equal.

    python -m adjit.gradbench.replay tests/data/gradbench/gmm.jsonl [...]
"""
import json
import sys
from dataclasses import dataclass, field

from .tool import Tool

TOLERANCE = 1e-4


def mismatches(output, expected, tolerance=TOLERANCE, path="output"):
    """The places where `output` differs from `expected` by gradbench's rule (a list of str)."""
    if isinstance(expected, bool) or isinstance(output, bool) or isinstance(expected, str):
        return [] if output == expected else [f"{path}: {output!r} != {expected!r}"]
    if isinstance(expected, (int, float)):
        if not isinstance(output, (int, float)):
            return [f"{path}: {type(output).__name__} where a number is expected"]
        x, y = float(output), float(expected)
        error = abs(x - y) / max(1.0, abs(x) + abs(y))
        return [] if error <= tolerance else [f"{path}: {x!r} vs {y!r} (relative error {error:.3g})"]
    if isinstance(expected, list):
        if not isinstance(output, list) or len(output) != len(expected):
            length = len(output) if isinstance(output, list) else type(output).__name__
            return [f"{path}: length {length} where {len(expected)} is expected"]
        return [m for i, (a, b) in enumerate(zip(output, expected))
                for m in mismatches(a, b, tolerance, f"{path}[{i}]")]
    if isinstance(expected, dict):
        if not isinstance(output, dict) or set(output) != set(expected):
            keys = sorted(output) if isinstance(output, dict) else type(output).__name__
            return [f"{path}: keys {keys} where {sorted(expected)} are expected"]
        return [m for key in expected for m in mismatches(output[key], expected[key], tolerance, f"{path}.{key}")]
    return [] if output == expected else [f"{path}: {output!r} != {expected!r}"]


@dataclass
class Evaluation:
    """One evaluate message of a session, with adjit's answer."""

    function: str
    description: str
    response: dict
    problems: list = field(default_factory=list)

    @property
    def seconds(self):
        """Median seconds of the evaluate runs."""
        runs = sorted(t["nanoseconds"] for t in self.response.get("timings", []) if t["name"] == "evaluate")
        return runs[len(runs) // 2] * 1e-9 if runs else None


def replay(records, min_runs=None, min_seconds=None):
    """Run a session's messages through a fresh Tool; one Evaluation per evaluate message.

    Every answer is checked: ids match, defines succeed, evaluate outputs agree with the
    recorded ones.  `min_runs`/`min_seconds` override the recorded inputs' (for timing).
    """
    tool = Tool()
    results = []
    for record in records:
        message, expected = record["message"], record["response"]
        if message.get("kind") == "evaluate" and isinstance(message.get("input"), dict):
            message = dict(message, input=dict(message["input"]))
            if min_runs is not None:
                message["input"]["min_runs"] = min_runs
            if min_seconds is not None:
                message["input"]["min_seconds"] = min_seconds
        answer = json.loads(json.dumps(tool.handle(message)))
        problems = [] if answer.get("id") == message.get("id") else [f"id {answer.get('id')!r}"]
        if message.get("kind") == "define" and not answer.get("success"):
            problems.append(f"define failed: {answer.get('error')}")
        if message.get("kind") == "evaluate":
            if not answer.get("success"):
                problems.append(f"evaluate failed: {answer.get('error')}")
            else:
                problems += mismatches(answer["output"], expected["output"])
            results.append(Evaluation(message["function"], message.get("description", str(message["input"])),
                                      answer, problems))
        elif problems:
            raise AssertionError(f"message {message}: {problems}")
    return results


def read_session(path):
    with open(path) as f:
        return [json.loads(line) for line in f if line.strip()]


def main(argv=None):
    paths = sys.argv[1:] if argv is None else argv
    failed = 0
    for path in paths:
        for evaluation in replay(read_session(path)):
            status = "ok" if not evaluation.problems else f"MISMATCH ({len(evaluation.problems)})"
            print(f"{path}: {evaluation.function} {evaluation.description}: {status}")
            for problem in evaluation.problems[:5]:
                print("    " + problem)
            failed += bool(evaluation.problems)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
