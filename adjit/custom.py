"""User-defined derivative rules: ``adjit.custom_vjp`` and ``adjit.custom_jvp``, as in JAX.

A module-level helper decorated with one of these is inlined, wherever compiled code calls
it, as its primal computation followed by one table primitive (``custom_vjp_out`` /
``custom_jvp_out``) whose value is the primal output and whose derivative rule is the
user's: reverse mode inlines the ``bwd`` function where the rule is needed, forward mode
the ``jvp`` function.  So the rule replaces the derived one for a numerically stable
formula (log1pexp), the implicit derivative of a solver, or a function adjit cannot read.

    @adjit.custom_vjp
    def log1pexp(x):
        return math.log1p(math.exp(x))

    def log1pexp_fwd(x):
        return log1pexp(x), x               # the output, and what bwd needs (residuals)

    def log1pexp_bwd(x, g):
        return (g / (1.0 + math.exp(-x)),)  # one cotangent per argument

    log1pexp.defvjp(log1pexp_fwd, log1pexp_bwd)

Called from plain Python, the decorated function is the function itself.
"""
import functools

from .errors import AdjitError


class _Custom:
    def __init__(self, fun):
        self.fun = fun
        functools.update_wrapper(self, fun)
        del self.__wrapped__  # adjit reads self.fun's source itself; nothing should unwrap this

    def __call__(self, *args):
        return self.fun(*args)


class custom_vjp(_Custom):
    """``f = adjit.custom_vjp(f)``, then ``f.defvjp(fwd, bwd)``: ``fwd(*args)`` returns
    ``(output, residuals)`` (residuals a value or a tuple of them), ``bwd(residuals, g)``
    returns a tuple with one cotangent per argument.  Reverse mode uses bwd; forward mode
    (jvp, jacfwd, hessian) refuses a function that calls it, clearly."""

    fwd = bwd = None

    def defvjp(self, fwd, bwd):
        self.fwd, self.bwd = fwd, bwd
        return self

    def rule(self, where):
        if self.fwd is None:
            raise AdjitError(f"{where}: {self.fun.__name__} is an adjit.custom_vjp without rules",
                             hint=f"call {self.fun.__name__}.defvjp(fwd, bwd) after defining it")
        return self.fwd, self.bwd


class custom_jvp(_Custom):
    """``f = adjit.custom_jvp(f)``, then ``f.defjvp(jvp)`` (also as a decorator):
    ``jvp(primals, tangents)`` returns ``(output, output_tangent)``.  Forward mode uses it;
    reverse mode derives its vjp from it, one jvp per float argument, which needs the
    arguments to be numbers (with arrays, use custom_vjp)."""

    jvp = None

    def defjvp(self, jvp):
        self.jvp = jvp
        return jvp

    def rule(self, where):
        if self.jvp is None:
            raise AdjitError(f"{where}: {self.fun.__name__} is an adjit.custom_jvp without a rule",
                             hint=f"define it with @{self.fun.__name__}.defjvp")
        return self.jvp
