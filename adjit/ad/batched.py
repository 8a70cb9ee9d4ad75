"""Forward mode with k tangents at once (a vectorised tangent dimension), for Jacobians.

`adjit.ad.forward` carries one tangent per value; a Jacobian by it needs one sweep per
input direction, each recomputing the primal.  Here every value carries k tangents (one
per basis direction) through ONE sweep: the primal is computed once and each local
derivative (the table's ``partials``) once, and only the multiply-adds of the tangents
are done k times.

How the tangents are laid out, for speed in Numba (no heap allocation in hot loops):

* the tangents of an array of shape S are one array of shape S + (k,): the k tangents of
  an element are contiguous, and every view, reshape or slice write of the array is the
  same operation on the tangent array with ``:`` for the last axis;
* the tangents of a number are a *lane value*: the straight-line tangent code of a block
  is gathered into one lane loop ``for q in range(k)`` placed after the block's primal ops
  (primal code never reads a tangent, so moving tangent code after it is safe), in which
  a number's tangent in direction q is a plain float.  A tangent needed outside the lane
  loop that made it (a loop-carried number, an ``if`` result, a tangent read in a later
  loop) lives in a buffer of k floats allocated once at function entry; each buffer
  belongs to one SSA value, so no write can reach a live tangent of another value;
* whole-array primitives (matmul, reductions...) run their ``jvp`` rule once per
  direction on that direction's slice, and elementwise array primitives broadcast their
  partials against the tangent array (``p[..., None] * t``).

Program order of tangent memory accesses is kept: a lane loop is closed (emitted) before
any other op that touches tangent memory, and before ``if``/loops.

Tapes (reverse mode's, when this runs over a gradient) get tangent tapes of the same
kind: a grown tape's tangent grows alike, a list of arrays lists their tangent arrays.

Anything this module does not batch raises `Unbatchable`; the Jacobian then falls back to
one forward sweep per direction (`adjit.transforms.jacobian_ir`), so coverage never
depends on this module.
"""
from ..ir.core import Block, Op, Value, loop_parts
from ..ir.primitives import PRIMITIVES, makes_view, writes_memory
from ..ir.sym import Sym
from ..ir.types import F64, I64, Array, is_array, is_float
from .forward import _ALLOCS, ForwardMode, _error, _located

_FULL = ("s", False, False, False)  # the spec entry of ':'
_GROWN = ("tape_grow", "tape_reserve")  # a tape with more room: the tangent tape grows alike


class Unbatchable(Exception):
    """An op the batched sweep has no batched form for (the caller falls back)."""


def dims(b, x):
    """The dimensions of array value `x`, as IR values."""
    return [b.emit("shape", [x], {"dim": d}) for d in range(x.type.ndim)] if is_array(x.type) else []


def size(b, x):
    """The number of elements of array value `x`, as an IR value."""
    n = b.const(1)
    for d in dims(b, x):
        n = b.emit("mul", [n, d])
    return n


class Lane:
    """The k tangents of a number: `local`, a value of lane loop `group` (direction q),
    and/or `buf`, a buffer of k floats."""
    __slots__ = ("local", "group", "buf")

    def __init__(self, local=None, group=None, buf=None):
        self.local, self.group, self.buf = local, group, buf


class _Group:
    """A lane loop being filled: its body block, lane index, and the lanes it has loaded."""
    __slots__ = ("block", "q", "parent", "loaded")

    def __init__(self, parent):
        self.q = Value(I64, "q")
        self.block = Block([self.q])
        self.parent = parent
        self.loaded = {}


