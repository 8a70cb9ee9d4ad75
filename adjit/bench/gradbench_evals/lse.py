"""gradbench's ``lse`` eval: logsumexp with the max trick and its gradient.

The function is the benchmark harness's ``logsumexp`` problem: a loop for the maximum,
a loop for the sum of exponentials, written from those primitives as the eval asks.
"""
import adjit

from ..problems.logsumexp import logsumexp
from . import Eval, EvalFunction, floats, to_float, to_list


def _x(inp):
    return (floats(inp["x"]),)


EVAL = Eval(
    name="lse",
    functions={
        "primal": EvalFunction(adjit.jit(logsumexp), _x, to_float),
        "gradient": EvalFunction(adjit.grad(logsumexp), _x, to_list),
    },
    example=lambda: {"x": [0.5, -1.0, 2.0]},
)
