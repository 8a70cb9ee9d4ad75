"""gradbench's ``saddle`` eval (Pearlmutter and Siskind): nested AD in four variants.

With f(x1, y1, x2, y2) = (x1^2 + y1^2) - (x2^2 + y2^2), the answer is the saddle point
min over p1 = (x1, y1) of max over p2 = (x2, y2) of f, found by gradient descent from the
given start for every descent:

1. r1 = argmin of cost(p1) = max_p2 f(p1, p2), where the inner max is itself a gradient
   ascent (``descent.maximise``) from the start: the outer gradient differentiates through
   the inner descent, including the inner gradients it takes;
2. r2 = argmax of f(r1, p2) over p2.

The output is r1 and r2, four numbers.  The variants name the mode of the outer and the
inner derivative, f = forward (``adjit.jvp``, one per direction), r = reverse
(``adjit.grad``); step 2 uses the outer one.  As in ``particle``, one factory builds all four, and each is one
compiled function.
"""
import adjit

from . import Eval, EvalFunction, floats, to_list
from .descent import VARIANTS, derivative, maximise, minimise


def saddle_function(x1, y1, x2, y2):
    return (x1 * x1 + y1 * y1) - (x2 * x2 + y2 * y2)


def inner_objective(x2, y2, x1, y1):
    """f at p2 = (x2, y2), the point of the inner ascent, for a fixed p1 = (x1, y1)."""
    return saddle_function(x1, y1, x2, y2)


def outer_cost(inner_ascent):
    """max_p2 f(p1, p2) as a function of p1 = (x1, y1) and of the start (s0, s1)."""
    def cost(x1, y1, s0, s1):
        x2, y2 = inner_ascent(s0, s1, x1, y1)
        return saddle_function(x1, y1, x2, y2)
    return cost


def variant(modes):
    """The compiled saddle search for one variant ("rf": outer reverse, inner forward);
    every derivative is in the descent's point, the first two arguments."""
    inner_ascent = maximise(inner_objective, derivative(modes[1], inner_objective))
    cost = outer_cost(inner_ascent)
    outer_descent = minimise(cost, derivative(modes[0], cost))
    last_ascent = maximise(inner_objective, derivative(modes[0], inner_objective))

    def saddle(start):
        x1, y1 = outer_descent(start[0], start[1], start[0], start[1])
        x2, y2 = last_ascent(start[0], start[1], x1, y1)
        return x1, y1, x2, y2
    return adjit.jit(saddle)


def _start(inp):
    return (floats(inp["start"]),)


def _point(result):
    return to_list(list(result))


EVAL = Eval(
    name="saddle",
    functions={name: EvalFunction(variant(name), _start, _point) for name in VARIANTS},
    example=lambda: {"start": [1.0, 1.0]},
)
