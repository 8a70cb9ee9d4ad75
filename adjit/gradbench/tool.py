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
import argparse
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


def specialised(run, args, through_api=False):
    """The callable to time for ``run(*args)``, with the same result as ``run(*args)``.

    ``run`` is an ``adjit.jit`` or ``adjit.grad`` object.  Each call of it first works out
    the argument types and looks up the compiled specialisation for them, in Python (about
    5 µs for one argument, more with more; see docs/api.md); the C++, JAX and PyTorch
    tools of gradbench time their compiled code only, so by default so does this tool: the
    dispatch happens here, once,
    outside the timings, and the specialisation's compiled (Numba) function is what is
    timed.  With `through_api` the public call itself is timed.
    """
    expected = run(*args)     # dispatch (and compile, if define did not already)
    spec = getattr(run, "last", None)
    compiled = getattr(spec, "compiled", None)
    if through_api or compiled is None:
        return run
    if not hasattr(run, "argnums"):      # adjit.jit: the compiled function returns what f returns
        fast = compiled
    else:
        many = isinstance(run.argnums, tuple)
        with_value = getattr(run, "with_value", False)

        def fast(*call_args):
            # the generated gradient returns (value, grad_1, ..., grad_k); adjit.grad the grads
            out = compiled(*call_args)
            grads = out[1:] if many else out[1]
            return (out[0], grads) if with_value else grads
    # these are adjit's internals: if they ever answer differently, time the public call
    return fast if _same(fast(*args), expected) else run


def _same(a, b):
    if isinstance(a, (tuple, list)) or isinstance(b, (tuple, list)):
        return (isinstance(a, (tuple, list)) and isinstance(b, (tuple, list)) and len(a) == len(b)
                and all(_same(x, y) for x, y in zip(a, b)))
    return np.array_equal(np.asarray(a), np.asarray(b), equal_nan=True)


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

    def __init__(self, through_api=False):
        self.evals = {}
        self.through_api = through_api

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
            run = specialised(function.run, args, self.through_api)
            result, timings = timed_runs(run, args, int(runs.get("min_runs", 1)),
                                         float(runs.get("min_seconds", 0.0)))
            output = function.output(result)
        except Exception as exc:   # noqa: BLE001 - reported to the eval
            return {"success": False, "error": _error_text(exc)}
        return {"success": True, "output": output,
                "timings": [{"name": "prepare", "nanoseconds": prepare}]
                + [{"name": "evaluate", "nanoseconds": t} for t in timings]}


def serve(lines, write, through_api=False):
    """Answer each JSON line of `lines` by calling `write` with one JSON line."""
    tool = Tool(through_api)
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


def keep_freed_memory():
    """Ask glibc's malloc to keep freed memory for reuse instead of returning it to the OS.

    The gradients of the larger workloads allocate tens of megabytes of tapes per call.
    With glibc's defaults these are fresh pages on every run, and first-touch page faults
    then cost more than the arithmetic: ode at n = 10^5, s = 10 spent ~30 of 42 ms of
    its forward sweep in them.  Like JAX's and PyTorch's caching allocators, the tool keeps
    its memory between runs.  Returns whether the settings were applied (glibc only).
    """
    try:
        import ctypes
        libc = ctypes.CDLL("libc.so.6")
        m_trim_threshold, m_top_pad, m_mmap_threshold = -1, -2, -3
        return all(libc.mallopt(option, value) == 1 for option, value in (
            (m_mmap_threshold, 1 << 30),     # serve large blocks from the heap, not fresh mmaps
            (m_trim_threshold, 2**31 - 1),   # never give the heap's top back
            (m_top_pad, 256 << 20)))         # grow the heap in large steps
    except (OSError, AttributeError):
        return False


def main(argv=None):
    parser = argparse.ArgumentParser(
        prog="python -m adjit.gradbench",
        description="adjit as a gradbench tool: reads the eval's JSON messages on stdin, "
                    "answers on stdout (see docs/gradbench.md)")
    parser.add_argument("--system-malloc", action="store_true",
                        help="leave glibc's malloc settings alone (by default the tool asks malloc to "
                             "keep freed memory for reuse between runs, as JAX's and PyTorch's caching "
                             "allocators do, so that large tapes do not page-fault on every run)")
    parser.add_argument("--through-api", action="store_true",
                        help="time the public adjit.jit/adjit.grad call, Python dispatch included, "
                             "instead of the compiled function it dispatches to")
    options = parser.parse_args(argv)
    if not options.system_malloc:
        keep_freed_memory()

    def write(text):
        sys.stdout.write(text)
        sys.stdout.flush()
    serve(sys.stdin, write, options.through_api)
    return 0
