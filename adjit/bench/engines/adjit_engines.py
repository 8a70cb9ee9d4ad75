"""adjit's own engines: the compiler (adjit.value_and_grad), the tape, and the primal.

These are imported when used, not when the harness starts, so the harness runs (and
reports them as failed) while the compiler or the tape is still being written.
"""
import importlib

import numba

from .base import Engine, gradients_only


def _api(module_name, attribute):
    """`module_name.attribute`, or an error that says which of the two is missing."""
    try:
        module = importlib.import_module(module_name)
    except Exception as exc:
        raise RuntimeError(f"cannot import {module_name}: {type(exc).__name__}: {exc}") from exc
    fn = getattr(module, attribute, None)
    if fn is None:
        raise RuntimeError(f"{module_name}.{attribute} is not available yet")
    return fn


class AdjitEngine(Engine):
    """adjit.value_and_grad: the source-transformation compiler under test; on the problems
    beyond gradients, adjit.hessian / adjit.jacfwd beside adjit.jit for the value."""

    name = "adjit"
    module = "adjit"

    def prepare(self, problem):
        if problem.derivative != "gradient":
            return self._second(problem)
        value_and_grad = _api(self.module, "value_and_grad")
        return value_and_grad(problem.function, argnums=problem.argnums)

    def _second(self, problem):
        if self.module != "adjit":   # the tape computes gradients only
            gradients_only(self, problem)
        transform = _api("adjit", "hessian" if problem.derivative == "hessian" else "jacfwd")
        derivative = transform(problem.function, argnums=problem.argnums[0])
        value = _api("adjit", "jit")(problem.function)

        def run(*args):
            return value(*args), (derivative(*args),)
        return run


class TapeEngine(AdjitEngine):
    """adjit.tape.value_and_grad: operator overloading on the unmodified function."""

    name = "adjit.tape"
    module = "adjit.tape"
    slow = True


class PrimalEngine(Engine):
    """The function alone, compiled: adjit.jit, or numba.njit when adjit.jit is missing
    or fails on the problem, or NumPy itself when Numba cannot compile it either (e.g.
    ``np.max(z, axis=1, keepdims=True)``); labelled so in the table.

    Its time is the denominator of the "x primal" column: how many function evaluations
    one gradient costs.
    """

    name = "primal"
    computes_gradient = False

    def __init__(self):
        self._compiled = {}     # problem name -> (compiled function, label)

    def prepare(self, problem):
        function = problem.function
        self.label = None

        def run(*args):
            # adjit.jit may compile lazily, so the fallback is decided at the first call
            if problem.name not in self._compiled:
                self._compiled[problem.name] = self._compile_and_call(function, args)
            compiled, self.label = self._compiled[problem.name]
            return compiled(*args), None
        return run

    @staticmethod
    def _compile_and_call(function, args):
        try:
            compiled = _api("adjit", "jit")(function)
            compiled(*args)
            return compiled, "primal (adjit.jit)"
        except Exception as exc:
            if "not available" in str(exc) or "cannot import" in str(exc):
                reason = "adjit.jit unavailable"
            else:
                reason = f"adjit.jit raised {type(exc).__name__}"
            compiled = numba.njit(cache=True)(function)
            try:
                compiled(*args)
            except Exception as numba_exc:
                return function, f"primal (uncompiled NumPy: {reason}, numba.njit raised {type(numba_exc).__name__})"
            return compiled, f"primal (numba.njit fallback, {reason})"
