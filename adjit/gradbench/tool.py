"""The gradbench protocol: one JSON message per line on stdin, one answer per line on stdout.

Messages (gradbench's CONTRIBUTING.md, "Protocol"):

* ``start``    -> ``{"id", "tool": "adjit", "config": {...}}``
* ``define``   -> ``{"id", "success", "timings": [{"name": "compile", ...}]}``: the module's
  functions are compiled here, by calling each once on a small input of the eval's types,
  so that compilation is never inside a timed evaluation;
* ``evaluate`` -> ``{"id", "success", "output", "timings": [...]}``: one ``prepare`` timing
  (JSON lists to NumPy arrays) and one ``evaluate`` timing per run; the function runs at
  least ``min_runs`` times and until the evaluate timings add up to ``min_seconds``;
* anything else (``analysis``, ``end``, ...) -> ``{"id"}``.

Failures answer ``"success": false`` with an ``"error"``; the tool keeps going.
"""
import json
import sys
import time
import traceback

import numpy as np

from ..bench import gradbench_evals

TOOL_NAME = "adjit"


def _version():
    try:
        from importlib import metadata
        return metadata.version("adjit")
    except Exception:   # noqa: BLE001 - the version is decoration
        return "unknown"


def _error_text(exc):
    return f"{type(exc).__name__}: {exc}"


def timed_runs(run, args, min_runs=1, min_seconds=0.0):
    """Call ``run(*args)`` at least `min_runs` times and until `min_seconds` of calls.

    Returns (last result, [nanoseconds of each call]).  Only the call is timed.
    """
    timings = []
    spent = 0
    budget = int(min_seconds * 1e9)
    result = None
    while len(timings) < max(1, min_runs) or spent < budget:
        start = time.perf_counter_ns()
        result = run(*args)
        elapsed = time.perf_counter_ns() - start
        timings.append(elapsed)
        spent += elapsed
    return result, timings


class Tool:
    """The protocol state: the evals defined so far.  ``handle`` answers one message."""

    def __init__(self):
        self.evals = {}

    def handle(self, message):
        kind = message.get("kind")
        answer = {"id": message.get("id")}
        if kind == "start":
            answer.update(tool=TOOL_NAME, config={"version": _version()})
        elif kind == "define":
            answer.update(self.define(message["module"]))
        elif kind == "evaluate":
            answer.update(self.evaluate(message))
        return answer

    def define(self, module):
        try:
            evaluation = gradbench_evals.load(module)
        except KeyError:
            return {"success": False, "error": f"adjit does not implement the {module!r} eval"}
        start = time.perf_counter_ns()
        try:
            evaluation.compile()
        except Exception as exc:   # noqa: BLE001 - reported to the eval
            return {"success": False, "error": _error_text(exc)}
        self.evals[module] = evaluation
        return {"success": True, "timings": [{"name": "compile", "nanoseconds": time.perf_counter_ns() - start}]}

    def evaluate(self, message):
        module, name = message["module"], message["function"]
        evaluation = self.evals.get(module)
        if evaluation is None:
            return {"success": False, "error": f"module {module!r} is not defined"}
        function = evaluation.functions.get(name)
        if function is None:
            return {"success": False, "error": f"the {module!r} eval has no function {name!r}"}
        inp = message.get("input")
        try:
            start = time.perf_counter_ns()
            args = function.arguments(inp)
            prepare = time.perf_counter_ns() - start
            runs = inp if isinstance(inp, dict) else {}
            result, timings = timed_runs(function.run, args, int(runs.get("min_runs", 1)),
                                         float(runs.get("min_seconds", 0.0)))
            output = function.output(result)
        except Exception as exc:   # noqa: BLE001 - reported to the eval
            return {"success": False, "error": _error_text(exc)}
        return {"success": True, "output": output,
                "timings": [{"name": "prepare", "nanoseconds": prepare}]
                + [{"name": "evaluate", "nanoseconds": t} for t in timings]}


def serve(lines, write):
    """Answer each JSON line of `lines` by calling `write` with one JSON line."""
    tool = Tool()
    for line in lines:
        if not line.strip():
            continue
        message = None
        try:
            message = json.loads(line)
            answer = tool.handle(message)
        except Exception as exc:   # noqa: BLE001 - a malformed message must not end the session
            traceback.print_exc(file=sys.stderr)
            ident = message.get("id") if isinstance(message, dict) else None
            answer = {"id": ident, "success": False, "error": _error_text(exc)}
        write(json.dumps(answer, default=_json_default) + "\n")


def _json_default(value):
    if isinstance(value, np.generic):
        return value.item()
    raise TypeError(f"{type(value).__name__} is not JSON serialisable")


def main():
    def write(text):
        sys.stdout.write(text)
        sys.stdout.flush()
    serve(sys.stdin, write)
    return 0
