"""Calls of helpers with user-defined derivative rules (`adjit.custom`) in compiled code.

The call becomes the helper's primal computation (inlined like any helper) followed by a
``custom_vjp_out`` / ``custom_jvp_out`` primitive carrying a rule object.  The rule is
asked for derivatives only when a transformation needs them; it translates the user's
``bwd`` or ``jvp`` function for the types at hand and inlines it where the transformation
is building code (so the rule's values are fresh: nothing is confused with the caller's).
"""
from ..custom import custom_vjp
from ..errors import GradientError, UnsupportedSyntaxError
from ..ir.core import Value
from ..ir.inline import inline
from ..ir.sym import F, Sym, _builder
from ..ir.types import F64, is_array, is_float


def call_custom(tr, target, path, node):
    if node.keywords:
        raise tr.error(UnsupportedSyntaxError, node, f"keyword arguments in a call to {path}() are not supported",
                       hint="pass the arguments by position")
    args = [tr.expr(a) for a in node.args]
    if not all(isinstance(a, Value) for a in args):
        raise tr.error(UnsupportedSyntaxError, node, f"{path}() takes numbers and arrays, not tuples")
    expanding = tr.__dict__.setdefault("custom_expanding", [])
    if target in expanding:  # the rule's own call of the function (fwd computing the output): plain
        return tr.inline(target.fun, args, node)
    where = "{}:{}".format(*tr.ctx.parsed.where(node)[:2])
    expanding.append(target)
    try:
        return _expand(tr, target, path, node, args, where)
    finally:
        expanding.pop()


def _expand(tr, target, path, node, args, where):
    from .translate import Tup
    if isinstance(target, custom_vjp):
        fwd, bwd = target.rule(where)
        result = tr.inline(fwd, args, node)
        if not isinstance(result, Tup) or len(result.items) != 2 or not isinstance(result.items[0], Value):
            raise tr.error(UnsupportedSyntaxError, node, f"the fwd rule of {path}() must return (output, residuals)")
        out, res = result.items
        residuals = res.items if isinstance(res, Tup) else [res]
        if not all(isinstance(r, Value) for r in residuals):
            raise tr.error(UnsupportedSyntaxError, node, f"the residuals of {path}() must be numbers or arrays")
        rule = _VjpRule(bwd, len(residuals), isinstance(res, Tup), len(args), path)
        return tr.b.emit("custom_vjp_out", [out] + residuals + args, {"rule": rule})
    jvp = target.rule(where)
    out = tr.inline(target.fun, args, node)
    if not isinstance(out, Value):
        raise tr.error(UnsupportedSyntaxError, node, f"an adjit.custom_jvp function ({path}) must return one value")
    return tr.b.emit("custom_jvp_out", [out] + args, {"rule": _JvpRule(jvp, path)})


def _ir(func, types):
    from ..frontend import translate
    from ..passes import dce
    return dce(translate(func, list(types)))


def _values(syms):
    return [s.value if isinstance(s, Sym) else s for s in syms]


class _VjpRule:
    """Reverse mode: the cotangents of the arguments from the user's bwd(residuals, g)."""

    def __init__(self, bwd, n_res, res_is_tuple, n_args, name):
        self.bwd, self.n_res, self.res_is_tuple, self.n_args, self.name = bwd, n_res, res_is_tuple, n_args, name

    def __repr__(self):
        return f"custom_vjp({self.name})"

    def vjp(self, g, operands):
        res = _values(operands[1:1 + self.n_res])
        g = _values([g])[0]
        res_type = tuple(r.type for r in res) if self.res_is_tuple else res[0].type
        outs = inline(_builder(), _ir(self.bwd, [res_type, g.type]), res + [g])
        if len(outs) != self.n_args:
            raise GradientError(f"the bwd rule of {self.name}() returned {len(outs)} cotangent(s) for "
                                f"{self.n_args} argument(s): return a tuple with one per argument")
        return [None] * (1 + self.n_res) + outs

    def jvp(self, tangents, operands):
        raise GradientError(f"{self.name}() has a custom_vjp rule, which forward mode (jvp, jacfwd, hessian) "
                            "cannot use", hint="give it a custom_jvp rule instead, or use reverse mode")


class _JvpRule:
    """Forward mode: the output's tangent from the user's jvp(primals, tangents); reverse
    mode: one jvp per (number) argument, the rule being linear in the tangents."""

    def __init__(self, jvp, name):
        self.jvp_fn, self.name = jvp, name

    def __repr__(self):
        return f"custom_jvp({self.name})"

    def _tangent_out(self, primals, tangents):
        ir = _ir(self.jvp_fn, [tuple(p.type for p in primals), tuple(t.type for t in tangents)])
        outs = inline(_builder(), ir, primals + tangents)
        if len(outs) != 2:
            raise GradientError(f"the jvp rule of {self.name}() must return (output, output_tangent)")
        return outs[1]

    def jvp(self, tangents, operands):
        primals = _values(operands[1:])
        ts = []
        for t, p in zip(tangents[1:], primals):
            if t is not None:
                ts.append(_values([t])[0])
            else:
                ts.append(F.zeros_like(p, dtype=F64).value if is_array(p.type) else _builder().const(0.0))
        return self._tangent_out(primals, ts)

    def vjp(self, g, operands):
        primals = _values(operands[1:])
        g = _values([g])[0]
        b = _builder()
        out = [None]
        for k, p in enumerate(primals):
            if not is_float(p.type):
                out.append(None)
                continue
            if is_array(p.type):
                raise GradientError(f"reverse mode through the custom_jvp rule of {self.name}() needs number "
                                    "arguments (it runs one jvp per argument)",
                                    hint="give the function a custom_vjp rule for array arguments")
            basis = [b.const(1.0 if m == k else 0.0) if not is_array(q.type) else
                     F.zeros_like(q, dtype=F64).value for m, q in enumerate(primals)]
            t = self._tangent_out(primals, basis)
            c = (Sym(g) * Sym(t)).value
            out.append(b.emit("sum", [c], {"axis": None}) if is_array(c.type) else c)
        return out
