"""PyTorch autograd: the user's loop on 0-d tensors, and a vectorised version."""
import importlib
import math

import numpy as np

from .base import Engine, EngineUnavailable, gradients_only
from .shims import MATH_CONSTANTS, ScalarArray, namespace, numpy_array_maker, rebind

_UNARY = ("sin", "cos", "tan", "exp", "log", "sqrt", "tanh", "sinh", "cosh",
          "asin", "acos", "atan", "log1p", "expm1", "erf")


def _torch():
    try:
        return importlib.import_module("torch")
    except ImportError as exc:
        raise EngineUnavailable("torch is not installed") from exc


def _either(tensor_type, torch_fn, plain_fn):
    """Call the torch function on tensors and the plain one on Python/NumPy numbers."""
    def call(*args):
        if any(isinstance(a, tensor_type) for a in args):
            return torch_fn(*args)
        return plain_fn(*args)
    return call


def _stand_ins(torch):
    unary = {name: _either(torch.Tensor, getattr(torch, name), getattr(math, name)) for name in _UNARY}
    math_ns = namespace("math", math, dict(unary, **MATH_CONSTANTS))
    np_unary = {name: _either(torch.Tensor, getattr(torch, name), getattr(np, name))
                for name in _UNARY if hasattr(np, name)}
    np_ns = namespace("numpy", np, dict(
        np_unary,
        zeros=numpy_array_maker(0.0), ones=numpy_array_maker(1.0), empty=numpy_array_maker(0.0)))
    return {"math": math_ns, "np": np_ns, "numpy": np_ns}


def _leaves(torch, args, argnums):
    """Leaf tensors for the differentiated arguments, created anew for each call."""
    return {pos: torch.tensor(args[pos], dtype=torch.float64, requires_grad=True) for pos in argnums}


def _gradients(torch, out, leaves):
    tensors = list(leaves.values())
    if not (isinstance(out, torch.Tensor) and out.requires_grad):
        return float(out), tuple(np.zeros(t.shape) for t in tensors)
    grads = torch.autograd.grad(out, tensors, allow_unused=True)
    return out.item(), tuple(np.zeros(t.shape) if g is None else g.numpy() for g, t in zip(grads, tensors))


class TorchScalarEngine(Engine):
    """The unmodified user function on 0-d tensors (math/np swapped for torch-aware ones).

    ``x op= v`` is run as ``x = x op v``: on a tensor it would be an in-place update that
    silently changes every earlier reference to the same tensor.

    Differentiated arrays are split into 0-d tensors with ``unbind`` (one graph node for
    the whole array): reading ``x[i]`` off a 1-d tensor instead would make every read's
    backward allocate a full-size gradient, O(n^2) in all.
    """

    name = "torch"
    slow = True

    def available(self):
        _torch()

    def prepare(self, problem):
        torch = _torch()
        gradients_only(self, problem)
        if problem.vectorised:
            raise EngineUnavailable(f"{problem.name} is whole-array code, not scalar loops (see torch-vec)")
        function = rebind(problem.function, _stand_ins(torch), spell_out_augmented=True)
        argnums = problem.argnums

        def run(*args):
            leaves = _leaves(torch, args, argnums)
            call_args = []
            for pos, arg in enumerate(args):
                if pos in leaves:
                    t = leaves[pos]
                    arg = t if t.ndim == 0 else ScalarArray(list(t.reshape(-1).unbind(0)), t.shape)
                elif isinstance(arg, np.ndarray):
                    arg = ScalarArray(arg.reshape(-1).tolist(), arg.shape)
                call_args.append(arg)
            return _gradients(torch, function(*call_args), leaves)
        return run


class TorchVectorEngine(Engine):
    """A vectorised PyTorch version of the problem, where one exists.

    On the whole-array problems (``problem.vectorised``: small matrices, a batch of 64)
    PyTorch runs on one thread, as the compiled engines do.  Measured: with its default
    two OpenMP threads on this 2-core machine, one MLP step took 0.3-0.6 ms when the
    machine was idle and 20-60 ms when another process was running (the threads wait
    for each other at every operation); on one thread, 0.5 ms either way.
    """

    name = "torch-vec"
    # Measured: on `ode` (32 unknowns) each RK4 step is a dozen tiny tensor operations,
    # about 0.35 ms per step forward and backward, 7 s per call at s = 20,000; gb-ode
    # is the same loop.
    slow_problems = frozenset({"ode", "gb-ode"})

    def available(self):
        _torch()

    def prepare(self, problem):
        torch = _torch()
        gradients_only(self, problem)
        from ..peers import torch_versions
        function = torch_versions.VECTORISED.get(problem.name)
        if function is None:
            raise EngineUnavailable(f"no vectorised form of {problem.name} (a sequential recurrence)")
        argnums = problem.argnums
        threads = 1 if problem.vectorised else None

        def run(*args):
            saved = torch.get_num_threads()
            if threads:
                torch.set_num_threads(threads)
            try:
                leaves = _leaves(torch, args, argnums)
                call_args = [leaves[pos] if pos in leaves
                             else torch.from_numpy(arg) if isinstance(arg, np.ndarray) else arg
                             for pos, arg in enumerate(args)]
                return _gradients(torch, function(*call_args), leaves)
            finally:
                torch.set_num_threads(saved)
        return run
