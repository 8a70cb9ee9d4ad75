"""Reverse mode as an IR -> IR transformation.

Given a function ``f(params) -> float`` and the params to differentiate, build
``f_grad(params) -> (value, grad_1, ..., grad_k)``: a forward sweep (the original code,
plus pushes onto tapes inside loops) followed by the reverse sweep, which walks every
block backwards accumulating adjoints (``d_x += g * partial``).

* Straight-line code outside loops is never taped: its SSA values are still in scope.
* ``if`` is reversed by an ``if`` on the same condition; values the reverse needs from
  inside a branch leave it as extra results (the builder does this for us).
* Loops run backwards.  Inside a loop body, a value the reverse needs is recomputed
  from its operands when it is pure (arithmetic, math, a load from an array nothing
  writes), and taped otherwise: loop-carried values, `if` results and loads from
  written arrays.  The induction variable is recomputed from the reverse loop's own.
  Tapes are typed NumPy arrays with one counter per loop, preallocated to the trip
  count for a top-level `for`, grown by doubling otherwise.
* Array element stores are reversed by moving ``d_a[i]`` into the stored value's
  adjoint and zeroing ``d_a[i]``; loads that the reverse needs were taped before any
  overwrite, so overwrites are safe.

To know what to tape before emitting the forward sweep, the reverse sweep is built
twice: first as a dry run that only records which primal values it asks for.
"""
from ..errors import GradientError
from ..ir.builder import Builder
from ..ir.core import Function, Value, nested_ops, walk_ops
from ..ir.primitives import PRIMITIVES
from ..ir.sym import Sym, building
from ..ir.types import F64, is_array
from .activity import active_values
from .prepare import add_trip_counts

_ALLOCATING = ("zeros", "ones", "empty", "full", "zeros_like", "ones_like", "empty_like", "copy")


class _Def:
    """Where a value is defined: its op (None for block params), the innermost loop
    around it (None at function level), and whether it is a loop's induction variable."""
    __slots__ = ("op", "loop", "iv")

    def __init__(self, op, loop, iv=False):
        self.op, self.loop, self.iv = op, loop, iv


def _index_definitions(fn):
    """(value -> _Def, loop op -> the loop op around it or None)."""
    defs = {p: _Def(None, None) for p in fn.params}
    parent_loop = {}

    def block(b, loop):
        for op in b.ops:
            if op.prim in ("for", "while"):
                parent_loop[op] = loop
            if op.prim == "for":
                body = op.blocks[0]
                defs[body.params[0]] = _Def(None, op, iv=True)
                for p in body.params[1:]:
                    defs[p] = _Def(None, op)
                block(body, op)
            elif op.prim == "while":
                for p in op.blocks[0].params:
                    defs[p] = _Def(None, op)
                block(op.blocks[0], op)
                block(op.blocks[1], op)
            else:
                for inner in op.blocks:
                    block(inner, loop)
            for r in op.results:
                defs[r] = _Def(op, loop)

    block(fn.body, None)
    return defs, parent_loop


def _last_writes(fn):
    """For every array that is written: the position, among the function's top-level
    operations, of the last one that writes it (a store, or a loop or if containing one).
    Arrays that flow through if/loop results may alias others: they count as written
    everywhere (position infinity)."""
    last = {}
    for pos, top in enumerate(fn.body.ops):
        for op in [top, *nested_ops(top)]:
            if PRIMITIVES.get(op.prim) is not None and PRIMITIVES[op.prim].effect == "write":
                last[op.args[0]] = pos
            if op.prim in ("if", "for", "while"):
                for v in op.args + op.results + [y for b in op.blocks for y in b.yields]:
                    if is_array(v.type):
                        last[v] = float("inf")
    return last


class _DryRun(Exception):
    pass