class BatchedForward(ForwardMode):
    """Emit, into builder `b`, fn's primal code and its tangents in k directions."""

    def __init__(self, fn, wrt, b, k):
        super().__init__(fn, wrt)
        self.b, self.k = b, k
        self.top, self.prologue = b.block, len(b.block.ops)  # buffers are allocated here
        self.group = None

    def run(self, params, seeds):
        """fn's outputs and their tangents (arrays shaped out.shape + (k,), k-buffers for
        numbers), for `params` and the tangents `seeds` of fn.params[wrt] (an array of shape
        x.shape + (k,), or a k-buffer for a number)."""
        b = self.b
        self.fmap = dict(zip(self.fn.params, params))
        self.tmap = {}
        for k, s in zip(self.wrt, seeds):
            p = self.fn.params[k]
            self.tmap[p] = s if is_array(p.type) else Lane(buf=s)
        for p, new in zip(self.fn.params, params):
            if is_array(p.type) and self.mem.written(p):  # never change the caller's arrays
                self.fmap[p] = b.emit("copy", [new])
                self.fmap[p].hint = p.hint
        for p in self.fn.params:
            if p not in self.tmap and self.tangent_of(p):  # written with varied values
                self.tmap[p] = self._zeros(self.fmap[p])
        self._block(self.fn.body)
        self._flush()
        ys = self.fn.body.yields
        return [self.fmap[y] for y in ys], [self._output(y) for y in ys]

    def _output(self, y):
        if not is_float(y.type):
            return None
        if is_array(y.type):
            return self.array_tangent(y)
        t = self.tmap.get(y)
        return self._buffer(t) if t is not None else self._alloc_buffer()

    # ---- tangent storage ------------------------------------------------------------------
    def _zeros(self, like):
        """A zero tangent array for array value `like`: shape like.shape + (k,)."""
        return self.b.emit("zeros", dims(self.b, like) + [self.k], {"dtype": F64})

    def array_tangent(self, v):
        t = self.tmap.get(v)
        return t if t is not None else self._zeros(self.fmap[v])

    def _alloc_buffer(self, fill=0.0):
        """A buffer of k floats (`fill`), allocated once at function entry."""
        tmp = Block()
        self.b.blocks.append(tmp)
        buf = self.b.emit("full", [self.k, self.b.const(float(fill))], {"dtype": F64}) if fill else \
            self.b.emit("zeros", [self.k], {"dtype": F64})
        self.b.blocks.pop()
        self.top.ops[self.prologue:self.prologue] = tmp.ops
        self.prologue += len(tmp.ops)
        buf.hint = "t_buf"
        return buf

    def _buffer(self, lane):
        """Lane `lane`'s buffer, filled at the end of the lane loop that made it."""
        if lane.buf is None and lane.local.const is not None:  # a constant: a buffer made full
            lane.buf = self._alloc_buffer(lane.local.const[0])
        elif lane.buf is None:
            lane.buf = self._alloc_buffer()
            lane.group.block.ops.append(Op("store", [lane.buf, lane.group.q, lane.local], []))
        return lane.buf

    # ---- lane loops -------------------------------------------------------------------------
    class _Lanes:
        def __init__(self, owner):
            self.owner = owner

        def __enter__(self):
            o = self.owner
            if o.group is None:
                o.group = _Group(o.b.block)
            assert o.group.parent is o.b.block, "adjit internal error: a lane loop across blocks"
            o.b.blocks.append(o.group.block)
            return o.group.q

        def __exit__(self, *exc):
            self.owner.b.blocks.pop()

    def _lanes(self):
        """Emit into the open lane loop of the current block (opened if none)."""
        return BatchedForward._Lanes(self)

    def _flush(self):
        """Close the open lane loop: emit it here, after the primal ops it reads."""
        g, self.group = self.group, None
        if g is None or not g.block.ops:
            return
        b = self.b
        b.block.ops.append(Op("for", [b.const(0), self.k, b.const(1)], [], blocks=[g.block]))
        b._loads.clear()

    def _local(self, lane):
        """Inside the open lane loop: the tangent of a number in direction q (None: zero)."""
        if lane is None:
            return None
        g = self.group
        if lane.group is g and lane.local is not None:
            return lane.local
        if lane.local is not None and lane.local.const is not None:
            return self.b.const(lane.local.const[0])
        v = g.loaded.get(id(lane))
        if v is None:
            buf = self._buffer(lane)
            v = g.loaded[id(lane)] = self.b.emit("load", [buf, g.q])
        return v

    def _new_lane(self, value):
        value = value.value if isinstance(value, Sym) else value
        if not isinstance(value, Value):
            value = self.b.const(float(value))
        return Lane(value, self.group)

    # ---- the walk ---------------------------------------------------------------------------
    def _if(self, op):
        self._flush()
        b = self.b
        moving = [k for k, r in enumerate(op.results) if self.tangent_of(r)]
        numbers = [k for k in moving if not is_array(op.results[k].type)]
        arrays = [k for k in moving if is_array(op.results[k].type)]
        bufs = {k: self._alloc_buffer() for k in numbers}

        def branch(blk):
            self._block(blk)
            self._store_lanes([(bufs[k], self.tmap.get(blk.yields[k])) for k in numbers])
            tangents = [self.array_tangent(blk.yields[k]) for k in arrays]
            self._flush()
            return [self.fmap[y] for y in blk.yields] + tangents
        outs = b.if_(self.fmap[op.args[0]], lambda: branch(op.blocks[0]), lambda: branch(op.blocks[1]))
        n = len(op.results)
        for r, new in zip(op.results, outs[:n]):
            new.hint = new.hint or r.hint
            self.fmap[r] = new
        for k, t in zip(arrays, outs[n:]):
            self._set(op.results[k], t)
        for k in numbers:
            self.tmap[op.results[k]] = Lane(buf=bufs[k])

    def _store_lanes(self, pairs):
        """buf[q] = tangent for each (buf, lane): every tangent read before any is written."""
        if not pairs:
            return
        with self._lanes() as q:
            values = [self._local(t) for _, t in pairs]
            for (buf, _), v in zip(pairs, values):
                self.b.emit("store", [buf, q, v if v is not None else self.b.const(0.0)])

    def _loop(self, op):
        self._flush()
        b = self.b
        params, inits, yields = loop_parts(op)
        keys = [("c", p.id) for p in params]
        moving = [p for p in params if self.tangent_of(p)]
        tkeys = {p: ("tc", p.id) for p in moving if is_array(p.type)}
        bufs = {p: self._alloc_buffer() for p in moving if not is_array(p.type)}
        self._store_lanes([(bufs[p], self.tmap.get(i)) for p, i in zip(params, inits) if p in bufs])
        self._flush()
        for k, init, p in zip(keys, inits, params):
            b.set(k, self.fmap[init])
            b.hints[k] = p.hint
        for p, init in zip(params, inits):
            if p in tkeys:
                b.set(tkeys[p], self.array_tangent(init))
                b.hints[tkeys[p]] = "t_" + (p.hint or "v")

        def enter():
            for p, k in zip(params, keys):
                self.fmap[p] = b.vars[k]
                if p in tkeys:
                    self.tmap[p] = b.vars[tkeys[p]]
                elif p in bufs:
                    self.tmap[p] = Lane(buf=bufs[p])

        def leave(body):
            self._store_lanes([(bufs[p], self.tmap.get(y)) for p, y in zip(params, body.yields) if p in bufs])
            for p, k, y in zip(params, keys, body.yields):
                b.set(k, self.fmap[y])
                if p in tkeys:
                    b.set(tkeys[p], self.array_tangent(y))
            self._flush()

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
                self._flush()
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
            elif p in bufs:
                self.tmap[r] = Lane(buf=bufs[p])

    def _has_tangent(self, v):
        return v in self.tmap or self.tangent_of(v)

    def _primitive(self, op):
        b = self.b
        new = b.emit(op.prim, [self.fmap[a] for a in op.args], op.attrs)
        if op.results:
            new.hint = new.hint or op.result.hint
            self.fmap[op.result] = new
        if writes_memory(op.prim):
            if self._has_tangent(op.args[0]):
                self._write(op)
            return
        if not op.results or not self.tangent_of(op.result):
            return
        r = op.result
        if op.prim == "load":
            if self._has_tangent(op.args[0]):
                T = self.array_tangent(op.args[0])
                with self._lanes() as q:
                    t = b.emit("load", [T] + [self.fmap[a] for a in op.args[1:]] + [q])
                self.tmap[r] = Lane(t, self.group)
            return
        if makes_view(op.prim):
            if self._has_tangent(op.args[0]):
                self._set(r, self._view(op, self.array_tangent(op.args[0])))
            return
        if op.prim in _ALLOCS:
            self._set(r, self._zeros(new))
            return
        if op.prim == "full":
            T = self._zeros(new)
            fill = self.tmap.get(op.args[-1])
            if fill is not None:
                self._flush()
                b.emit("view_store", [T, self._buffer(fill)], {"spec": (_FULL,) * (r.type.ndim + 1)})
            self._set(r, T)
            return
        if op.prim == "array_tape":  # a list of arrays: its tangent lists their tangent arrays
            t = op.attrs["type"]
            self._set(r, b.emit("array_tape", [], {"type": Array(F64, t.ndim + 1)}))
            return
        if op.prim in _GROWN:
            self._flush()
            self._set(r, self._grown(op, self.array_tangent(op.args[0]), new))
            return
        if op.prim == "copy":
            self._flush()
            src = op.args[0]
            self._set(r, b.emit("copy", [self.tmap[src]]) if src in self.tmap else self._zeros(new))
            return
        t = self._rule(op, new)
        if t is None and is_array(r.type):
            t = self._zeros(new)  # a zero tangent, but memory that varied values may be stored into
        if isinstance(t, Lane):
            self.tmap[r] = t
        else:
            self._set(r, t)

    def _grown(self, op, T, new):
        """The tangent tape of a grown tape `new`: T itself when the tape kept its memory
        (tape_reserve with room to spare), else a larger copy of T."""
        b = self.b
        old_n, new_n = b.emit("shape", [T], {"dim": 0}), b.emit("shape", [new], {"dim": 0})

        def grow():
            G = b.emit("zeros", [new_n] + dims(b, T)[1:], {"dtype": F64})
            b.emit("view_store", [G, old_n, T], {"spec": (("s", False, True, False),) + (_FULL,) * (T.type.ndim - 1)})
            return [G]
        if op.prim == "tape_grow":
            return grow()[0]
        return b.if_(b.emit("eq", [old_n, new_n]), lambda: [T], grow)[0]

    def _write(self, op):
        """The tangent of a store-like op: the same op on the tangent arrays."""
        b = self.b
        T = self.array_tangent(op.args[0])
        idx = [self.fmap[a] for a in op.args[1:-1]]
        value = op.args[-1]
        t = self.tmap.get(value) if is_float(value.type) else None
        if op.prim in ("store", "store_add"):
            with self._lanes() as q:
                v = self._local(t)
                if v is not None or op.prim == "store":
                    b.emit(op.prim, [T] + idx + [q, v if v is not None else b.const(0.0)])
            return
        if op.prim not in ("view_store", "view_add", "iadd", "tape_append"):
            raise Unbatchable(op.prim)
        self._flush()
        if op.prim == "tape_append":  # an array entry: its tangent array is the tangent tape's entry
            b.emit("tape_append", [T, t if t is not None else self._zeros(self.fmap[value])])
            return
        if t is None:
            if op.prim == "view_store":
                b.emit("view_store", [T] + idx + [b.const(0.0)], {"spec": op.attrs["spec"] + (_FULL,)})
            return
        tv = t if isinstance(t, Value) else self._buffer(t)
        if op.prim == "iadd":
            b.emit("iadd", [T, tv])
        else:
            b.emit(op.prim, [T] + idx + [tv], {"spec": op.attrs["spec"] + (_FULL,)})

    def _view(self, op, T):
        """The same view of the tangent array, with ':' for the direction axis."""
        b, nd = self.b, op.args[0].type.ndim
        rest = [self.fmap[a] for a in op.args[1:]]
        if op.prim == "view":
            return b.emit("view", [T] + rest, {"spec": op.attrs["spec"] + (_FULL,)})
        if op.prim == "transpose":
            return b.emit("permute", [T], {"axes": tuple(reversed(range(nd))) + (nd,)})
        if op.prim == "permute":
            return b.emit("permute", [T], {"axes": tuple(op.attrs["axes"]) + (nd,)})
        if op.prim == "reshape":
            return b.emit("reshape", [T] + rest + [self.k])
        if op.prim == "ravel":
            return b.emit("reshape", [T, size(b, self.fmap[op.args[0]]), self.k])
        if op.prim == "reshape_like":
            return b.emit("reshape", [T] + dims(b, rest[0]) + [self.k])
        if op.prim == "tape_row":
            return b.emit("tape_row", [T] + rest)
        if op.prim == "expand_dims":
            axis = op.attrs["axis"]
            return b.emit("expand_dims", [T], {"axis": axis - 1 if axis < 0 else axis})
        raise Unbatchable(op.prim)

    def _rule(self, op, out):
        """The k tangents of a primitive's result: a Lane for a number, an array, or None."""
        prim = PRIMITIVES[op.prim]
        tans = [self.tmap.get(a) for a in op.args]
        if all(t is None for t in tans):
            return None
        args = [Sym(self.fmap[a]) for a in op.args]
        o = Sym(out)
        if prim.jvp is not None:
            return self._per_direction(op, prim, tans, args, o)
        if prim.partials is None:
            if prim.vjp is not None:
                raise Unbatchable(op.prim)  # the one-direction sweep reports it with the line
            return None
        parts = []
        for tan, partial in zip(tans, prim.partials):
            if tan is None or partial is None:
                continue
            p = partial(*args, o)
            parts.append((p.value if isinstance(p, Sym) else p, tan))  # computed once, out of the lanes
        if not parts:
            return None
        if not is_array(out.type):
            with self._lanes():
                t = None
                for p, tan in parts:
                    c = (Sym(p) if isinstance(p, Value) else p) * Sym(self._local(tan))
                    t = c if t is None else t + c
                return self._new_lane(t)
        # an elementwise op on arrays: the partials broadcast against the (..., k) tangents
        self._flush()
        b = self.b
        t = None
        for p, tan in parts:
            tv = tan if isinstance(tan, Value) else self._buffer(tan)
            if isinstance(p, Value) and is_array(p.type):
                p = b.emit("expand_dims", [p], {"axis": p.type.ndim})
            c = (Sym(p) if isinstance(p, Value) else p) * Sym(tv)
            t = c if t is None else t + c
        t = t.value if isinstance(t, Sym) else t
        arrays = [a for a in op.args if is_array(a.type)]
        if not (is_array(t.type) and t.type.ndim == out.type.ndim + 1 and len(arrays) <= 1):
            t = b.emit("add", [self._zeros(out), t])
        elif any(t is u for u in self.tmap.values()):
            t = b.emit("copy", [t])  # folded to another value's tangent: a new array, as the result is
        return t

    def _per_direction(self, op, prim, tans, args, o):
        """A whole-array primitive: its jvp rule once per direction, on that direction's slice."""
        self._flush()
        b = self.b
        result = self._zeros(o.value) if is_array(o.value.type) else None
        with self._lanes() as q:
            lane_tans = []
            for a, t in zip(op.args, tans):
                if t is None:
                    lane_tans.append(None)
                elif isinstance(t, Lane):
                    lane_tans.append(Sym(self._local(t)))
                else:  # this direction's slice, contiguous for the rule's NumPy calls
                    view = b.emit("view", [t, q], {"spec": (_FULL,) * a.type.ndim + (("i",),)})
                    lane_tans.append(Sym(b.emit("copy", [view])))
            t = _located(op, lambda: prim.jvp(lane_tans, args, o, op.attrs))
            if t is NotImplemented:
                raise _error(op.loc, f"forward mode has no rule for the derivative of `{op.prim}` in "
                             "this operand yet", "use reverse mode (adjit.grad, adjit.vjp) for this function")
            lane = None
            if t is not None:
                t = t.value if isinstance(t, Sym) else t
                if not isinstance(t, Value):
                    t = b.const(float(t))
                if result is not None:
                    b.emit("view_store", [result, q, t], {"spec": (_FULL,) * o.value.type.ndim + (("i",),)})
                else:
                    lane = Lane(t, self.group)
        group_lane = lane
        self._flush()
        return result if result is not None else group_lane
