"""JAX: jax.jit(jax.value_and_grad(...)) of the problem rewritten with lax loops; on the
problems beyond gradients, jax.jit of the value with jax.hessian / jax.jacfwd."""
import importlib

import numpy as np

from .base import Engine, EngineUnavailable


def _jax_versions():
    try:
        importlib.import_module("jax")
    except ImportError as exc:
        raise EngineUnavailable("jax is not installed") from exc
    return importlib.import_module("adjit.bench.peers.jax_versions")


class JaxEngine(Engine):
    """Idiomatic JAX: vectorised where the loop is a map or reduction, lax loops elsewhere."""

    name = "jax"
    table = "IDIOMATIC"

    def available(self):
        _jax_versions()

    def prepare(self, problem):
        versions = _jax_versions()
        import jax
        function = getattr(versions, self.table).get(problem.name)
        if function is None:
            raise EngineUnavailable(f"no JAX version of {problem.name}")
        compiled = {}   # the static (integer) arguments -> jitted value_and_grad
        transform = _transform(jax, function, problem)

        def run(*args):
            # integer arguments are loop trip counts: they must be static, or fori_loop
            # becomes a while_loop that jax.grad cannot reverse
            static = tuple(pos for pos, a in enumerate(args) if isinstance(a, (int, np.integer)))
            if static not in compiled:
                compiled[static] = jax.jit(transform, static_argnums=static)
            value, grads = compiled[static](*args)
            value = jax.block_until_ready(value)
            grads = jax.block_until_ready(grads)
            return np.asarray(value), tuple(np.asarray(g) for g in grads)
        return run


def _transform(jax, function, problem):
    """jax.value_and_grad, or the value beside jax.hessian / jax.jacfwd (of one argument,
    returned as a 1-tuple like the gradients), compiled together by jax.jit."""
    if problem.derivative == "gradient":
        return jax.value_and_grad(function, argnums=problem.argnums)
    derivative = (jax.hessian if problem.derivative == "hessian" else jax.jacfwd)(function,
                                                                                    argnums=problem.argnums[0])

    def value_and_derivative(*args):
        return function(*args), (derivative(*args),)
    return value_and_derivative


class JaxLoopEngine(JaxEngine):
    """The user's scalar loops, each one a lax.fori_loop."""

    name = "jax-loop"
    table = "LOOP"

    # Measured: on the ODE in gradbench's shape (loops over n nested in the loop over
    # steps, each writing an n-array with .at[i].set) the cost grows like n^1.4: 1.3 s per
    # call at n = 10,000, so it runs at a reduced size like the interpreted engines.
    slow_problems = frozenset({"ode-gradbench"})