class ReverseMode:
    def __init__(self, fn, wrt):
        add_trip_counts(fn.body)
        self.fn = fn
        self.wrt = list(wrt)
        self.active = active_values(fn, [fn.params[k] for k in self.wrt])
        self.defs, self.parent_loop = _index_definitions(fn)
        self.last_write = _last_writes(fn)
        self.written = set(self.last_write)
        self.top_position = {}  # every op -> the position of the top-level op containing it
        for k, top in enumerate(fn.body.ops):
            self.top_position[top] = k
            for inner in nested_ops(top):
                self.top_position[inner] = k
        self._check_arrays()
        self.relevant = {}

    # ---- restrictions -------------------------------------------------------------------------
    def _check_arrays(self):
        for v in self.active:
            if not is_array(v.type):
                continue
            d = self.defs[v]
            if d.op is None and v in self.fn.params:
                continue
            if d.op is not None and d.op.prim in _ALLOCATING and d.loop is None:
                continue
            loc = (d.op.loc if d.op is not None else None) or (d.loop.loc if d.loop is not None else None)
            why = ("an array created inside a loop" if d.loop is not None and d.op is not None and d.op.prim in _ALLOCATING
                   else "an array variable that is reassigned in a loop or an if")
            raise _error(loc, f"cannot differentiate through {why} (`{v.hint or 'array'}`)",
                         "create the array once before the loops and write into it; do not rebind array names")

    # ---- driver ---------------------------------------------------------------------------------
    def build(self):
        # Dry run: which primal values does the reverse sweep read?
        self.mode = "dry"
        self.needed = set()
        dry = Builder(missing=self._missing)
        dry.loop_carries_new = _carries
        with building(dry):
            self.b = dry
            self.frames = [{}]
            self._reverse_sweep(dry_params=True)
        # Real run.
        self.mode = "real"
        self.taped = {}  # loop op -> [values taped in its body]
        for v in self.needed:
            d = self.defs[v]
            if d.loop is not None and not d.iv and not self._recomputable(v):
                self.taped.setdefault(d.loop, []).append(v)
        for vs in self.taped.values():
            vs.sort(key=lambda v: v.id)
        b = Builder(missing=self._missing)
        b.loop_carries_new = _carries
        self.b = b
        with building(b):
            params = [Value(p.type, p.hint) for p in self.fn.params]
            b.block.params = params
            self.fmap = dict(zip(self.fn.params, params))
            for p, new in zip(self.fn.params, params):
                if p in self.written and is_array(p.type):  # never modify the caller's array
                    self.fmap[p] = b.emit("copy", [new])
                    self.fmap[p].hint = p.hint
                self._remember(p, self.fmap[p])
            self._forward_block(self.fn.body)
            value = self.fmap[self.fn.body.yields[0]]
            self.frames = [{}]
            grads = self._reverse_sweep()
            b.block.yields = [value] + grads
        out = Function(self.fn.name + "_grad", params, b.block, self.fn.filename, returns_tuple=True)
        return out

    @staticmethod
    def _missing(name, t):
        from ..ir.sym import _builder
        b = _builder()
        if name[0] in ("d", "dc"):
            return b.const(0.0)
        if name[0] == "cnt":
            return b.const(0)
        return b.emit("undef", [], {"type": t})

    # ---- forward sweep ----------------------------------------------------------------------------
    def _remember(self, v, new):
        """Keep primal value `v` for the reverse sweep if it asks for it."""
        if v in self.needed:
            self.b.set(("p", v.id), new)

    def _forward_block(self, block):
        b = self.b
        for op in block.ops:
            if op.prim == "if":
                cond = self.fmap[op.args[0]]

                def branch(blk):
                    self._forward_block(blk)
                    return [self.fmap[y] for y in blk.yields]
                outs = b.if_(cond, lambda: branch(op.blocks[0]), lambda: branch(op.blocks[1]))
                for r, new in zip(op.results, outs):
                    new.hint = new.hint or r.hint
                    self.fmap[r] = new
                    self._remember(r, new)
            elif op.prim in ("for", "while"):
                self._forward_loop(op)
            else:
                new = b.emit(op.prim, [self.fmap[a] for a in op.args], op.attrs)
                if op.results:
                    new.hint = new.hint or op.result.hint
                    self.fmap[op.result] = new
                    self._remember(op.result, new)

    def _loops_inside(self, op):
        return [op] + [o for blk in op.blocks for o in walk_ops(blk) if o.prim in ("for", "while")]

    def _forward_loop(self, op):
        b = self.b
        top_level = self.parent_loop[op] is None
        if top_level:  # allocate the tapes of this loop nest
            for loop in self._loops_inside(op):
                if loop not in self.taped:
                    continue
                prealloc = loop is op and op.prim == "for"
                size = self.fmap[op.attrs["trip"]] if prealloc else b.const(16)
                b.set(("cnt", id(loop)), b.const(0))
                for v in self.taped[loop]:
                    tape = b.emit("empty", [size], {"dtype": v.type})
                    tape.hint = "tape_" + (v.hint or "t")
                    b.set(("tape", v.id), tape)
        elif op.prim == "for":  # a nested for: make room for all its iterations at once
            self._reserve(op)
        carried = op.blocks[0].params[1:] if op.prim == "for" else op.blocks[0].params
        inits = op.args[3:] if op.prim == "for" else op.args
        keys = [("c", p.id) for p in carried]
        for k, init, p in zip(keys, inits, carried):
            b.set(k, self.fmap[init])
            b.hints[k] = p.hint

        def enter():
            for p, k in zip(carried, keys):
                self.fmap[p] = b.vars[k]
                self._remember(p, self.fmap[p])

        def leave(body):
            for k, y in zip(keys, body.yields):
                b.set(k, self.fmap[y])
            self._push(op)

        if op.prim == "for":
            body = op.blocks[0]

            def run(iv):
                self.fmap[body.params[0]] = iv
                enter()
                self._forward_block(body)
                leave(body)
            b.for_(*(self.fmap[a] for a in op.args[:3]), run, iv_hint=body.params[0].hint or "i")
        else:
            cond, body = op.blocks

            def test():
                enter()
                self._forward_block(cond)
                return self.fmap[cond.yields[0]]

            def run():
                enter()
                self._forward_block(body)
                leave(body)
            b.while_(test, run)
        for r, k in zip(op.results, keys):
            self.fmap[r] = b.vars.pop(k)
            self._remember(r, self.fmap[r])

    def _reserve(self, loop):
        """Before a nested `for`, grow its tapes to hold its trip count more entries."""
        vals = self.taped.get(loop)
        if not vals:
            return
        b = self.b
        needed = b.emit("add", [b.vars[("cnt", id(loop))], self.fmap[loop.attrs["trip"]]])
        for v in vals:
            b.set(("tape", v.id), b.emit("tape_reserve", [b.vars[("tape", v.id)], needed]))

    def _push(self, loop):
        vals = self.taped.get(loop)
        if not vals:
            return
        b = self.b
        cnt = b.vars[("cnt", id(loop))]
        if loop.prim == "while":  # a for loop made room for its iterations before it started
            tape0 = b.vars[("tape", vals[0].id)]
            full = b.emit("ge", [cnt, b.emit("shape", [tape0], {"dim": 0})])

            def grow():
                for v in vals:
                    b.set(("tape", v.id), b.emit("tape_grow", [b.vars[("tape", v.id)]]))
            b.if_(full, grow)
        for v in vals:
            b.emit("store", [b.vars[("tape", v.id)], cnt, b.vars.pop(("p", v.id))])
        nxt = b.emit("add", [cnt, b.const(1)])
        nxt.hint = "top"
        b.set(("cnt", id(loop)), nxt)

    # ---- primal values in the reverse sweep ---------------------------------------------------------
    def _recomputable(self, v):
        d = self.defs[v]
        if d.op is None:
            return d.iv
        p = PRIMITIVES.get(d.op.prim)
        if p is None:
            return False
        if p.effect == "pure":
            return True
        if d.op.prim == "load":
            # A load can be redone in the reverse sweep if nothing writes the array after it.
            arr = d.op.args[0]
            if not (arr in self.fn.params or self.defs[arr].loop is None):
                return False
            return self.last_write.get(arr, -1) < self.top_position[d.loop]
        return False

    def primal(self, v):
        for frame in reversed(self.frames):
            if v in frame:
                return frame[v]
        d = self.defs[v]
        if d.loop is not None and self._recomputable(v) and not d.iv:
            new = self.b.emit(d.op.prim, [self.primal(a) for a in d.op.args], d.op.attrs)
            new.hint = v.hint
            self.frames[-1][v] = new
            return new
        if self.mode == "dry":
            self.needed.add(v)
            return Value(v.type, v.hint)
        if d.loop is None:
            if v.const is not None:
                return self.b.const(v.const[0], v.type)
            return self.b.vars[("p", v.id)]
        raise AssertionError(f"adjit internal error: {v} is not available in the reverse sweep")

    # ---- adjoints -----------------------------------------------------------------------------------
    def adj(self, v):
        return self.b.vars.get(("d", v.id))

    def accumulate(self, v, contribution):
        if v not in self.active:
            return
        c = contribution.value if isinstance(contribution, Sym) else contribution
        old = self.adj(v)
        if old is None:
            new = c
        else:
            new = self.b.emit("add", [old, c])
            if v.hint:
                new.hint = "d_" + v.hint
        self.b.set(("d", v.id), new)

    def array_adj(self, a):
        return self.b.vars[("D", a.id)]

    # ---- reverse sweep --------------------------------------------------------------------------------
    def _reverse_sweep(self, dry_params=False):
        b = self.b
        ret = self.fn.body.yields[0]
        b.set(("d", ret.id), b.const(1.0))
        arrays = [v for v in self.active if is_array(v.type)]
        arrays += [self.fn.params[k] for k in self.wrt if is_array(self.fn.params[k].type)]
        for a in sorted(set(arrays), key=lambda v: v.id):
            d_a = b.emit("zeros_like", [self.primal(a)], {"dtype": F64})
            d_a.hint = "d_" + (a.hint or "a")
            b.set(("D", a.id), d_a)
        self._reverse_block(self.fn.body)
        grads = []
        for k in self.wrt:
            p = self.fn.params[k]
            if is_array(p.type):
                grads.append(b.vars[("D", p.id)])
            else:
                g = self.adj(p)
                grads.append(g if g is not None else b.const(0.0))
        return grads

    def _is_relevant(self, op):
        """Does reversing `op` do anything?"""
        if op in self.relevant:
            return self.relevant[op]
        if op.blocks:
            r = any(res in self.active for res in op.results) or \
                any(self._is_relevant(o) for blk in op.blocks for o in blk.ops)
        elif op.prim == "copy":  # d_source += d_copy needs both adjoint arrays
            r = op.args[0] in self.active and op.result in self.active
        elif op.prim in ("store", "store_add", "add_into"):
            r = op.args[0] in self.active
        else:
            r = bool(op.results) and op.result in self.active
        self.relevant[op] = r
        return r

    def _reverse_block(self, block):
        for op in reversed(block.ops):
            if self._is_relevant(op):
                {"if": self._reverse_if, "for": self._reverse_loop, "while": self._reverse_loop}.get(
                    op.prim, self._reverse_primitive)(op)
            for r in op.results:
                self.b.vars.pop(("d", r.id), None)

    def _reverse_primitive(self, op):
        b = self.b
        if op.prim == "load":
            g = self.adj(op.result)
            if g is not None and op.args[0] in self.active:
                b.emit("store_add", [self.array_adj(op.args[0])] + [self.primal(i) for i in op.args[1:]] + [g])
            return
        if op.prim == "store":
            arr, idx, val = op.args[0], op.args[1:-1], op.args[-1]
            d_arr = self.array_adj(arr)
            idx = [self.primal(i) for i in idx]
            if val in self.active:
                self.accumulate(val, b.emit("load", [d_arr] + idx))
            b.emit("store", [d_arr] + idx + [b.const(0.0)])
            return
        if op.prim == "copy":
            b.emit("add_into", [self.array_adj(op.args[0]), self.array_adj(op.result)])
            return
        g = self.adj(op.result)
        partials = PRIMITIVES[op.prim].partials
        if g is None or partials is None:
            return
        args = [Sym(thunk=lambda a=a: self.primal(a)) for a in op.args]
        out = Sym(thunk=lambda: self.primal(op.result))
        for a, partial in zip(op.args, partials):
            if partial is None or a not in self.active:
                continue
            local = partial(*args, out)
            self.accumulate(a, Sym(g) * local)

    def _reverse_if(self, op):
        b = self.b
        cond = self.primal(op.args[0])
        incoming = [(k, self.adj(r)) for k, r in enumerate(op.results)]

        def branch(blk):
            self.frames.append({})
            for k, g in incoming:
                if g is not None:
                    self.accumulate(blk.yields[k], g)
            self._reverse_block(blk)
            self.frames.pop()
        b.if_(cond, lambda: branch(op.blocks[0]), lambda: branch(op.blocks[1]))

    def _reverse_loop(self, op):
        b = self.b
        if op.prim == "for":
            body = op.blocks[0]
            iv, carried = body.params[0], body.params[1:]
            inits = op.args[3:]
        else:
            body = op.blocks[1]
            iv, carried = None, op.blocks[0].params
            inits = op.args
        slots = [(p, y, r, init) for p, y, r, init in zip(carried, body.yields, op.results, inits) if p in self.active]
        for p, _, r, _ in slots:
            g = self.adj(r)
            b.set(("dc", p.id), g if g is not None else b.const(0.0))
        trip = self.primal(op.attrs["trip"])
        last = b.emit("sub", [trip, b.const(1)])
        if op.prim == "for":
            start, step = self.primal(op.args[0]), self.primal(op.args[2])
            first = b.emit("add", [start, b.emit("mul", [last, step])])
            stop = b.emit("sub", [start, step])
            bounds = (first, stop, b.emit("neg", [step]))
        else:
            bounds = (last, b.const(-1), b.const(-1))

        def run(i):
            self.frames.append({} if iv is None else {iv: i})
            taped = self.taped.get(op) if self.mode == "real" else None
            if taped:
                cnt = b.emit("sub", [b.vars[("cnt", id(op))], b.const(1)])
                cnt.hint = "top"
                b.set(("cnt", id(op)), cnt)
                for v in taped:
                    popped = b.emit("load", [b.vars[("tape", v.id)], cnt])
                    popped.hint = v.hint
                    self.frames[-1][v] = popped
            for p, y, _, _ in slots:
                self.accumulate(y, b.vars[("dc", p.id)])
            self._reverse_block(body)
            for p, _, _, _ in slots:
                g = b.vars.pop(("d", p.id), None)
                b.set(("dc", p.id), g if g is not None else b.const(0.0))
            if iv is not None:
                b.vars.pop(("d", iv.id), None)
            self.frames.pop()
        b.for_(*bounds, run, iv_hint=(iv.hint if iv is not None else None) or "k")
        for p, _, _, init in slots:
            self.accumulate(init, b.vars.pop(("dc", p.id)))


def _carries(name):
    return isinstance(name, tuple) and name[0] == "d"


def _error(loc, message, hint=None):
    filename, lineno, text = loc if loc else (None, None, None)
    return GradientError(message, filename=filename, lineno=lineno, source_line=text, hint=hint)


def reverse(fn, wrt):
    """The gradient function of `fn` with respect to the params at positions `wrt`."""
    return ReverseMode(fn, wrt).build()
