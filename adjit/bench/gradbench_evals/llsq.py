"""gradbench's ``llsq`` eval (after cmpad's ``llsq_obj``): a least-squares polynomial fit.

    y(x) = 1/2 sum_{i<n} (s_i - x_0 - x_1 t_i - ... - x_{m-1} t_i^(m-1))^2,
    t_i = -1 + 2 i / (n - 1),   s_i = sign(t_i),

with the gradient with respect to the m coefficients x.  The powers t_i^j are computed
first, into an (n, m) design matrix that does not depend on x (one multiplication per
entry instead of a call to pow); the residuals then read it.  As the matrix is not
differentiated, the gradient reads its entries again instead of taping them.
"""
import adjit
import numpy as np

from . import Eval, EvalFunction, floats, to_float, to_list


def llsq_objective(x, n):
    m = x.shape[0]
    powers = np.empty((n, m))
    for i in range(n):
        t = -1.0 + i * 2.0 / (n - 1)
        p = 1.0
        for j in range(m):
            powers[i, j] = p
            p *= t
    total = 0.0
    for i in range(n):
        r = np.sign(-1.0 + i * 2.0 / (n - 1))
        for j in range(m):
            r -= x[j] * powers[i, j]
        total += r * r
    return 0.5 * total


def _arguments(inp):
    return (floats(inp["x"]), int(inp["n"]))


EVAL = Eval(
    name="llsq",
    functions={
        "primal": EvalFunction(adjit.jit(llsq_objective), _arguments, to_float),
        "gradient": EvalFunction(adjit.grad(llsq_objective), _arguments, to_list),
    },
    example=lambda: {"x": [0.5, -1.0, 2.0], "n": 4},
)
