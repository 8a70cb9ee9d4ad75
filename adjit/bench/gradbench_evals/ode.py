"""gradbench's ``ode`` eval (after cmpad's ``an_ode``): s RK4 steps over t in [0, 2] of

    y_0' = x_0,   y_i' = x_i y_(i-1)  (i > 0),   y(0) = 0.

``primal`` returns the whole solution y(2); ``gradient`` the gradient of its last
entry with respect to x.  The eval's README writes the right-hand side as
(x_1 + ... + x_i) y_(i-1), but its reference implementation (cpp/gradbench/evals/ode.hpp),
against which tools are validated, uses x_i y_(i-1); so does this module (checked on the
recorded sessions).  The RK4 loop is the benchmark harness's ``rk4_chain`` helper, which
the ``ode`` problem calls with the prefix sums instead of x.
"""
import adjit
import numpy as np

from ..problems.ode import rk4_chain
from . import Eval, EvalFunction, floats, to_list


def ode_solution(x, s):
    y = np.zeros(x.shape[0])
    rk4_chain(x[0], x, s, y)
    return y


def ode_last(x, s):
    n = x.shape[0]
    y = np.zeros(n)
    rk4_chain(x[0], x, s, y)
    return y[n - 1]


def _arguments(inp):
    return (floats(inp["x"]), int(inp["s"]))


EVAL = Eval(
    name="ode",
    functions={
        "primal": EvalFunction(adjit.jit(ode_solution), _arguments, to_list),
        "gradient": EvalFunction(adjit.grad(ode_last), _arguments, to_list),
    },
    example=lambda: {"x": [0.5, 0.25, 0.125], "s": 2},
)
