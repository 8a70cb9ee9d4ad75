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
* Arrays follow the memory model of `adjit.ir.alias`.  Memory that is written through
  some name (an element or slice store into the array, a view of it, a row handed to a
  helper, a reshape) has one adjoint buffer per allocation, allocated where the allocation
  is made (once per iteration for a buffer made in a loop), and the adjoint of each view
  of it is the same view of that buffer: a write through any name is reversed in the
  buffer every name reads.  A double-buffering loop (``u, un = un, u``) swaps the buffers
  the same way.  An array read element by element at function level also has a buffer.
  Every other array value (``X @ W``, a recurrent state ``h``) has a functional adjoint,
  like a number's: its first contribution, then sums.  Whole-array primitives are
  reversed by their ``vjp`` rules; broadcast operands get their adjoint summed back to
  their shape.  What the reverse sweep reads of an array is what the forward sweep saw:
  `prepare.snapshot_whole_reads` copies an operand that a later write would change.
  Arrays the reverse needs from inside a loop are taped on a list, one entry per iteration.
* Written arrays that may be one of several allocations (through an ``if``, or rebound
  in a loop other than by swapping) are refused with the line: adjit cannot tell which
  buffer a write changes.  The caller's arrays are copied before any write.

* Accumulation loops.  A top-level `for` whose reverse iterations commute and whose
  accumulators' adjoints are known constants before it runs is *fused*: the reverse of each
  iteration is emitted inside the forward loop, right after that iteration's forward part,
  and reads the primal values as computed (no tape, no recomputation, no second loop; the
  Rosenbrock loop becomes one loop).  The criterion, all of it checked:
  1. (`_order_free`) every active carried value is a float *accumulator*: its yield is
     ``p + e`` or ``p - e`` along every path through the body (chains of add/sub, through
     ``if`` results), where nothing else in the body depends on p (`_dependence`), so its
     adjoint is the same on every iteration; and the body writes only memory allocated in
     the same iteration (a write's reverse moves and zeroes adjoints, which gives an order);
  2. no tape op (reverse mode's own output) is in the body;
  3. arrays from outside the loop that the body reads are not written from the loop on
     (their buffers receive contributions while the forward sweep runs; a later write's
     reverse would zero them);
  4. the body has no loop of its own (measured slower fused: `_accumulation_loop`);
  5. the dry run finds each accumulator result's adjoint to be a constant (``return s``,
     ``return a * s + b * t``: the seed 1.0 through constant factors).
  Otherwise the general path runs; there, a loop meeting 1-2 with no tape (its own or a
  nested loop's) runs its adjoint loop forwards.
  Scratch memory (`_private_memory`): an array made before the loop that every iteration
  fills first (``for k in range(len(lp)): lp[k] = ...``) and then only reads is no obstacle
  to 1 and 3: each iteration's reverse leaves its adjoint buffer zero, as it found it.  Its
  loads are then redone in the iteration's reverse instead of taped.  Bodies with loops are
  fused when a nested loop is not itself an accumulation or there is scratch memory (gmm:
  each point reversed right after its forward, its inner tapes reused by the next point).
* Taping asks what the reverse rules read (`adjit.ad.reads`): snapshots copy only operands
  a rule reads (``u[2:] - 2.0 * u[1:-1]`` reads none), and a value the dry run used only for
  its shape (a broadcast operand, a joined operand's length, a zero adjoint's shape) is not
  taped: an array of the same shape stands in (`_like`): one the reverse sweep has anyway
  (static shapes, `adjit.passes.shapes`), else an uninitialised one of taped dims.  Where the
  static shapes show an operand has the result's shape, no ``unbroadcast`` is emitted.
* Tapes of `for` loops nested in `for` loops whose bounds do not change are reserved once,
  before the outermost such loop (`_reserve_nest`).
* Checkpointed loops (`_checkpoint_memory`): a top-level loop whose nested loops would tape
  across all its iterations keeps only what each iteration starts from (its carried numbers,
  a copy of the 1-d arrays it fills); the reverse of an iteration restores them, runs the
  iteration again taping its nested loops for that iteration only, and reverses it.
* Before all this, `adjit.passes.licm` computes expensive loop-invariant scalars of nested
  loops once, into a table, before the top-level loop around them.
* The functional adjoint of an array defined in a loop is made its own (one copy or zeros)
  at its first element read, then updated in place, instead of a zero-filled array and a
  sum per read (`_own_adjoint`).

To know what to tape before emitting the forward sweep, the reverse sweep is built
twice: first as a dry run that only records which primal values it asks for.
"""
from ..errors import GradientError
from ..ir.builder import Builder
from ..ir.alias import MemoryModel
from ..ir.core import Function, Op, Value, loop_parts, walk_ops
from ..ir.primitives import EXPENSIVE, PRIMITIVES, makes_view, reads_memory, writes_memory
from ..ir.sym import Sym, building
from ..ir.types import F64, I64, Array, is_array, is_float
from ..passes.licm import promote_invariants
from ..passes.shapes import Shapes
from .activity import active_values
from .prepare import add_trip_counts, snapshot_whole_reads
from .reads import shape_only, uses_of



# ops of reverse mode's output without a reverse rule of their own (see _check_reverse_only)
_NO_REVERSE_RULE = ("array_tape", "tape_append", "tape_row", "tape_grow", "tape_reserve", "unreduce", "route",
                    "route_all", "prod_adjoint")


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


class _DryRun(Exception):
    pass


class ReverseMode:
    def __init__(self, fn, wrt, seeded=False, seeds=None):
        promote_invariants(fn)
        add_trip_counts(fn.body)
        self.fn = fn
        self.wrt = list(wrt)
        snapshot_whole_reads(fn, active_values(fn, [fn.params[k] for k in self.wrt]))
        # seeded (a vjp): every float output's adjoint is a parameter of the result, the
        # cotangent; otherwise the one float output's adjoint is 1.0 (a gradient)
        self.seeded = seeded
        if seeds is None:
            seeds = [k for k, y in enumerate(fn.body.yields) if is_float(y.type)] if seeded else [0]
        self.seeds = list(seeds)
        self.active = active_values(fn, [fn.params[k] for k in self.wrt])
        self.defs, self.parent_loop = _index_definitions(fn)
        self.mem = MemoryModel(fn)
        self.shapes = Shapes(fn)
        # Memory that is written through some name has one adjoint buffer per allocation
        # (its root), and the adjoint of every view of it is the same view of that buffer:
        # a write through any name is then reversed in the buffer every name reads.
        # An array whose memory is only written before it is made (v = w * 2.0 if c else w,
        # after the last write into w) is a value from then on: a functional adjoint does.
        self.shared = {v for v in self.active if is_array(v.type) and self._written_while_alive(v)}
        # Arrays read element by element (or slice by slice) at function level also get one
        # adjoint buffer, updated in place; every other array value has a functional adjoint
        # (its first contribution, then sums), which saves a zero-filled buffer each.
        in_place = {op.args[0] for op in walk_ops(fn.body) if reads_memory(op.prim) or writes_memory(op.prim)}
        top_level = [v for v in fn.params if is_array(v.type)]
        top_level += [r for op in fn.body.ops for r in op.results if is_array(r.type)]
        self.memory = {v for v in top_level if v in in_place} | self.shared
        # Double buffers: a loop whose carried written arrays are only swapped (u, un = un, u)
        # has their adjoint buffers swapped the same way, forwards and backwards.
        self.permuted = {}  # loop op -> {j: k}: carried array j becomes carried array k's memory
        for op in walk_ops(fn.body):
            if op.prim in ("for", "while"):
                params, _, yields = loop_parts(op)
                written = [j for j, p in enumerate(params) if p in self.shared]
                where = {p: j for j, p in enumerate(params)}
                sigma = {j: where.get(yields[j]) for j in written}
                if written and sorted(sigma.values(), key=str) == sorted(written, key=str):
                    self.permuted[op] = sigma
        self.swapped = {v for op, sigma in self.permuted.items() for j in sigma
                        for v in (loop_parts(op)[0][j], op.results[j])}
        self.by_id = {v.id: v for v in self.defs}
        self._check_arrays()
        self._check_reverse_only()
        self.relevant = {}
        self.dims = {}  # array -> the IR values of its dims, when the reverse sweep needs only its shape
        self.dim_values = set()
        self.shape_only = set()  # values the reverse sweep reads only for their shape (see build)
        self._by_shape = {}  # dims keys -> a function-level array of that shape (see _like)
        for v in top_level:
            self._by_shape.setdefault(self.shapes.dims(v), v)
        self.order_free = {}  # for loop -> do its reverse iterations commute (_order_free)
        self.fused = {}  # accumulation loop -> {carried index: its (constant) adjoint}; see _accumulation_loop
        self.scratch = set()  # the scratch arrays of fused loops (_private_memory)
        self.checkpointed = set()  # loops recomputed one iteration at a time in the reverse (_checkpoint)
        self.not_checkpointed = set()
        self.recording = True

    # ---- restrictions -------------------------------------------------------------------------
    def _check_arrays(self):
        """Refuse what the adjoint buffers cannot follow: a written array that may be one of
        several allocations (it flows through an `if` or a loop).  (A written reshape of a view
        that may not be contiguous is refused by the frontend, for jit too.)"""
        for v in sorted(self.shared, key=lambda v: v.id):
            d = self.defs[v]
            loc = (d.op.loc if d.op is not None else None) or (d.loop.loc if d.loop is not None else None)
            base, views = v, []
            while self.mem.view_op(base) is not None:
                views.append(self.mem.view_op(base))
                base = views[-1].args[0]
            if not (self.mem.is_root(base) or base in self.swapped):
                raise _error(loc, f"cannot differentiate through writes into `{v.hint or 'an array'}`: it may be "
                             "one of several arrays here (it is assigned in an if, or rebound in a loop), and "
                             "adjit cannot tell which memory a write through it changes",
                             "write into arrays created once before the loops, or build new arrays "
                             "with expressions (h = h + v rather than h += v)")


    def _check_reverse_only(self):
        """Ops that only reverse mode's own output contains (tapes, adjoint helpers) have no
        reverse rule: differentiating a gradient in reverse mode is refused, not guessed."""
        for op in walk_ops(self.fn.body):
            if op.prim in _NO_REVERSE_RULE and (any(r in self.active for r in op.results)
                                                 or (writes_memory(op.prim) and op.args[0] in self.active)):
                raise _error(op.loc, "cannot differentiate a gradient that keeps a tape or adjoint arrays "
                             f"(`{op.prim}`) in reverse mode",
                             "for second derivatives use forward mode over reverse: adjit.hessian(f), "
                             "adjit.jacfwd(adjit.grad(f)) or adjit.jvp(adjit.grad(f), ...)")

    def _written_while_alive(self, v):
        """Can memory of array `v` be written once `v` exists (by the op that makes it or later)?"""
        d = self.defs[v]
        made_by = d.op if d.op is not None else d.loop
        if made_by is None:  # a parameter
            return self.mem.written(v)
        return self.mem.written_after(v, made_by)

    # ---- driver ---------------------------------------------------------------------------------
    def build(self):
        # Dry run: which primal values does the reverse sweep read?  Those it reads only for
        # their shape (a broadcast operand's, a joined operand's length, a zero adjoint's) are
        # not kept: a second dry run gives them an array of the same shape (_like).
        self._dry_run()
        self.shape_only = {v for v, uses in self._placeholders.items() if all(shape_only(u, self._uses)
                                                                              for u in uses)}
        # a loop is recomputed per iteration only if that saves tapes of its nested loops
        useless = {op for op in self.checkpointed if not any(
            self.defs[v].loop in self._loops_inside(op)[1:] and not self._recomputable(v) for v in self.needed)}
        self.checkpointed -= useless
        self.not_checkpointed |= useless
        if self.shape_only or useless:
            self._dry_run()
        # Real run.
        self.mode = "real"
        self.owned = {}
        self.reserved = {}  # nested loops whose tapes were reserved before an outer loop
        self.recording = True  # False while a checkpointed loop runs in the forward sweep
        self.taped = {}  # loop op -> [values taped in its body]
        for v in self.needed:
            d = self.defs[v]
            if d.loop is not None and d.loop not in self.fused and d.loop not in self.checkpointed and not d.iv \
                    and not self._recomputable(v):
                self.taped.setdefault(d.loop, []).append(v)
        for op in self.checkpointed:  # what an iteration starts from: its carried values
            self.taped[op] = list(op.blocks[0].params[1:])
            self.needed.update(self.taped[op])
        for vs in self.taped.values():
            vs.sort(key=lambda v: v.id)
        b = Builder(missing=self._missing)
        b.loop_carries_new = _carries
        self.b = b
        with building(b):
            params = [Value(p.type, p.hint) for p in self.fn.params]
            self.cotangents = [Value(self.fn.body.yields[k].type, "ct") for k in self.seeds] if self.seeded else []
            b.block.params = params + self.cotangents
            self.fmap = dict(zip(self.fn.params, params))
            for p, new in zip(self.fn.params, params):
                # never modify the caller's array, through any name of it
                if is_array(p.type) and self.mem.written(p):
                    self.fmap[p] = b.emit("copy", [new])
                    self.fmap[p].hint = p.hint
                self._remember(p, self.fmap[p])
            self.frames = [{}]
            if self.fused:  # a fused loop adds into the buffers while the forward sweep runs
                self._allocate_adjoints(self.fn.params)
            self._forward_block(self.fn.body)
            outs = [self.fmap[y] for y in self.fn.body.yields] if self.seeded else [self.fmap[self.fn.body.yields[0]]]
            self.frames = [{}]
            grads = self._reverse_sweep()
            b.block.yields = outs + grads
        name = self.fn.name + ("_vjp" if self.seeded else "_grad")
        return Function(name, params + self.cotangents, b.block, self.fn.filename, returns_tuple=True)

    def _dry_run(self):
        self.mode = "dry"
        self.needed = set()
        self.owned = {}  # array adjoint -> the value it is the adjoint of alone (see _owned)
        self._placeholders = {}  # primal value -> the stand-ins the dry run handed out
        dry = Builder(missing=self._missing)
        dry.loop_carries_new = _carries
        with building(dry):
            self.b = dry
            self.frames = [{}]
            self.cotangents = [Value(self.fn.body.yields[k].type) for k in self.seeds]
            self._reverse_sweep(dry_params=True)
        self._uses = uses_of(dry.blocks[0])

    def _missing(self, name, t):
        b = self.b
        if name[0] in ("d", "dc"):
            return self._zero_adjoint(self.by_id[name[1]])
        if name[0] == "cnt":
            return b.const(0)
        return b.emit("undef", [], {"type": t})

    def _zero_adjoint(self, v):
        if is_array(v.type):
            z = self.b.emit("zeros_like", [self._like(v)], {"dtype": F64})
            z.hint = "d_" + (v.hint or "a")
            return z
        return self.b.const(0.0)

    # ---- forward sweep ----------------------------------------------------------------------------
    def _remember(self, v, new):
        """Keep primal value `v` for the reverse sweep if it asks for it (or for its shape)."""
        if v in self.needed:
            self.b.set(("p", v.id), new)
        for k, dim in enumerate(self.dims.get(v, ())):
            if dim in self.needed:
                self._remember(dim, self.b.emit("shape", [new], {"dim": k}))

    def _like(self, a):
        """An array with the shape of primal array `a`, for an op that reads only its shape
        (unbroadcast): `a` itself where the reverse sweep has it without taping it (outside
        loops, a view, recomputed, or taped anyway); else an uninitialised array of a's dims,
        which are taped as ints (a loop would otherwise tape a whole array per iteration for
        its shape: the heat equation's intermediates)."""
        d = self.defs[a]
        if self._cheap(a) or (self.mode == "real" and a in self.needed and a not in self.shape_only):
            return self.primal(a)
        same = self._same_shape(a)
        if same is not None:
            return same
        if a not in self.dims:
            self.dims[a] = []
            for k in range(a.type.ndim):
                dim = Value(I64, "n")
                self.defs[dim] = _Def(Op("shape", [a], [dim], {"dim": k}), d.loop)
                self.by_id[dim.id] = dim
                self.dims[a].append(dim)
                self.dim_values.add(dim)
        like = self.b.emit("empty", [self.primal(dim) for dim in self.dims[a]], {"dtype": F64})
        like.hint = "shape_" + (a.hint or "t")
        return like

    def _cheap(self, v):
        """Does the reverse sweep have primal `v` without taping anything for it?"""
        d = self.defs[v]
        if d.loop is None or d.loop in self.fused or d.loop in self.checkpointed or d.iv or \
                any(v in frame for frame in self.frames):
            return True
        if v in self.dim_values or v in self.shape_only or not self._recomputable(v):
            return False
        return all(self._cheap(a) for a in d.op.args)

    def _same_shape(self, a):
        """An array the reverse sweep has without a tape, of the same shape as `a` (by the
        static shapes of `adjit.passes.shapes`), or None: a function-level array, the same
        view of a same-shaped stand-in for a view's base, or an elementwise op's operand."""
        other = self._by_shape.get(self.shapes.dims(a))
        if other is not None and self.shapes.dims(a) is not None:
            return self.primal(other)
        op = self.defs[a].op
        if op is None:
            return None
        if op.prim == "view" and all(self._cheap(i) for i in op.args[1:]):
            base = self._like(op.args[0])
            like = self.b.emit("view", [base] + [self.primal(i) for i in op.args[1:]], op.attrs)
            like.hint = "shape_" + (a.hint or "t")
            return like
        if op.prim in ("zeros", "ones", "empty", "full") and all(self._cheap(n) for n in op.args):
            sizes = op.args[:-1] if op.prim == "full" else op.args
            like = self.b.emit("empty", [self.primal(n) for n in sizes], {"dtype": F64})
            like.hint = "shape_" + (a.hint or "t")
            return like
        if op.prim in PRIMITIVES and PRIMITIVES[op.prim].elementwise or op.prim == "copy":  # (not if/loop results)
            for x in op.args:
                if is_array(x.type) and self.shapes.same(x, a):
                    return self._like(x)
        return None

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
            if self.fused and block is self.fn.body:
                self._allocate_adjoints(op.results, [op] if op in self.permuted else [])

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
                    if is_array(v.type):  # a list: the arrays of an iteration may differ in shape
                        tape = b.emit("array_tape", [], {"type": Array(v.type.dtype, v.type.ndim + 1)})
                    else:
                        tape = b.emit("empty", [size], {"dtype": v.type})
                    tape.hint = "tape_" + (v.hint or "t")
                    b.set(("tape", v.id), tape)
        elif op.prim == "for":  # a nested for: make room for all its iterations at once
            self._reserve(op)
        snapshots = self._checkpoint_memory(op) if op in self.checkpointed else []
        for a in snapshots:  # the memory an iteration writes, as it starts (see _checkpoint_memory)
            tape = b.emit("array_tape", [], {"type": Array(a.type.dtype, a.type.ndim + 1)})
            tape.hint = "snap_" + (a.hint or "a")
            b.set(("snap", a.id), tape)
        if op in self.checkpointed:
            self.recording = False  # its nested loops are taped when it is recomputed
        elif op.prim == "for":
            self._reserve_nest(op)
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
            for a in snapshots:
                b.emit("tape_append", [b.vars[("snap", a.id)], b.emit("copy", [self.fmap[a]])])

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
                if op in self.fused:
                    self._fused_adjoint(op, iv)
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
        if op in self.checkpointed:
            self.recording = True
        for r, k in zip(op.results, keys):
            self.fmap[r] = b.vars.pop(k)
            self._remember(r, self.fmap[r])

    def _reserve(self, loop, count=None, by=None):
        """Before a nested `for`, grow its tapes to hold its trip count (or `count`, reserved
        before loop `by`) more entries."""
        vals = [v for v in self.taped.get(loop, ()) if not is_array(v.type)]  # arrays go on lists
        if not vals or not self.recording or self.reserved.get(loop, by) is not by:
            return  # (reserved before an outer loop already; a body built twice reserves again)
        b = self.b
        needed = b.emit("add", [b.vars[("cnt", id(loop))], count or self.fmap[loop.attrs["trip"]]])
        for v in vals:
            b.set(("tape", v.id), b.emit("tape_reserve", [b.vars[("tape", v.id)], needed]))
        if by is not None:
            self.reserved[loop] = by

    def _reserve_nest(self, op, once=False):
        """Before `for` loop `op`, reserve the tapes of the `for` loops nested in it (through
        `for` bodies) whose bounds do not change while `op` runs: once for all their iterations,
        instead of once per iteration of the loops around them.  In a fused loop, whose
        iterations pop what they push, once for one iteration."""
        b = self.b
        inside = {v for o in walk_ops_list(op) for v in o.results} | \
            {p for o in [op, *walk_ops_list(op)] for blk in o.blocks for p in blk.params}

        def visit(block, factor):
            for loop in block.ops:
                if loop.prim != "for" or any(a in inside and a.const is None for a in loop.args[:3]):
                    continue
                trip = b.emit("range_len", [self.fmap[a] if a not in inside else b.const(a.const[0], a.type)
                                            for a in loop.args[:3]])
                count = trip if factor is None else b.emit("mul", [factor, trip])
                self._reserve(loop, count, op)
                visit(loop.blocks[0], count)
        visit(op.blocks[0], None if once or op in self.fused else self.fmap[op.attrs["trip"]])

    def _push(self, loop):
        vals = self.taped.get(loop)
        b = self.b
        if loop in self.checkpointed:  # the values of its body are recomputed, not kept
            for v in self.needed:
                if self.defs[v].loop is loop and v not in vals:
                    b.vars.pop(("p", v.id), None)
        elif not self.recording:  # nested in a loop that is recomputed: taped then
            for v in vals or ():
                b.vars.pop(("p", v.id), None)
            return
        if vals is None or (not vals and loop not in self.checkpointed):
            return
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
                b.emit("tape_append", [b.vars[("tape", v.id)], b.vars.pop(("p", v.id))])
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
        if v in self.dim_values:
            return False  # a taped dim of a taped-for-its-shape array (see _like)
        p = PRIMITIVES.get(d.op.prim)
        if p is None:
            return False
        if is_array(v.type) and not p.aliases:
            return False  # whole-array work is taped, not redone (a view is only an address)
        if d.op.prim in EXPENSIVE:
            return False  # exp, sin, ...: a tape load is cheaper than the call
        if p.aliases:
            return True  # a view of what the reverse sweep has is an address, whatever it holds
        if p.effect == "pure":
            # redone in the reverse sweep, it reads its array operands as they are then: only
            # if nothing writes them from the loop on (np.sum(A) in a loop, A written later)
            return all(self.mem.last_write(a) < self.mem.position[d.loop] for a in d.op.args if is_array(a.type))
        if p.effect == "read":
            # A load can be redone in the reverse sweep if nothing writes the array after it.
            arr = d.op.args[0]
            if arr in self.scratch:  # in a fused loop, nothing writes it before the iteration's reverse
                return True
            if not (arr in self.fn.params or self.defs[arr].loop is None):
                return False
            return self.mem.last_write(arr) < self.mem.position[d.loop]
        return False

    def primal(self, v):
        for frame in reversed(self.frames):
            if v in frame:
                return frame[v]
        d = self.defs[v]
        if v.const is not None and d.loop is None:  # (in the dry run too: it tells constant adjoints)
            return self.b.const(v.const[0], v.type)
        if (d.loop in self.fused or d.loop in self.checkpointed) and not d.iv:
            # the adjoint runs right after the iteration is computed (fused), or recomputed
            if self.mode == "dry":
                self.needed.add(v)
                return Value(v.type, v.hint)
            return self.b.vars[("p", v.id)]
        if v in self.shape_only and not self._cheap(v):
            return self._like(v)
        if d.loop is not None and self._recomputable(v) and not d.iv:
            new = self.b.emit(d.op.prim, [self.primal(a) for a in d.op.args], d.op.attrs)
            new.hint = v.hint
            self.frames[-1][v] = new
            return new
        if self.mode == "dry":
            self.needed.add(v)
            stand_in = Value(v.type, v.hint)
            self._placeholders.setdefault(v, []).append(stand_in)
            return stand_in
        if d.loop is None:
            if v.const is not None:
                return self.b.const(v.const[0], v.type)
            return self.b.vars[("p", v.id)]
        raise AssertionError(f"adjit internal error: {v} is not available in the reverse sweep")

    # ---- adjoints -----------------------------------------------------------------------------------
    def adj(self, v):
        if v in self.shared:
            return self.array_adj(v)
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
        if old is not None and self._owned(v, old):
            self.b.emit("iadd", [old, c])
            return
        if old is None:
            new = c
        else:
            new = self.b.emit("add", [old, c])
            if v.hint:
                new.hint = "d_" + v.hint
            if is_array(v.type):
                self.owned[new] = v
        self.b.set(("d", v.id), new)

    def _owned(self, v, g):
        """Is array adjoint `g` of `v` an array that only v's adjoint holds (made for it by a
        sum or a copy, never handed to another value), so that contributions may go in place?
        A first contribution is not: the same array may be another value's adjoint too."""
        return self.owned.get(g) is v

    def _own_adjoint(self, v):
        """The adjoint array of `v`, made v's own first (a copy, or zeros) so it can be updated
        in place: each element read of an array value then adds into one array."""
        old = self.adj(v)
        if old is not None and self._owned(v, old):
            return old
        new = self._zero_adjoint(v) if old is None else self.b.emit("copy", [old])
        new.hint = "d_" + (v.hint or "a")
        self.owned[new] = v
        self.b.set(("d", v.id), new)
        return new

    def array_adj(self, a):
        """The adjoint buffer of array `a`; for a view of written memory, the same view of
        its root's buffer (so that every name of the memory reads and writes one buffer)."""
        if ("D", a.id) in self.b.vars or a not in self.shared or self.mem.is_root(a):
            return self.b.vars[("D", a.id)]
        key = ("D", a)
        for frame in reversed(self.frames):
            if key in frame:
                return frame[key]
        op = self.mem.view_op(a)
        d = self.b.emit(op.prim, [self.array_adj(op.args[0])] + [self.primal(i) for i in op.args[1:]], op.attrs)
        d.hint = "d_" + (a.hint or "v")
        self.frames[-1][key] = d
        return d

    def _allocate_adjoints(self, values, loops=()):
        """Zero adjoint buffers for the arrays among `values` that have one of their own:
        done where they are defined, so that a buffer made in a loop body is one per iteration.
        Then the buffers of what the double-buffering `loops` leave in their carried arrays."""
        for a in values:
            if a not in self.memory or (a in self.shared and not self.mem.is_root(a)) or ("D", a.id) in self.b.vars:
                continue
            # C-ordered whatever the array's layout, so that a reshape of the buffer is a view
            # exactly when the reshape of the array is (np.zeros_like keeps a Fortran order)
            d = self.defs[a]
            if d.op is not None and d.op.prim in ("zeros", "ones", "empty", "full"):
                shape = [self.primal(n) for n in d.op.args[:len(d.op.args) - (d.op.prim == "full")]]
            else:
                like = self.primal(d.op.args[0] if d.op is not None and d.op.prim in (
                    "zeros_like", "ones_like", "empty_like", "copy") else a)
                shape = [self.b.emit("shape", [like], {"dim": k}) for k in range(a.type.ndim)]
            d_a = self.b.emit("zeros", shape, {"dtype": F64})
            d_a.hint = "d_" + (a.hint or "a")
            self.b.set(("D", a.id), d_a)
        for op in loops:
            self._swap_forwards(op)

    def _swap_forwards(self, op):
        """After `trip` iterations of a double-buffering loop, carried array j is the memory
        that init sigma^trip(j) started in: replay the swaps on the adjoint buffers."""
        b, sigma, key = self.b, self.permuted[op], ("DS", id(op))
        if all(("D", op.results[j].id) in b.vars for j in sigma):
            return  # done already, for a fused loop after it (the forward sweep)
        _, inits, _ = loop_parts(op)
        for j in sigma:
            b.set(key + (j,), self.array_adj(inits[j]))

        def run(_):
            now = {j: b.vars[key + (j,)] for j in sigma}
            for j in sigma:
                b.set(key + (j,), now[sigma[j]])
        b.for_(b.const(0), self.primal(op.attrs["trip"]), b.const(1), run, iv_hint="_")
        for j in sigma:
            b.set(("D", op.results[j].id), b.vars.pop(key + (j,)))

    # ---- reverse sweep --------------------------------------------------------------------------------
    def _reverse_sweep(self, dry_params=False):
        b = self.b
        self._allocate_adjoints(self.fn.params)
        self._reverse_block(self.fn.body, seed=self._seed)
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
        return op is not None and not makes_view(op.prim) and op.prim != "unbroadcast" \
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

    def _seed(self):
        """The adjoints of the outputs: 1.0 for a gradient, the cotangents for a vjp."""
        if not self.seeded:
            self.b.set(("d", self.fn.body.yields[0].id), self.b.const(1.0))
            return
        for k, ct in zip(self.seeds, self.cotangents):
            self.accumulate(self.fn.body.yields[k], ct)

    def _reverse_block(self, block, seed=None):
        self._allocate_adjoints([r for op in block.ops for r in op.results], [op for op in block.ops
                                                                              if op in self.permuted])
        if seed is not None:  # once the buffers exist: an output may be an array with one
            seed()
        for op in reversed(block.ops):
            if self._is_relevant(op):
                {"if": self._reverse_if, "for": self._reverse_loop, "while": self._reverse_loop}.get(
                    op.prim, self._reverse_primitive)(op)
            for r in op.results:
                self.b.vars.pop(("d", r.id), None)
                self.b.vars.pop(("D", r.id), None)

    def _reverse_primitive(self, op):
        b = self.b
        if makes_view(op.prim) and op.result in self.shared:
            return  # its adjoint is the same view of the base's adjoint buffer: nothing to move
        if op.prim in ("load", "view"):
            g = self.adj(op.result)
            arr = op.args[0]
            if g is None or arr not in self.active:
                return
            idx = [self.primal(i) for i in op.args[1:]]
            # an array value defined in a loop has a functional adjoint: made its own, then in place
            target = self.array_adj(arr) if arr in self.memory else self._own_adjoint(arr)
            if op.prim == "load":
                b.emit("store_add", [target] + idx + [g])
            else:
                b.emit("view_add", [target] + idx + [g], op.attrs)
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
            # the stored region's adjoint moves to the value: taken out and zeroed before it is
            # added, since the value may be a view of the same memory (u[1:] = u[:-1])
            contribution = None
            if val in self.active:
                region = b.emit("view", [d_arr] + idx, op.attrs)
                if is_array(val.type):
                    contribution = self._sum_back(b.emit("copy", [region]), val, self.shapes.view_dims(
                        arr, op.args[1:-1], op.attrs["spec"]))
                else:
                    contribution = b.emit("sum", [region], {"axis": None})
                contribution.hint = "d_" + (val.hint or "v")  # named: computed before the zeroing
            b.emit("view_store", [d_arr] + idx + [b.const(0.0)], op.attrs)
            if contribution is not None:
                self.accumulate(val, contribution)
            return
        if op.prim in ("store_add", "view_add", "iadd"):  # a[idx] += v: v's adjoint is a[idx]'s
            arr, idx, val = op.args[0], [self.primal(i) for i in op.args[1:-1]], op.args[-1]
            if val not in self.active:
                return
            d_arr = self.array_adj(arr)
            if op.prim == "store_add":
                c = b.emit("load", [d_arr] + idx)
            else:
                region = d_arr if op.prim == "iadd" else b.emit("view", [d_arr] + idx, op.attrs)
                dims = self.shapes.dims(arr) if op.prim == "iadd" else self.shapes.view_dims(
                    arr, op.args[1:-1], op.attrs["spec"])
                c = self._sum_back(b.emit("copy", [region]), val, dims) if is_array(val.type) \
                    else b.emit("sum", [region], {"axis": None})
            self.accumulate(val, c)
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
            try:
                contributions = prim.vjp(Sym(g), args, out, op.attrs)
            except GradientError as e:  # a user's rule (adjit.custom_vjp) that does not fit: with the line
                if e.filename is None and op.loc:
                    raise _error(op.loc, e.message, e.hint) from None
                raise
            for a, c in zip(op.args, contributions):
                if c is not None and a in self.active:
                    self.accumulate(a, c)
            return
        done = set()
        for k, (a, partial) in enumerate(zip(op.args, prim.partials)):
            if partial is None or a not in self.active or a in done:
                continue
            # an operand used twice (x * x, the lowered x**2) gets one contribution: the sum of
            # its partials, 2.0 * x when they are the same value (exact, as x + x is)
            same = [j for j in range(k + 1, len(op.args)) if op.args[j] is a and prim.partials[j] is not None]
            done.add(a)
            d = partial(*args, out)
            if same:
                parts = [d] + [prim.partials[j](*args, out) for j in same]
                values = [p.value if isinstance(p, Sym) else p for p in parts]
                if all(isinstance(v, Value) and v is values[0] for v in values):
                    d = float(len(parts)) * parts[0]
                else:
                    for p in parts[1:]:
                        d = d + p
            c = (Sym(g) * d).value
            if is_array(op.result.type):
                c = self._unbroadcast(c, op, k)
            self.accumulate(a, c)

    def _sum_back(self, c, val, dims):
        """The adjoint `c` of a region of static shape `dims`, summed back to the shape of the
        array `val` stored (or added) into it: `c` itself when their shapes are the same."""
        if dims is not None and dims == self.shapes.dims(val):
            return c
        return self.b.emit("unbroadcast", [c, self._like(val)])

    def _unbroadcast(self, c, op, k):
        """The adjoint `c` of an elementwise result, summed back to operand k's shape."""
        a = op.args[k]
        if not is_array(a.type):
            return self.b.emit("sum", [c], {"axis": None})
        if not any(is_array(o.type) and o is not a for o in op.args) or self.shapes.same(a, op.result):
            return c  # the only array operand (x * 2.0, x * x), or one of the result's shape
        return self.b.emit("unbroadcast", [c, self._like(a)])

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
        slots = [(p, y, r, init) for p, y, r, init in zip(carried, body.yields, op.results, inits)
                 if p in self.active and p not in self.shared]
        if self._running_max(op) is not None:
            self._reverse_running_max(op)
            return
        if self.mode == "dry" and op not in self.fused and self._accumulation_loop(op):
            consts = {}
            for k, (p, y, r, init) in enumerate(zip(carried, body.yields, op.results, inits)):
                g = self.adj(r) if p in self.active else None
                if g is not None and g.const is None:
                    break
                if g is not None:
                    consts[k] = g.const[0]
            else:
                if consts:
                    self.fused[op] = consts
                    self.scratch |= self._private_memory(op)
        if self.mode == "dry" and op not in self.fused and op not in self.not_checkpointed and \
                self._checkpoint_memory(op) is not None:
            self.checkpointed.add(op)
        if op in self.fused and self.mode == "real":
            # fused with the forward loop (_fused_adjoint): the init's adjoint is the constant's
            for k, g in self.fused[op].items():
                self.accumulate(inits[k], b.const(g))
            return
        sigma, key = self.permuted.get(op, {}), ("DS", id(op))
        for j in sigma:  # the adjoint buffer of carried array j after the last iteration
            b.set(key + (j,), self.array_adj(op.results[j]))
        for p, _, r, _ in slots:
            g = self.adj(r)
            b.set(("dc", p.id), g if g is not None else self._zero_adjoint(r))
        trip = self.primal(op.attrs["trip"])
        last = b.emit("sub", [trip, b.const(1)])
        if op.prim == "for" and self.mode == "real" and self._order_free(op) and not any(
                self.taped.get(loop) for loop in self._loops_inside(op)):
            # the reverse iterations commute and no tape fixes their order: forwards, as the
            # forward loop runs (memory is then read in order, and LLVM vectorises more)
            start, step = self.primal(op.args[0]), self.primal(op.args[2])
            bounds = (start, b.emit("add", [start, b.emit("mul", [trip, step])]), step)
        elif op.prim == "for":
            start, step = self.primal(op.args[0]), self.primal(op.args[2])
            first = b.emit("add", [start, b.emit("mul", [last, step])])
            stop = b.emit("sub", [start, step])
            bounds = (first, stop, b.emit("neg", [step]))
        else:
            bounds = (last, b.const(-1), b.const(-1))

        def run(i):
            self.frames.append({} if iv is None else {iv: i})
            taped = self.taped.get(op) if self.mode == "real" else None
            if taped or (taped is not None and op in self.checkpointed):
                cnt = b.emit("sub", [b.vars[("cnt", id(op))], b.const(1)])
                cnt.hint = "top"
                b.set(("cnt", id(op)), cnt)
                for v in taped:
                    popped = b.emit("tape_row" if is_array(v.type) else "load", [b.vars[("tape", v.id)], cnt])
                    popped.hint = v.hint
                    self.frames[-1][v] = popped
                if op in self.checkpointed:
                    self._recompute_iteration(op, i, cnt)
            for p, y, _, _ in slots:
                self.accumulate(y, b.vars[("dc", p.id)])
            for j in sigma:  # this iteration's carried array sigma(j) became the next one's j
                b.set(("D", carried[sigma[j]].id), b.vars[key + (j,)])
            self._reverse_block(body)
            for j in sigma:
                b.set(key + (j,), b.vars.pop(("D", carried[j].id)))
            for p, _, _, _ in slots:
                g = b.vars.pop(("d", p.id), None)
                b.set(("dc", p.id), g if g is not None else self._zero_adjoint(p))
            if iv is not None:
                b.vars.pop(("d", iv.id), None)
            self.frames.pop()
        b.for_(*bounds, run, iv_hint=(iv.hint if iv is not None else None) or "k")
        for p, _, _, init in slots:
            self.accumulate(init, b.vars.pop(("dc", p.id)))
        for j in sigma:
            b.vars.pop(key + (j,))


    # ---- running max/min: routed by a comparison, nothing taped --------------------------------------
    def _running_max(self, op):
        """For ``m = init; for k in range(...): if x_k > m: m = x_k`` (or ``<``: a running min),
        with x_k a load the reverse sweep can redo, the load op of x_k; else None."""
        if op.prim != "for" or len(op.results) != 1 or op.results[0] not in self.active:
            return None
        body = op.blocks[0]
        p, y = body.params[1], body.yields[0]
        ops = {o.results[0]: o for o in body.ops if len(o.results) == 1}
        sel, cond = ops.get(y), None
        if sel is None or sel.prim != "if" or p.type != F64:
            return None
        cond = ops.get(sel.args[0])
        if cond is None or cond.prim not in ("gt", "lt") or cond.args[1] is not p:
            return None
        x, then, orelse = cond.args[0], sel.blocks[0], sel.blocks[1]
        load = ops.get(x)
        if load is None or load.prim != "load" or orelse.ops or orelse.yields[0] is not p:
            return None
        taken = then.yields[0]
        if taken is not x and not (len(then.ops) == 1 and then.ops[0].results[0] is taken and
                                   then.ops[0].prim == "load" and then.ops[0].args == load.args):
            return None
        if len(then.ops) > 1 or set(body.ops) != {load, cond, sel} or \
                not self._recomputable(x) or not all(self._cheap(a) for a in load.args):
            return None
        return load

    def _reverse_running_max(self, op):
        """The adjoint of a running max goes to the element that set it last: the first element
        equal to the result (a later equal one does not replace it, an earlier one is smaller),
        or to the initial value when nothing replaced it (the result equals it, or is a nan it
        started as).  A forward scan with the comparison redone replaces the replay of the loop
        backwards over a tape of the running values."""
        b, body = self.b, op.blocks[0]
        g = self.adj(op.results[0])
        if g is None:
            return
        load, init = self._running_max(op), op.args[3]
        final, first = self.primal(op.results[0]), self.primal(init)
        kept = b.emit("or_", [b.emit("eq", [first, final]), b.emit("ne", [final, final])])

        def to_init():
            self.accumulate(init, g)

        def scan():
            key = ("dc", body.params[1].id)
            b.set(key, g)

            def run(k):
                self.frames.append({body.params[0]: k})
                x = self.primal(load.results[0])

                def hit():
                    self.b.vars[("d", load.results[0].id)] = b.vars[key]
                    self._reverse_primitive(load)
                    b.vars.pop(("d", load.results[0].id), None)
                    b.set(key, b.const(0.0))
                b.if_(b.emit("eq", [x, final]), hit)
                self.frames.pop()
            b.for_(*(self.primal(a) for a in op.args[:3]), run, iv_hint="k")
            b.vars.pop(key)
        b.if_(kept, to_init, scan)

    # ---- checkpointed loops: each iteration recomputed in the reverse sweep ----------------------------
    def _checkpoint_memory(self, op):
        """The arrays to snapshot per iteration if top-level `for` loop `op` is to be recomputed
        one iteration at a time in the reverse sweep, or None if it is not.  Instead of taping
        what its nested loops need across all iterations (the gradbench ode: four numbers per
        entry and step, megabytes of fresh pages per call), the forward sweep keeps what each
        iteration starts from: its carried numbers and a copy of the memory it writes; the
        reverse of an iteration restores that memory, runs the iteration again (taping its
        nested loops for this one iteration) and reverses it, as an expert's adjoint does.
        Conditions: no carried arrays; a nested loop; the memory written from outside the body
        is 1-d arrays each filled by a nested `for` over its whole length (so a copy costs
        about what an iteration writes anyway); arrays read are not written after the loop
        (recomputing reads them in the reverse sweep).  `build` keeps the choice only where
        nested loops would tape something."""
        if op.prim != "for" or op not in self.fn.body.ops or op in self.permuted:
            return None
        body = op.blocks[0]
        inner = list(walk_ops(body))
        loops = [o for o in inner if o.prim in ("for", "while")]
        if any(is_array(p.type) for p in body.params[1:]) or not loops or \
                any(o.prim in _NO_REVERSE_RULE for o in inner):
            return None
        local = {r for o in inner for r in o.results} | {p for o in loops for blk in o.blocks for p in blk.params}
        roots = []
        for o in inner:
            if writes_memory(o.prim) and not all(r in local for r in self.mem.roots(o.args[0])):
                a = o.args[0]
                if not self.mem.is_root(a) or a.type.ndim != 1 or self.defs[a].loop is not None:
                    return None
                if a not in roots:
                    roots.append(a)
        if any(is_array(y.type) and self.mem.roots(y) & set(roots) for y in self.fn.body.yields):
            return None  # (an output: the reverse sweep's restores would change it)
        for a in roots:
            if not any(lp.prim == "for" and self.shapes.dims(a) == (self.shapes.int_key(lp.args[1]),) and any(
                    st.prim == "store" and st.args[0] is a and st.args[1] is lp.blocks[0].params[0]
                    for st in lp.blocks[0].ops) for lp in loops):
                return None
        for o in inner:
            for x in o.args:
                if is_array(x.type) and x not in local and not (self.mem.roots(x) <= set(roots)) \
                        and self.mem.written_after(x, op):
                    return None
        return roots

    def _recompute_iteration(self, op, iv, cnt):
        """In the reverse of checkpointed loop `op`: restore the memory the iteration started
        with (tape row `cnt`), then run the iteration again, taping its nested loops."""
        b, body = self.b, op.blocks[0]
        for a in self._checkpoint_memory(op):
            row = b.emit("tape_row", [b.vars[("snap", a.id)], cnt])
            b.emit("view_store", [self.fmap[a], row], {"spec": (("s", False, False, False),) * a.type.ndim})
        self.fmap[body.params[0]] = iv
        for p in body.params[1:]:
            self.fmap[p] = self.frames[-1][p]
        self._reserve_nest(op, once=True)
        self._forward_block(body)

    # ---- accumulation loops: the adjoint fused with the forward loop ---------------------------------
    def _order_free(self, op, private=frozenset()):
        """Do the reverse iterations of `for` loop `op` commute (module docstring)?  Every active
        carried value is an accumulator (its adjoint is the same on every iteration) and the body
        writes no memory that outlives an iteration (a write's reverse moves and zeroes adjoints),
        other than the `private` roots (`_private_memory`).  Then the adjoint loop may run in any
        order, as long as no tape dictates one."""
        if (op, private) in self.order_free:
            return self.order_free[op, private]
        ok = op.prim == "for" and op not in self.permuted
        body = op.blocks[0]
        params = body.params[1:]
        inner = list(walk_ops(body))
        local = {r for o in inner for r in o.results}
        for p, y in zip(params, body.yields):
            if ok and p in self.active and (p.type != F64 or _dependence(body, p, params, y) is False):
                ok = False
        for o in inner if ok else ():
            if (writes_memory(o.prim) and not all(r in local or r in private for r in self.mem.roots(o.args[0]))) \
                    or o.prim in _NO_REVERSE_RULE:
                ok = False
                break
        self.order_free[op, private] = ok
        return ok

    def _private_memory(self, op):
        """The arrays made before `for` loop `op` that each iteration uses as scratch: every
        element it reads was written earlier in the same iteration, and nothing after the loop
        reads them.  The reverse of such an iteration leaves their adjoint buffer zero, as it
        found it (each element's adjoint is moved out by the write it came through), so the
        iterations' reverses still commute.  Recognised: a 1-d array `a` (one allocation, no
        views) filled at the start of the body by a loop ``for k in range(len(a)): ... a[k] = v``
        (the store unconditional), read only by element loads after that loop."""
        body = op.blocks[0]
        out = set()
        for pos, fill in enumerate(body.ops):
            if fill.prim != "for" or not (_is_const(fill.args[0], 0) and _is_const(fill.args[2], 1)):
                continue
            inner = fill.blocks[0]
            for st in inner.ops:
                a = st.args[0] if st.prim == "store" else None
                if a is None or a.type.ndim != 1 or st.args[1] is not inner.params[0] or not self.mem.is_root(a) \
                        or self.defs[a].loop is not None or a in self.fn.params \
                        or self.shapes.dims(a) != (self.shapes.int_key(fill.args[1]),):
                    continue
                if self._scratch_uses(a, op, st, body.ops[pos + 1:]):
                    out.add(a)
        return frozenset(out)

    def _scratch_uses(self, a, op, fill, after):
        """Is memory `a` used from loop `op` on only by the store `fill` and by element loads in
        the ops `after` it in the body (before the loop anything goes)?"""
        later = {o for x in after for o in [x, *walk_ops_list(x)]}
        for o in walk_ops(self.fn.body):
            if o is fill or not any(is_array(x.type) and a in self.mem.roots(x) for x in o.args):
                continue
            if self.mem.position[o] < self.mem.position[op]:
                continue
            if not (o.prim == "load" and o.args[0] is a and o in later):
                return False
        return not any(is_array(y.type) and a in self.mem.roots(y) for y in self.fn.body.yields)

    def _accumulation_loop(self, op):
        """Is `op` a loop whose reverse can run forwards, fused with it (module docstring)?
        The static half of the criterion; the adjoints of its results must also be constants."""
        if op not in self.fn.body.ops or op.prim != "for":
            return False
        private = self._private_memory(op)
        if not self._order_free(op, private):
            return False
        inner = list(walk_ops(op.blocks[0]))
        loops = [o for o in inner if o.prim in ("for", "while")]
        if loops and not private and all(o.prim == "for" and self._order_free(o) for o in loops):
            # measured (gb-llsq): a body whose loops are all accumulations is slower fused, 0.80
            # against 0.72 ms: the adjoint loop waits for the forward reduction it follows, where
            # apart the CPU overlapped them; one taped number per iteration costs less.  A body
            # with scratch memory or a loop that is not (a running max: gmm) tapes per element
            # of its inner loops, across all iterations; fused, per iteration only.
            return False
        local = {r for o in inner for r in o.results} | private
        for o in inner:
            for a in o.args:
                # memory from outside read in the body gets adjoint contributions while the forward
                # sweep runs: nothing may write it from the loop on (its reverse would zero them)
                if is_array(a.type) and a in self.active and not all(r in local for r in self.mem.roots(a)) \
                        and self.mem.written_after(a, op):
                    return False
        return True

    def _fused_adjoint(self, op, iv):
        """The reverse of one iteration of accumulation loop `op`, right after its forward part:
        the adjoint of each accumulator is the same constant on every iteration."""
        b, body = self.b, op.blocks[0]
        params = body.params[1:]
        self.frames.append({body.params[0]: iv})
        for k, g in self.fused[op].items():
            self.accumulate(body.yields[k], b.const(g))
        self._reverse_block(body)
        for p in params:
            b.vars.pop(("d", p.id), None)
        b.vars.pop(("d", body.params[0].id), None)
        self.frames.pop()


_ACCUMULATE = ("add", "sub")


def _dependence(block, p, params, y):
    """Is the yield `y` of carried `p` equal to ``p + (terms that do not depend on p)`` on every
    path through `block`, with no other value of the body depending on p (the other carried
    values' yields included)?  Returns False when not."""
    one = {p}     # values equal to p + something independent of p
    bad = set()   # values that depend on p otherwise

    def flow(blk):
        for o in blk.ops:
            if o.prim == "if":
                if o.args[0] in one or o.args[0] in bad:
                    bad.update(o.results)
                    continue
                for inner in o.blocks:
                    if flow(inner) is False:
                        return False
                for k, r in enumerate(o.results):
                    ys = [inner.yields[k] for inner in o.blocks]
                    if all(v in one for v in ys):
                        one.add(r)
                    elif any(v in one or v in bad for v in ys):
                        bad.add(r)
                continue
            dep = [a in one or a in bad for a in o.args]
            if o.blocks:
                inside = any(a in one or a in bad for x in walk_ops_list(o) for a in x.args) or \
                    any(v in one or v in bad for blk2 in o.blocks for v in blk2.yields)
                if any(dep) or inside:
                    return False
                continue
            if not any(dep):
                continue
            a0, a1 = (o.args + [None, None])[:2]
            if o.prim in _ACCUMULATE and len(o.args) == 2 and o.result.type == F64 and not any(a in bad for a in o.args) \
                    and ((a0 in one) != (a1 in one)) and (o.prim == "add" or a0 in one):
                one.add(o.result)
            elif o.results:
                bad.update(o.results)
            else:
                return False  # an effect (a store) of a value that depends on p
        return True

    if flow(block) is False or bad & set(block.yields) or y not in one:
        return False
    if any(v in one for q, v in zip(params, block.yields) if q is not p):
        return False
    # a dependent value used by anything but its accumulation chain (an if condition...)
    return not bad


def _is_const(v, c):
    return v.const is not None and v.const[0] == c


def walk_ops_list(op):
    return [o for blk in op.blocks for o in walk_ops(blk)]


def _carries(name):
    return isinstance(name, tuple) and name[0] == "d"


def _error(loc, message, hint=None):
    filename, lineno, text = loc if loc else (None, None, None)
    return GradientError(message, filename=filename, lineno=lineno, source_line=text, hint=hint)


def reverse(fn, wrt):
    """The gradient function of `fn` with respect to the params at positions `wrt`:
    ``f_grad(*params) -> (value, *grads)``; `fn` returns one float."""
    return ReverseMode(fn, wrt).build()


def vjp(fn, wrt, seeds=None):
    """The vector-Jacobian product of `fn` (any outputs): ``f_vjp(*params, *cotangents) ->
    (*outputs, *grads)``, one cotangent per float output in `seeds` (default: all), in order."""
    return ReverseMode(fn, wrt, seeded=True, seeds=seeds).build()
