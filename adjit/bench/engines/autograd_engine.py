"""HIPS autograd running the unmodified user function with autograd.numpy."""
import importlib
import math

from .base import Engine, EngineUnavailable, gradients_only
from .shims import MATH_CONSTANTS, namespace, numpy_array_maker, rebind

_UNARY = ("sin", "cos", "tan", "exp", "log", "sqrt", "tanh", "sinh", "cosh",
          "arcsin", "arccos", "arctan", "log1p", "expm1")
_MATH_NAMES = {"arcsin": "asin", "arccos": "acos", "arctan": "atan"}


class AutogradEngine(Engine):
    """``np`` becomes autograd.numpy and ``math.f`` becomes autograd.numpy's f.

    autograd cannot assign a traced value into an array (``a[i] = v`` raises), so the
    arrays the function creates with np.zeros/ones/empty are lists of scalars
    (ScalarArray).  Reading ``x[i]`` off a differentiated array is cheap: autograd's
    backward for indexing is a sparse update, not a full-size array per read.
    """

    name = "autograd"
    slow = True

    def _modules(self):
        try:
            return importlib.import_module("autograd"), importlib.import_module("autograd.numpy")
        except ImportError as exc:
            raise EngineUnavailable("autograd is not installed") from exc

    def available(self):
        self._modules()

    def prepare(self, problem):
        autograd, anp = self._modules()
        gradients_only(self, problem)
        math_ns = namespace("math", math, dict(
            {_MATH_NAMES.get(name, name): getattr(anp, name) for name in _UNARY}, **MATH_CONSTANTS))
        np_ns = namespace("numpy", anp, {
            "zeros": numpy_array_maker(0.0), "ones": numpy_array_maker(1.0), "empty": numpy_array_maker(0.0)})
        function = rebind(problem.function, {"math": math_ns, "np": np_ns, "numpy": np_ns})
        return autograd.value_and_grad(function, argnum=problem.argnums)
