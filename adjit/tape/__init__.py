"""adjit.tape: a reverse-mode, operator-overloading AD engine (a Wengert list).

It runs the same, unmodified user function with its module-level ``math`` and ``numpy``
swapped for tape-aware stand-ins, records every arithmetic operation with its partial
derivatives on a flat tape, and sweeps the tape backwards with gradient accumulators.  It
is the baseline adjit's compiled gradients are measured against, and an independent oracle
for their correctness.

    >>> from adjit.tape import grad
    >>> import math
    >>> def f(x, y):
    ...     return x * math.sin(y)
    >>> grad(f, argnums=(0, 1))(2.0, 0.0)
    (0.0, 2.0)

Module layout: ``rules`` (the primitive table), ``core`` (tape, tape scalars, backward
sweep), ``arrays`` (tape arrays and vector rules), ``numpy_api`` (the ``numpy``/``math``
stand-ins), ``swap`` (re-creating the user's functions), ``api`` (grad, value_and_grad).
"""

from .api import grad, value_and_grad
from .arrays import TapeArray
from .core import Var
from .numpy_api import MATH as math
from .numpy_api import NP as numpy

np = numpy

__all__ = ['grad', 'value_and_grad', 'Var', 'TapeArray', 'math', 'numpy', 'np']
