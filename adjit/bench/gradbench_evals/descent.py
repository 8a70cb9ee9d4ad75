"""gradbench's gradient-descent solver for the nested-AD evals (particle, saddle).

gradbench fixes the solver so that every tool takes the same steps (its
``cpp/gradbench/gd.hpp``): from the start, step against the gradient with a step
size eta (first 1e-5); a step that lowers the function is taken, and after ten taken
steps in a row eta doubles; a step that does not is refused and halves eta.  The
descent stops when the gradient's norm or the step's length is at most 1e-5.

The functions here are factories: ``minimise(f, gradient)`` returns a function of the
start point (two numbers a, b) and of two constants c0, c1 that adjit compiles, with the
calls of `f(a, b, c0, c1)` and `gradient(a, b, c0, c1)` (its derivative in a and b;
adjit derivatives, or functions that call them) inlined.  Points are two numbers, not
arrays, so that the descent can itself be differentiated (saddle, whose inner descent
runs at a point of the outer one: the constants).
"""
import math

import adjit

TOLERANCE = 1e-5

# The four variants of the nested-AD evals: the outer derivative's mode, then the inner one's.
VARIANTS = ("ff", "fr", "rf", "rr")


def derivative(mode, f, only_first=False):
    """The derivative of f(a, b, c0, c1) in (a, b), as a function of (a, b, c0, c1) that
    returns the pair; with `only_first`, in a only (the pair's second entry is 0).

    Mode "r" is reverse (``adjit.grad``).  Mode "f" is forward: one ``adjit.jvp`` per
    direction, along (1, 0, 0, 0) and (0, 1, 0, 0).  ``adjit.jacfwd(f, argnums=(0, 1))``
    gives the same numbers, but inside compiled code each of its calls allocates three
    small arrays for its tangent lanes, which made the inner-forward variants 20-100x
    slower than with jvp (see docs/gradbench.md).
    """
    if mode == "r":
        if not only_first:
            return adjit.grad(f, argnums=(0, 1))
        slope = adjit.grad(f, argnums=0)

        def first_of_pair(a, b, c0, c1):
            return slope(a, b, c0, c1), 0.0
        return first_of_pair
    if only_first:
        def forward_first(a, b, c0, c1):
            value, da = adjit.jvp(f, (a, b, c0, c1), (1.0, 0.0, 0.0, 0.0))
            return da, 0.0
        return forward_first

    def forward_pair(a, b, c0, c1):
        value, da = adjit.jvp(f, (a, b, c0, c1), (1.0, 0.0, 0.0, 0.0))
        value, db = adjit.jvp(f, (a, b, c0, c1), (0.0, 1.0, 0.0, 0.0))
        return da, db
    return forward_pair


def minimise(f, gradient):
    """The argmin of f(., ., c0, c1) from a start (a, b), as a function (a, b, c0, c1) -> (a, b)."""
    def argmin(a, b, c0, c1):
        fx = f(a, b, c0, c1)
        ga, gb = gradient(a, b, c0, c1)
        taken = 0
        eta = 1e-5
        while True:
            if math.sqrt(ga * ga + gb * gb) <= TOLERANCE:
                return a, b
            if taken == 10:
                eta = 2.0 * eta
                taken = 0
            else:
                na = a - eta * ga
                nb = b - eta * gb
                if math.sqrt((a - na) * (a - na) + (b - nb) * (b - nb)) <= TOLERANCE:
                    return a, b
                fn = f(na, nb, c0, c1)
                if fn < fx:
                    a = na
                    b = nb
                    fx = fn
                    ga, gb = gradient(a, b, c0, c1)
                    taken += 1
                else:
                    eta = 0.5 * eta
                    taken = 0
    return argmin


def maximise(f, gradient):
    """The argmax of f(., ., c0, c1): the argmin of -f."""
    def negated(a, b, c0, c1):
        return -f(a, b, c0, c1)

    def negated_gradient(a, b, c0, c1):
        ga, gb = gradient(a, b, c0, c1)
        return -ga, -gb
    return minimise(negated, negated_gradient)
