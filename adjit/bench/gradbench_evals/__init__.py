"""gradbench's evals written as adjit user code.

Each module here holds one eval of gradbench (github.com/gradbench/gradbench): plain
Python functions with scalar loops, differentiated with adjit's transformations
(``grad``, ``jacfwd``, ``jacrev``, ``jvp``, and compositions of them) -- no derivative
is written by hand -- and an ``EVAL`` that says how the gradbench tool
(``python -m adjit.gradbench``) turns an eval's JSON input into arguments and a result
into the JSON output the eval expects.

| module | gradbench functions | user function |
|---|---|---|
| hello | square, double | ``square(x) = x * x``; double is its gradient |
| lse | primal, gradient | ``adjit.bench.problems.logsumexp.logsumexp`` |
| llsq | primal, gradient | ``llsq_objective(x, n)`` |
| ode | primal, gradient | ``ode_solution(x, s)``, ``ode_last(x, s)`` (RK4) |
| gmm | objective, jacobian | ``gmm_objective(alpha, mu, q, l, x, gamma, m, wishart_c)`` |
| lstm | objective, jacobian | ``lstm_objective(main_params, extra_params, state, sequence)`` |
| kmeans | cost, dir | ``kmeans_cost(points, centroids)``; dir is jvp of its gradient along ones |
| ba | objective, jacobian | ``residual_u``/``residual_v`` of one observation; rows of the sparse Jacobian by grad |
| ht | objective, jacobian | ``ht_simple``, ``ht_complicated``; jacfwd in theta (and two seeded u columns) |
| det | primal, gradient | ``det_by_minors(a)`` (expansion by minors, without recursion) |
| particle | ff, fr, rf, rr | ``euler_objective(force)(w)`` under ``descent.minimise`` |
| saddle | ff, fr, rf, rr | ``saddle_function`` under nested ``descent.maximise``/``minimise`` |
"""
import importlib
from dataclasses import dataclass
from typing import Callable

import numpy as np

EVAL_NAMES = ("hello", "lse", "llsq", "ode", "gmm", "lstm", "kmeans", "ba", "ht", "det", "particle", "saddle")


@dataclass(frozen=True)
class EvalFunction:
    """One function of an eval.

    ``run(*args)`` is the compiled function (``adjit.jit`` or ``adjit.grad``); it is the
    only thing that is timed.  ``arguments(input)`` turns the eval's decoded JSON input
    into the arguments (NumPy arrays, numbers); ``output(result)`` turns ``run``'s result
    into the JSON value the eval expects.
    """

    run: Callable
    arguments: Callable
    output: Callable


@dataclass(frozen=True)
class Eval:
    name: str
    functions: dict          # gradbench function name -> EvalFunction
    example: Callable        # () -> a small input of the eval's shape, to compile at define time
    more_examples: Callable = tuple   # () -> inputs of other argument types the eval may send (ht: simple)

    def compile(self):
        """Compile every function for the argument types of the eval's inputs.

        adjit specialises on types (float64 arrays of a given ndim, ints, floats), not on
        sizes, so one call on a small input compiles what every workload runs.
        """
        for example in (self.example(), *self.more_examples()):
            for function in self.functions.values():
                function.run(*function.arguments(example))


def load(name):
    """The ``Eval`` of eval `name` (KeyError if adjit does not implement it)."""
    if name not in EVAL_NAMES:
        raise KeyError(name)
    return importlib.import_module(f"{__name__}.{name}").EVAL


def floats(values):
    """A JSON list (of lists) of numbers as a float64 array."""
    return np.asarray(values, dtype=np.float64)


def to_float(result):
    return float(result)


def to_list(result):
    return np.asarray(result).tolist()


# The benchmark problems (adjit.bench.problems) include these evals, and these evals use
# the problems' helpers: importing the registry here, once the names above exist, makes
# the import order the same whichever module is imported first.
from .. import problems as _problems  # noqa: E402,F401
