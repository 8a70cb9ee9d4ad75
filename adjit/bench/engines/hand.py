"""The hand-written Numba derivatives of each problem: the expert's code (the reference
and the speed limit) and, where a problem has one, the mechanical adjoint."""
import numba

from .base import Engine, EngineUnavailable


def fresh_copy(function):
    """A new, not disk-cached Numba dispatcher of the same Python function and options.

    The references are ``cache=True`` (the tests and the check call them often), and some
    are shared by several problems (the three Rosenbrock spellings): a copy makes every
    engine's first call a compilation, comparable with adjit's and JAX's.  Numba helpers
    a reference calls are compiled once per process, by the first problem that uses them.
    """
    if isinstance(function, numba.core.registry.CPUDispatcher):
        options = {k: v for k, v in function.targetoptions.items() if k != "nopython"}  # njit's own
        return numba.njit(**options)(function.py_func)
    return function


class HandEngine(Engine):
    name = "hand"

    def prepare(self, problem):
        return fresh_copy(problem.hand)


class HandMechanicalEngine(Engine):
    """The textbook adjoint (forward sweep, reversed sweep over a tape), where the
    problem's expert code is something else (forward mode, fused loops)."""

    name = "hand-mech"

    def prepare(self, problem):
        if problem.hand_mechanical is None:
            raise EngineUnavailable("no mechanical adjoint beside the expert's reference")
        return fresh_copy(problem.hand_mechanical)
