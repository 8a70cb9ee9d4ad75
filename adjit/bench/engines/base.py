"""What an engine is, and the shape of the answers every engine gives.

An engine turns a problem into a callable ``run(*args) -> (value, grads)`` where
``grads`` is a tuple with one entry per differentiated argument (a float or an ndarray),
or ``None`` for engines that only evaluate the function (the primal).
"""
import numpy as np


class EngineUnavailable(Exception):
    """The engine cannot run here (package not installed, no version of this problem).

    The harness prints the reason and skips the engine; it is not a failure.
    """


def gradients_only(engine, problem):
    """Raise EngineUnavailable on a problem whose derivative is not a gradient (a Hessian,
    a Jacobian) for an engine that computes gradients only."""
    if problem.derivative != "gradient":
        raise EngineUnavailable(f"{engine.name} computes gradients, not the {problem.derivative} of "
                                f"{problem.name}")


class Engine:
    """Base class.  Subclasses set ``name`` and implement ``prepare``."""

    name = "?"
    #: a slow engine runs at a reduced size and its time is extrapolated to the full size
    slow = False
    #: problems on which an otherwise fast engine is slow (measured, see the subclass)
    slow_problems = frozenset()
    #: does ``run`` return gradients (False for the primal)
    computes_gradient = True
    #: the label shown in tables; an engine may refine it in ``prepare``
    label = None

    def is_slow(self, problem):
        """Run `problem` at a reduced size and extrapolate?"""
        return self.slow or problem.name in self.slow_problems

    def available(self):
        """Raise EngineUnavailable if the engine cannot run on this machine."""

    def prepare(self, problem):
        """Return ``run(*args) -> (value, grads)`` for `problem`, compiled lazily or not."""
        raise NotImplementedError

    def display_name(self):
        return self.label or self.name


def normalise(value, grads):
    """(float, tuple of float64 ndarrays or floats) from whatever an engine returned (the
    value of a vector function, on a ``jacobian`` problem, stays an ndarray)."""
    value = np.asarray(value, dtype=np.float64)
    value = float(value) if value.ndim == 0 else value
    if grads is None:
        return value, None
    if not isinstance(grads, (tuple, list)):
        grads = (grads,)
    out = []
    for g in grads:
        a = np.asarray(g, dtype=np.float64)
        out.append(float(a) if a.ndim == 0 else a)
    return value, tuple(out)
