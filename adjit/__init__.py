"""adjit: a just-in-time, source-transformation automatic-differentiation compiler
for numeric Python, compiled with Numba.

    @adjit.grad
    def loss(x, n): ...          # plain Python with loops, branches, array writes
    loss(x, 3)                   # the gradient with respect to x, at native speed
"""
from .api import check_grad, grad, jit, show, show_ir, value_and_grad  # noqa: F401
from .custom import custom_jvp, custom_vjp  # noqa: F401
from .transforms import hessian, hvp, jacfwd, jacrev, jvp, vjp  # noqa: F401
from .errors import (AdjitError, AdjitNameError, AdjitTypeError, GradientError,  # noqa: F401
                     RecursionRefusedError, SourceUnavailableError, UnsupportedSyntaxError)
from . import tape  # noqa: F401

__version__ = "0.1.0"
__all__ = ["jit", "grad", "value_and_grad", "jvp", "vjp", "jacfwd", "jacrev", "hessian", "hvp", "custom_jvp", "custom_vjp", "show", "show_ir", "check_grad", "tape", "AdjitError",
           "AdjitNameError", "AdjitTypeError", "GradientError", "RecursionRefusedError",
           "SourceUnavailableError", "UnsupportedSyntaxError"]
