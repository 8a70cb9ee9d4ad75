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
* Arrays: an array read or written element by element (or slice by slice) at function
  level has one adjoint buffer ``d_a``, allocated when the reverse sweep starts and
  updated in place.  Every other array value (``X @ W``, a recurrent state ``h``) has a
  functional adjoint, like a number's: its first contribution, then sums.  Arrays the
  reverse needs from inside a loop are taped as rows of a growing (ndim+1)-d buffer.  Whole-array
  primitives are reversed by their ``vjp`` rules; broadcast operands get their adjoint
  summed back to their shape.  A slice of an array that is written somewhere is copied
  when it is taken, so later writes do not change what the reverse sweep reads.

To know what to tape before emitting the forward sweep, the reverse sweep is built
twice: first as a dry run that only records which primal values it asks for.
"""
from ..errors import GradientError
from ..ir.builder import Builder
from ..ir.core import Function, Value, nested_ops, walk_ops
from ..ir.primitives import EXPENSIVE, PRIMITIVES, reads_memory, writes_memory
from ..ir.sym import Sym, building
from ..ir.types import F64, Array, is_array
from .activity import active_values
from .prepare import add_trip_counts, snapshot_whole_reads

# ops whose result may share memory with their operand: never written through in a gradient
_ALIASING = ("view", "transpose", "reshape", "ravel", "expand_dims", "reshape_like", "tape_row")


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
        snapshot_whole_reads(fn)
        self.fn = fn
        self.wrt = list(wrt)
        self.active = active_values(fn, [fn.params[k] for k in self.wrt])
        self.defs, self.parent_loop = _index_definitions(fn)
        self.last_write = _last_writes(fn)
        self.written = set(self.last_write)
        self.stored_into = {op.args[0] for op in walk_ops(fn.body) if writes_memory(op.prim)}
        # Arrays read or written element by element (or slice by slice) at function level get
        # one adjoint buffer, updated in place; every other array value has a functional
        # adjoint (its first contribution, then sums), which saves a zero-filled buffer each.
        in_place = {op.args[0] for op in walk_ops(fn.body) if reads_memory(op.prim) or writes_memory(op.prim)}
        top_level = [v for v in fn.params if is_array(v.type)]
        top_level += [r for op in fn.body.ops for r in op.results if is_array(r.type)]
        self.memory = {v for v in top_level if v in in_place}
        self.by_id = {v.id: v for v in self.defs}
        self.top_position = {}  # every op -> the position of the top-level op containing it
        for k, top in enumerate(fn.body.ops):
            self.top_position[top] = k
            for inner in nested_ops(top):
                self.top_position[inner] = k
        self._check_arrays()
        self.relevant = {}

    # ---- restrictions -------------------------------------------------------------------------
    def _check_arrays(self):
        """Refuse what the array adjoints cannot follow: writes into an array that is not
        a parameter or a function-level array of its own (and whole-array reads of an
        array before a later write into it, which `snapshot_whole_reads` has removed)."""
        for v in self.active:
            if not is_array(v.type) or v not in self.stored_into:
                continue
            d = self.defs[v]
            if d.op is None and v in self.fn.params:
                continue
            if v in self.memory and d.op.prim not in ("if", "for", "while") + _ALIASING:
                continue
            loc = (d.op.loc if d.op is not None else None) or (d.loop.loc if d.loop is not None else None)
            if d.op is not None and d.op.prim in _ALIASING:
                why, hint = (f"a write into a view of another array (`{v.hint or 'array'}`)",
                             "write into the original array with a slice: a[1:3] = ...")
            elif d.loop is not None and d.op is not None:
                why, hint = (f"a write into an array created inside a loop (`{v.hint or 'array'}`)",
                             "create the array once before the loops and write into it, or build new "
                             "arrays with expressions (h = h + v rather than h += v)")
            else:
                why, hint = (f"a write into an array variable that is reassigned in a loop or an if "
                             f"(`{v.hint or 'array'}`)",
                             "create the array once before the loops and write into it; do not rebind "
                             "array names, or use expressions (h = h + v rather than h += v)")
            raise _error(loc, f"cannot differentiate through {why}", hint)
        self._check_snapshots(self.fn.body)

    def _check_snapshots(self, block):
        """A slice of a written array is copied when taken (a snapshot); refuse the programs
        where Python would see a write into the array through the slice before its last use."""
        for p, op in enumerate(block.ops):
            for inner in op.blocks:
                self._check_snapshots(inner)
            if op.prim != "view" or op.args[0] not in self.stored_into:
                continue
            base, view = op.args[0], op.result
            last = len(block.ops) if view in block.yields else p
            for q in range(p + 1, len(block.ops)):
                later = block.ops[q]
                if view in later.args or any(view in o.args or any(view in b.yields for b in o.blocks)
                                             for o in [later, *nested_ops(later)]):
                    last = q
            for q in range(p + 1, min(last + 1, len(block.ops))):
                later = block.ops[q]
                writes = any(writes_memory(o.prim) and o.args[0] is base for o in [later, *nested_ops(later)])
                if writes and (q < last or later.blocks):
                    raise _error(op.loc, f"this slice of `{base.hint or 'an array'}` is used after a later "
                                 "write into that array", f"copy the slice when you take it: "
                                 f"{base.hint or 'a'}[...].copy()")

    # ---- driver ---------------------------------------------------------------------------------
    def build(self):
        # Dry run: which primal values does the reverse sweep read?
        self.mode = "dry"
        self.needed = set()
        self.tape_capacity = {}
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
                # never modify the caller's array (arrays passing through loops and ifs may alias it)
                if p in self.written and self.stored_into and is_array(p.type):
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

    def _missing(self, name, t):
        b = self.b
        if name[0] in ("d", "dc"):
            return self._zero_adjoint(self.by_id[name[1]])
        if name[0] == "cnt":
            return b.const(0)
        return b.emit("undef", [], {"type": t})

    def _zero_adjoint(self, v):
        if is_array(v.type):
            z = self.b.emit("zeros_like", [self.primal(v)], {"dtype": F64})
            z.hint = "d_" + (v.hint or "a")
            return z
        return self.b.const(0.0)

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
                if op.prim == "view" and op.args[0] in self.stored_into:
                    new = b.emit("copy", [new])  # a snapshot: later writes must not change it
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
                self.tape_capacity[loop] = size
                b.set(("cnt", id(loop)), b.const(0))
                for v in self.taped[loop]:
                    if is_array(v.type):  # rows of a buffer allocated at the first push
                        tape = b.emit("undef", [], {"type": Array(v.type.dtype, v.type.ndim + 1)})
                    else:
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
        vals = [v for v in self.taped.get(loop, ()) if not is_array(v.type)]  # tape_put grows the others
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
        numbers = [v for v in vals if not is_array(v.type)]
        if loop.prim == "while" and numbers:  # a for loop made room for its iterations before it started
            tape0 = b.vars[("tape", numbers[0].id)]
            full = b.emit("ge", [cnt, b.emit("shape", [tape0], {"dim": 0})])

            def grow():
                for v in numbers:
                    b.set(("tape", v.id), b.emit("tape_grow", [b.vars[("tape", v.id)]]))
            b.if_(full, grow)
        for v in vals:
            if is_array(v.type):
                tape = b.emit("tape_put", [b.vars[("tape", v.id)], cnt, b.vars.pop(("p", v.id)),
                                           self.tape_capacity[loop]])
                tape.hint = "tape_" + (v.hint or "t")
                b.set(("tape", v.id), tape)
            else:
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
        if is_array(v.type) and d.op.prim != "view":
            return False  # whole-array work is taped, not redone
        if d.op.prim in EXPENSIVE:
            return False  # exp, sin, ...: a tape load is cheaper than the call
        if p.effect == "pure":
            return True
        if p.effect == "read":
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
        if v in self.memory:
            return self.b.vars.get(("D", v.id))
        return self.b.vars.get(("d", v.id))

    def accumulate(self, v, contribution):
        if v not in self.active:
            return
        c = contribution.value if isinstance(contribution, Sym) else contribution
        if v in self.memory:
            self.b.emit("iadd", [self.array_adj(v), c])
            return
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
        arrays = [v for v in self.active if v in self.memory]
        for a in sorted(set(arrays), key=lambda v: v.id):
            d_a = b.emit("zeros_like", [self.primal(a)], {"dtype": F64})
            d_a.hint = "d_" + (a.hint or "a")
            b.set(("D", a.id), d_a)
        self._reverse_block(self.fn.body)
        grads = []
        for k in self.wrt:
            p = self.fn.params[k]
            g = self.adj(p)
            if g is None:
                g = self._zero_adjoint(p)
            elif is_array(p.type) and p not in self.memory and not self._fresh(g, grads):
                g = b.emit("copy", [g])  # a functional adjoint may share memory with another
                g.hint = "d_" + (p.hint or "a")
            grads.append(g)
        return grads

    def _fresh(self, g, others):
        """Is array `g` certainly an array of its own (made by the op that defines it)?"""
        op = next((o for o in self.b.block.ops if g in o.results), None)
        return op is not None and op.prim not in _ALIASING + ("unbroadcast",) \
            and op.prim in PRIMITIVES and PRIMITIVES[op.prim].effect in ("pure", "alloc") and g not in others

    def _is_relevant(self, op):
        """Does reversing `op` do anything?"""
        if op in self.relevant:
            return self.relevant[op]
        if op.blocks:
            r = any(res in self.active for res in op.results) or \
                any(self._is_relevant(o) for blk in op.blocks for o in blk.ops)
        elif op.prim == "copy":  # d_source += d_copy needs both adjoint arrays
            r = op.args[0] in self.active and op.result in self.active
        elif writes_memory(op.prim):
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
        if op.prim in ("load", "view"):
            g = self.adj(op.result)
            arr = op.args[0]
            if g is None or arr not in self.active:
                return
            idx = [self.primal(i) for i in op.args[1:]]
            target = self.array_adj(arr) if arr in self.memory else self._zero_adjoint(arr)
            if op.prim == "load":
                b.emit("store_add", [target] + idx + [g])
            else:
                b.emit("view_add", [target] + idx + [g], op.attrs)
            if arr not in self.memory:  # an array value defined in a loop: a one-hot contribution
                self.accumulate(arr, target)
            return
        if op.prim in ("store", "view_store"):
            arr, idx, val = op.args[0], op.args[1:-1], op.args[-1]
            d_arr = self.array_adj(arr)
            idx = [self.primal(i) for i in idx]
            if op.prim == "store":
                if val in self.active:
                    self.accumulate(val, b.emit("load", [d_arr] + idx))
                b.emit("store", [d_arr] + idx + [b.const(0.0)])
                return
            if val in self.active:
                region = b.emit("view", [d_arr] + idx, op.attrs)
                if is_array(val.type):
                    self.accumulate(val, b.emit("unbroadcast", [b.emit("copy", [region]), self.primal(val)]))
                else:
                    total = b.emit("sum", [region], {"axis": None})
                    total.hint = "d_" + (val.hint or "v")  # named: computed before the zeroing below
                    self.accumulate(val, total)
            b.emit("view_store", [d_arr] + idx + [b.const(0.0)], op.attrs)
            return
        if op.prim == "copy":
            g = self.adj(op.result)
            if g is not None:
                self.accumulate(op.args[0], g)
            return
        g = self.adj(op.result)
        prim = PRIMITIVES[op.prim]
        if g is None or prim.rules is None:
            return
        args = [Sym(thunk=lambda a=a: self.primal(a)) for a in op.args]
        out = Sym(thunk=lambda: self.primal(op.result))
        if prim.vjp is not None:
            contributions = prim.vjp(Sym(g), args, out, op.attrs)
            for a, c in zip(op.args, contributions):
                if c is not None and a in self.active:
                    self.accumulate(a, c)
            return
        for k, (a, partial) in enumerate(zip(op.args, prim.partials)):
            if partial is None or a not in self.active:
                continue
            c = (Sym(g) * partial(*args, out)).value
            if is_array(op.result.type):
                c = self._unbroadcast(c, op, k)
            self.accumulate(a, c)

    def _unbroadcast(self, c, op, k):
        """The adjoint `c` of an elementwise result, summed back to operand k's shape."""
        a = op.args[k]
        if not is_array(a.type):
            return self.b.emit("sum", [c], {"axis": None})
        if not any(is_array(o.type) and o is not a for o in op.args):
            return c  # the only array operand (x * 2.0, x * x): nothing was broadcast
        return self.b.emit("unbroadcast", [c, self.primal(a)])

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
            b.set(("dc", p.id), g if g is not None else self._zero_adjoint(r))
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
                    popped = b.emit("tape_row" if is_array(v.type) else "load", [b.vars[("tape", v.id)], cnt])
                    popped.hint = v.hint
                    self.frames[-1][v] = popped
            for p, y, _, _ in slots:
                self.accumulate(y, b.vars[("dc", p.id)])
            self._reverse_block(body)
            for p, _, _, _ in slots:
                g = b.vars.pop(("d", p.id), None)
                b.set(("dc", p.id), g if g is not None else self._zero_adjoint(p))
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
