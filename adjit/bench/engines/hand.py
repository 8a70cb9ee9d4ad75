"""The hand-written Numba adjoint of each problem: the reference and the speed limit."""
from .base import Engine


class HandEngine(Engine):
    name = "hand"

    def prepare(self, problem):
        return problem.hand
