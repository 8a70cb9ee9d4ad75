"""Forward mode (jvp) as an IR -> IR transformation.

Given ``f(params) -> outs`` and the params to perturb, build
``f_jvp(params, tangents) -> (*outs, *tangent_outs)``: one forward walk in which every
varied value carries its tangent (the lecture notes' dual numbers), computed by the same
primitive table that reverse mode uses: an elementwise primitive's tangent is
``sum_k partial_k * tangent(arg_k)``; a whole-array primitive has a ``jvp`` rule.

Memory needs no analysis of its own: the tangent of an array *mirrors its memory*.  Every
allocation in a varied alias class (`adjit.ir.alias`) gets a tangent buffer allocated
beside it, a view's tangent is the same view of its base's tangent, a store stores the
value's tangent into the tangent buffer, and ``if`` results and loop-carried arrays carry
their tangents with them.  So a write through any name reaches the tangent every other
name reads, and no snapshot or tape is ever needed.

Forward mode composes with reverse mode: applied to the IR reverse mode makes (tape
pushes and pops, adjoint buffers), it gives Hessian-vector products; the tapes of values
carry tapes of tangents.
"""
from ..errors import GradientError
from ..ir.alias import MemoryModel
from ..ir.builder import Builder
from ..ir.core import Function, Value, loop_parts
from ..ir.primitives import PRIMITIVES, makes_view, writes_memory
from ..ir.sym import Sym, building
from ..ir.types import F64, is_array, is_float
from .activity import varied_values

# allocations: the tangent of a new buffer is a zero buffer of its shape
_ALLOCS = ("zeros", "ones", "empty", "zeros_like", "ones_like", "empty_like")
# ops whose result is built from operand 0's contents, linearly: the tangent is the same op
# on operand 0's tangent (the grown copy of a tape, a copy)
_SAME_OP = ("copy", "tape_grow", "tape_reserve")


