"""gradbench's ``particle`` eval (Pearlmutter and Siskind): nested AD in four variants.

A particle of unit mass and charge starts at (0, 8) with velocity (0.75, 0) in the field
of two unit charges at (10, 10 - w) and (10, 0), whose potential is

    p(x; w) = 1 / |x - (10, 10 - w)| + 1 / |x - (10, 0)|.

Naive Euler steps of dt = 0.1 move it (acceleration -grad_x p: the first derivative)
until its next position would cross the x axis; the crossing point is then the linear
interpolation along its velocity, and the objective is that point's first coordinate
squared.  The answer is the w that minimises it, found from the given start by
gradient descent (the second derivative: the gradient of a function that computes
gradients).  The variants name the mode of the outer and the inner derivative:
f = forward (``adjit.jvp``), r = reverse (``adjit.grad``).

Each variant is built by the same two factories, as a user would write it once: the
inner derivative is a closure of ``euler_objective``, and the outer derivative a closure
of ``argmin`` -- adjit inlines the transformed functions they hold, so the whole descent,
with every derivative inside it, is one compiled function.
"""
import math

import adjit

from . import Eval, EvalFunction, to_float
from .descent import VARIANTS, derivative, minimise


def potential(x0, x1, w, unused):
    """p at x = (x0, x1); four arguments, as every function the derivatives of
    ``descent.derivative`` take (the derivative is in the first two)."""
    return (1.0 / math.sqrt((x0 - 10.0) ** 2 + (x1 - (10.0 - w)) ** 2)
            + 1.0 / math.sqrt((x0 - 10.0) ** 2 + x1 ** 2))


def euler_objective(force):
    """x0(t_f)^2 as a function of w (and of three constants, unused: the solver's calling
    convention), where force(x0, x1, w, 0) is the gradient of p in x."""
    def objective(w, unused, c0, c1):
        x0 = 0.0
        x1 = 8.0
        v0 = 0.75
        v1 = 0.0
        dt = 0.1
        while True:
            g0, g1 = force(x0, x1, w, 0.0)
            n0 = x0 + dt * v0
            n1 = x1 + dt * v1
            if n1 <= 0.0:
                break
            x0 = n0
            x1 = n1
            v0 = v0 - dt * g0
            v1 = v1 - dt * g1
        dt_f = -x1 / v1
        end = x0 + dt_f * v0
        return end * end
    return objective


def variant(modes):
    """The compiled descent for one variant ("rf": outer reverse, inner forward).

    The solver works on two numbers; w is the first, and the second is a constant with
    a zero derivative, so the steps are those of the one-dimensional descent."""
    objective = euler_objective(derivative(modes[1], potential))
    argmin = minimise(objective, derivative(modes[0], objective, only_first=True))

    def particle(w0):
        w, unused = argmin(w0, 0.0, 0.0, 0.0)
        return w
    return adjit.jit(particle)


def _w(inp):
    return (float(inp["w"]),)


EVAL = Eval(
    name="particle",
    functions={name: EvalFunction(variant(name), _w, to_float) for name in VARIANTS},
    example=lambda: {"w": 0.0},
)
