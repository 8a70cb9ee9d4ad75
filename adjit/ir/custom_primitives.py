"""The two primitives behind user-defined derivative rules (`adjit.custom`).

``custom_vjp_out(out, *residuals, *args)`` and ``custom_jvp_out(out, *args)`` have the value
of their first operand; their derivative rules come from the user, carried in the attr
``rule`` (built by the frontend, `adjit.frontend.calls`): reverse mode asks a vjp rule for
the arguments' cotangents and passes nothing to ``out`` (the primal computation is not
differentiated), forward mode asks a jvp rule for the output's tangent.
"""
from .primitives import _as_is, _first, register

register("custom_vjp_out", _as_is, _first, "{0}",
         vjp=lambda g, args, o, attrs: attrs["rule"].vjp(g, args),
         jvp=lambda ts, args, o, attrs: attrs["rule"].jvp(ts, args))  # a clear refusal
register("custom_jvp_out", _as_is, _first, "{0}",
         vjp=lambda g, args, o, attrs: attrs["rule"].vjp(g, args),
         jvp=lambda ts, args, o, attrs: attrs["rule"].jvp(ts, args))