class ForwardMode:
    def __init__(self, fn, wrt):
        self.fn = fn
        self.wrt = list(wrt)
        self.mem = MemoryModel(fn)
        varied = varied_values(fn, [fn.params[k] for k in self.wrt], self.mem)
        self.varied = varied

    def tangent_of(self, v):
        """Does value `v` carry a tangent?"""
        return is_float(v.type) and v in self.varied

    # ---- driver ---------------------------------------------------------------------------
    def build(self):
        b = self.b = Builder(missing=self._missing)
        b.loop_carries_new = lambda name: False
        with building(b):
            params = [Value(p.type, p.hint) for p in self.fn.params]
            tangents = [Value(self.fn.params[k].type, "t_" + (self.fn.params[k].hint or "x")) for k in self.wrt]
            b.block.params = params + tangents
            self.fmap = dict(zip(self.fn.params, params))
            self.tmap = {}
            for k, t in zip(self.wrt, tangents):
                self.tmap[self.fn.params[k]] = t
            for p, new in zip(self.fn.params, params):
                if not is_array(p.type) or not self.mem.written(p):
                    continue
                # never change the caller's arrays (nor their tangents), through any name
                self.fmap[p] = b.emit("copy", [new])
                self.fmap[p].hint = p.hint
                if p in self.tmap:
                    self.tmap[p] = b.emit("copy", [self.tmap[p]])
            for p in self.fn.params:
                if p not in self.tmap and self.tangent_of(p):  # written with varied values
                    self.tmap[p] = b.emit("zeros_like", [self.fmap[p]], {"dtype": F64})
            self._block(self.fn.body)
            outs = [self.fmap[y] for y in self.fn.body.yields]
            touts = [self.tangent(y) for y in self.fn.body.yields]
            b.block.yields = outs + touts
        return Function(self.fn.name + "_jvp", params + tangents, b.block, self.fn.filename, returns_tuple=True)

    def _missing(self, name, t):
        if is_array(t):
            raise AssertionError(f"adjit internal error: no tangent for {name} on one path")
        return self.b.const(0.0) if t == F64 else self.b.emit("undef", [], {"type": t})

    # ---- tangents -----------------------------------------------------------------------
    def tangent(self, v):
        """The tangent of `v`, materialised (zeros where it is zero)."""
        t = self.tmap.get(v)
        if t is not None:
            return t
        if not is_float(v.type):
            raise AssertionError(f"adjit internal error: a tangent of {v}")
        if is_array(v.type):
            return self.b.emit("zeros_like", [self.fmap[v]], {"dtype": F64})
        return self.b.const(0.0)

    def _set(self, v, t):
        if t is not None:
            t.hint = t.hint or ("t_" + v.hint if v.hint else None)
            self.tmap[v] = t

    # ---- the walk -------------------------------------------------------------------------
    def _block(self, block):
        for op in block.ops:
            if op.prim == "if":
                self._if(op)
            elif op.prim in ("for", "while"):
                self._loop(op)
            else:
                self._primitive(op)

    def _if(self, op):
        b = self.b
        moving = [k for k, r in enumerate(op.results) if self.tangent_of(r)]

        def branch(blk):
            self._block(blk)
            return [self.fmap[y] for y in blk.yields] + [self.tangent(blk.yields[k]) for k in moving]
        outs = b.if_(self.fmap[op.args[0]], lambda: branch(op.blocks[0]), lambda: branch(op.blocks[1]))
        n = len(op.results)
        for r, new in zip(op.results, outs[:n]):
            new.hint = new.hint or r.hint
            self.fmap[r] = new
        for k, t in zip(moving, outs[n:]):
            self._set(op.results[k], t)

    def _loop(self, op):
        b = self.b
        params, inits, yields = loop_parts(op)
        keys = [("c", p.id) for p in params]
        tkeys = {p: ("tc", p.id) for p in params if self.tangent_of(p)}
        for k, init, p in zip(keys, inits, params):
            b.set(k, self.fmap[init])
            b.hints[k] = p.hint
        for p, init in zip(params, inits):
            if p in tkeys:
                b.set(tkeys[p], self.tangent(init))
                b.hints[tkeys[p]] = "t_" + (p.hint or "v")

        def enter():
            for p, k in zip(params, keys):
                self.fmap[p] = b.vars[k]
                if p in tkeys:
                    self.tmap[p] = b.vars[tkeys[p]]

        def leave(body):
            for p, k, y in zip(params, keys, body.yields):
                b.set(k, self.fmap[y])
                if p in tkeys:
                    b.set(tkeys[p], self.tangent(y))

        if op.prim == "for":
            body = op.blocks[0]

            def run(iv):
                self.fmap[body.params[0]] = iv
                enter()
                self._block(body)
                leave(body)
            b.for_(*(self.fmap[a] for a in op.args[:3]), run, iv_hint=body.params[0].hint or "i")
        else:
            cond, body = op.blocks

            def test():
                enter()
                self._block(cond)
                return self.fmap[cond.yields[0]]

            def run():
                enter()
                self._block(body)
                leave(body)
            b.while_(test, run)
        for p, r, k in zip(params, op.results, keys):
            self.fmap[r] = b.vars.pop(k)
            if p in tkeys:
                self._set(r, b.vars.pop(tkeys[p]))

    def _primitive(self, op):
        b = self.b
        new = b.emit(op.prim, [self.fmap[a] for a in op.args], op.attrs)
        if op.results:
            new.hint = new.hint or op.result.hint
            self.fmap[op.result] = new
        if writes_memory(op.prim):
            target = op.args[0]
            if target in self.tmap or self.tangent_of(target):
                value = op.args[-1]
                t_value = self.tangent(value) if is_float(value.type) else self.fmap[value]
                b.emit(op.prim, [self.tangent(target)] + [self.fmap[a] for a in op.args[1:-1]] + [t_value],
                       op.attrs)
            return
        if not op.results or not self.tangent_of(op.result):
            return
        r = op.result
        if makes_view(op.prim) or op.prim == "load":
            base = op.args[0]
            if self.tangent_of(base) or base in self.tmap:
                self._set(r, b.emit(op.prim, [self.tangent(base)] + [self.fmap[a] for a in op.args[1:]], op.attrs))
            return
        if op.prim in _ALLOCS or op.prim == "array_tape":
            like = [self.fmap[a] for a in op.args]
            if op.prim == "array_tape":
                self._set(r, b.emit("array_tape", [], op.attrs))
            elif op.prim in ("zeros", "ones", "empty"):
                self._set(r, b.emit("zeros", like, {"dtype": F64}))
            else:
                self._set(r, b.emit("zeros_like", like, {"dtype": F64}))
            return
        if op.prim == "full":
            fill = op.args[-1]
            t = self.tangent(fill) if self.tangent_of(fill) else b.const(0.0)
            self._set(r, b.emit("full", [self.fmap[a] for a in op.args[:-1]] + [t], {"dtype": F64}))
            return
        if op.prim in _SAME_OP:
            src = op.args[0]
            if self.tangent_of(src) or src in self.tmap:
                t = b.emit(op.prim, [self.tangent(src)] + [self.fmap[a] for a in op.args[1:]], op.attrs)
            else:
                t = b.emit("zeros_like", [new], {"dtype": F64})
            self._set(r, t)
            return
        t = self._rule(op, new)
        if t is None and is_array(r.type):
            # a zero tangent, but of memory that varied values may be stored into later
            # (z = np.zeros(n) + 1.0; z[0] = x): a buffer of its own, as the array is
            t = b.emit("zeros_like", [new], {"dtype": F64})
        elif t is not None and is_array(t.type) and any(t is u for u in self.tmap.values()):
            # the rule folded to another value's tangent (x + 0.0, x * 1.0): a new array, as the
            # result is; sharing it would let a write into one tangent reach the other
            t = b.emit("copy", [t])
        self._set(r, t)

    def _rule(self, op, out):
        """The tangent of a primitive's result from its table entry, or None (zero)."""
        prim = PRIMITIVES[op.prim]
        tans = [Sym(self.tmap[a]) if a in self.tmap else None for a in op.args]
        if not any(t is not None for t in tans):
            return None
        args = [Sym(self.fmap[a]) for a in op.args]
        o = Sym(out)
        if prim.jvp is not None:
            t = _located(op, lambda: prim.jvp(tans, args, o, op.attrs))
            if t is NotImplemented:
                raise _error(op.loc, f"forward mode has no rule for the derivative of `{op.prim}` in "
                             "this operand yet", "use reverse mode (adjit.grad, adjit.vjp) for this function")
        elif prim.partials is not None:
            t = None
            for tan, partial, a in zip(tans, prim.partials, args):
                if tan is None or partial is None:
                    continue
                c = partial(*args, o) * tan
                t = c if t is None else t + c
        elif prim.vjp is not None:
            raise _error(op.loc, f"forward mode has no rule for the operation `{op.prim}` yet",
                         "use reverse mode (adjit.grad, adjit.vjp) for this function")
        else:
            return None  # zero derivative by the table's convention (floor, sign, ...)
        if t is None:
            return None
        t = t.value if isinstance(t, Sym) else t
        if not isinstance(t, Value):
            t = self.b.const(float(t))
        if is_array(out.type) and not _same_shape_certain(op, t):
            t = self.b.emit("add", [self.b.emit("zeros_like", [out], {"dtype": F64}), t])
        return t


def _same_shape_certain(op, t):
    """Has tangent `t` certainly the shape of the result of elementwise `op`?  Yes when the
    op has at most one array operand and `t` is an array of the result's rank."""
    arrays = [a for a in op.args if is_array(a.type)]
    return is_array(t.type) and t.type.ndim == op.result.type.ndim and (len(arrays) <= 1
                                                                         or PRIMITIVES[op.prim].jvp is not None)


def _located(op, rule):
    """Run a derivative rule; an error it raises without a line gets the op's."""
    try:
        return rule()
    except GradientError as e:
        if e.filename is None and op.loc:
            raise _error(op.loc, e.message, e.hint) from None
        raise


def _error(loc, message, hint=None):
    filename, lineno, text = loc if loc else (None, None, None)
    return GradientError(message, filename=filename, lineno=lineno, source_line=text, hint=hint)


def forward(fn, wrt):
    """The jvp function of `fn` with respect to the params at positions `wrt`:
    ``f_jvp(*params, *tangents) -> (*outputs, *output_tangents)``."""
    return ForwardMode(fn, wrt).build()
