"""Fusion: chains of whole-array elementwise operations become one loop nest of scalar ops.

Without it, every array value of the IR is one NumPy array expression in the generated
code, so ``np.sum(100*(x[1:]-x[:-1]**2)**2 + (1-x[:-1])**2)`` and its adjoint make about
twenty full-length temporaries and as many passes over memory, and Numba compiles one
NumPy overload per distinct expression.  This pass (IR -> IR, on the final primal or
gradient, just before codegen) groups, in each block, operations that run over the same
index space into one ``for`` nest whose body is the scalar ops of the table:

* elementwise primitives (``add``, ``exp``, ``select``...) on arrays of that shape;
* ``full_like(x, s)`` (the adjoint of a sum, spread): the number ``s`` at every index;
* ``unbroadcast(g, x)`` when ``g`` and ``x`` have the same shape: ``g`` itself;
* ``sum``/``mean`` over all elements: an accumulator carried through the nest;
* writes of such a value into memory: ``d_x[1:] += g`` (``view_add``), ``u[1:-1] = v``
  (``view_store``), ``D += c`` (``iadd``).

A value a member computes that is also used outside its group is stored into a new
array in the loop (it is "materialised"); everything else never exists as an array.
Matrix products, reductions along an axis, gathers and the like stay as they are.

Shapes.  Two operands may share a loop only if their extents are *proved* equal: each
array dimension gets a symbol (a parameter's ``x.shape[0]``, ``len(x[1:])`` is the same
symbol as ``len(x[:-1])``: both are ``max(0, n - 1)``; ``np.zeros(n)`` has the symbol of
``n``...).  A dimension that is the constant 1 broadcasts (index 0).  Any other pair of
different symbols might be equal or 1 only at run time: the operation is left to NumPy.

Memory.  A group runs where its last member was, so its reads move later and its
members' order interleaves per element.  Both are legal only if no write to the memory
they read comes in between, and if no member reads memory that another member writes
(``x[1:] += x[:-1]`` reads ``x`` while writing it: NumPy computes the right side first).
Those facts come from the memory model (`adjit.ir.alias`); several ``+=`` into the same
array do commute, so the adjoint's ``d_x[:-1] += a; d_x[1:] += b`` share one loop.

``ADJIT_FUSE=1`` switches the pass on.  It is OFF by default: the compiled array campaign (seed
1541) found a program whose fused gradient is wrong when compiled (right when interpreted);
see tests/test_fuse.py and the report of issue 15 before turning it on.
"""
import copy
import os

from ..ir.alias import RESHAPES, MemoryModel
from ..ir.builder import Builder
from ..ir.core import Block, Op, Value, count_uses, replace_uses, walk_ops
from ..ir.primitives import PRIMITIVES, makes_view, writes_memory
from ..ir.types import BOOL, F64, I64, Array, is_array
from .dce import dce


def enabled():
    return os.environ.get("ADJIT_FUSE", "0") != "0"


def fuse(fn):
    """A copy of `fn` with its elementwise chains fused into loop nests (`fn` is unchanged:
    it stays the IR that other transformations inline and `adjit.show_ir` prints)."""
    if not enabled():
        return fn
    fn = copy.deepcopy(fn)
    _Fuser(fn).block(fn.body)
    return dce(fn)


# ---- shapes as symbols ----------------------------------------------------------------------
ONE = ("c", 1)


class _Shapes:
    """A symbol per array dimension: equal symbols mean equal extents at run time.

    Symbols that NumPy broadcasts against each other (``x * w`` with ``x`` and ``w`` two
    parameters) are equal or 1 at run time, which only the run can tell: they join one
    class (`canon`).  Loops are formed over classes; a loop that relies on two different
    symbols of a class being equal runs only after a run-time check, with the NumPy code
    as the other branch (`_Fuser.emit`)."""

    def __init__(self, fn):
        self.defn = {r: op for op in walk_ops(fn.body) for r in op.results}
        self.memo = {}
        self.parent = {}

    def find(self, s):
        while self.parent.get(s, s) != s:
            s = self.parent[s]
        return s

    def union(self, a, b):
        a, b = self.find(a), self.find(b)
        if a != b:
            self.parent[b] = a

    def canon(self, dims):
        return tuple(self.find(d) for d in dims)

    def cdims(self, v):
        return self.canon(self.dims(v))

    def int_sym(self, v):
        if v.const is not None:
            return ("c", v.const[0])
        op = self.defn.get(v)
        if op is not None and op.prim == "shape":
            return self.dims(op.args[0])[op.attrs["dim"]]
        return ("v", v)

    def dims(self, v):
        if v not in self.memo:
            self.memo[v] = self._dims(v)
        return self.memo[v]

    def _dims(self, v):
        ndim = v.type.ndim
        op = self.defn.get(v)
        opaque = tuple(("u", v, k) for k in range(ndim))
        if op is None:  # a parameter or a loop-carried value: its own extents
            return tuple(("p", v, k) for k in range(ndim))
        p = op.prim
        if p not in PRIMITIVES:  # an if or loop result
            return opaque
        if p in ("zeros", "ones", "empty", "full"):
            sizes = op.args[:-1] if p == "full" else op.args
            return tuple(self.int_sym(a) for a in sizes)
        if p in ("zeros_like", "ones_like", "empty_like", "copy", "full_like"):
            return self.dims(op.args[0])
        if p in ("unbroadcast", "reshape_like"):
            return self.dims(op.args[1])
        if p == "expand_dims":  # a new dimension of extent 1 (x[None, :], keepdims=True)
            d, axis = self.dims(op.args[0]), op.attrs["axis"]
            return d[:axis] + (ONE,) + d[axis:] if 0 <= axis <= len(d) else opaque
        if p == "transpose":
            return self.dims(op.args[0])[::-1]
        if p == "view":
            d = self.view_dims(op.args[0], op.args[1:], op.attrs["spec"])
            return d if d is not None else opaque
        if PRIMITIVES[p].elementwise:
            return self.broadcast([a for a in op.args if is_array(a.type)], v)
        if p == "matmul" and len(op.args) == 2:
            a, b = (self.dims(x) for x in op.args)
            if len(a) == 2 and len(b) == 2:
                return (a[0], b[1])
            if len(a) == 2 and len(b) == 1:
                return (a[0],)
            if len(a) == 1 and len(b) == 2:
                return (b[1],)
        if p in ("sum", "mean", "amax", "amin", "prod") and op.attrs.get("axis") is not None:
            d = self.dims(op.args[0])
            return d[:op.attrs["axis"]] + d[op.attrs["axis"] + 1:]
        return opaque

    def view_dims(self, base, parts, spec):
        """The dims of ``base[spec]``; a slice with constant bounds ``a:`` or ``:-b`` trims the
        extent by a known amount (``max(0, n - a - b)``), so ``x[1:]`` and ``x[:-1]`` agree."""
        bdims = self.dims(base)
        if len(spec) != len(bdims):
            return None
        out, k = [], 0
        for d, entry in zip(bdims, spec):
            if entry[0] == "i":
                k += 1
                continue
            bounds = []
            for present in entry[1:]:
                bounds.append(parts[k] if present else None)
                k += present
            start, stop, step = bounds
            if step is not None and step.const != (1,):
                out.append(("slice", d, *(self._key(b) for b in bounds)))
                continue
            lo = 0 if start is None else start.const[0] if _nonneg_const(start) else None
            hi = 0 if stop is None else -stop.const[0] if _neg_const(stop) else None
            if lo is None or hi is None:
                out.append(("slice", d, self._key(start), self._key(stop), None))
            elif lo + hi == 0:
                out.append(d)
            elif d[0] == "trim":
                out.append(("trim", d[1], d[2] + lo + hi))
            else:
                out.append(("trim", d, lo + hi))
        return tuple(out)

    def _key(self, v):
        return None if v is None else self.int_sym(v)

    def broadcast(self, arrays, result):
        """The dims of `result`, NumPy's broadcast of `arrays`: where two different symbols
        meet, a symbol of its own, in their class."""
        ndim = max(a.type.ndim for a in arrays)
        out = []
        for j in range(ndim):
            syms = []
            for a in arrays:
                d = self.dims(a)
                t = j - (ndim - len(d))
                if t >= 0 and d[t] != ONE and d[t] not in syms:
                    syms.append(d[t])
            if len(syms) > 1:
                mine = ("u", result, j)
                for x in syms:
                    self.union(x, mine)
                syms = [mine]
            out.append(syms[0] if syms else ONE)
        return tuple(out)


def _nonneg_const(v):
    return v.const is not None and isinstance(v.const[0], int) and not isinstance(v.const[0], bool) \
        and v.const[0] >= 0


def _neg_const(v):
    return v.const is not None and isinstance(v.const[0], int) and not isinstance(v.const[0], bool) \
        and v.const[0] < 0


# ---- which ops may join a loop nest -------------------------------------------------------
_LOGIC = ("and_", "or_", "not_", "f64")  # take bool arrays (f64: NumPy's astype, float(int(b)) here)


def _elementwise_ok(op):
    """An elementwise op whose scalar form computes what NumPy's array form does: float or
    bool results (integer arrays wrap and divide by zero differently from Python ints),
    no bool arrays in arithmetic (NumPy's ``b + b`` is a logical or)."""
    if not op.results or not is_array(op.result.type):
        return False
    if op.result.type.dtype not in (F64, BOOL):
        return False
    for k, a in enumerate(op.args):
        if is_array(a.type) and a.type.dtype == BOOL and not (op.prim in _LOGIC or (op.prim == "select" and k == 0)):
            return False
        if is_array(a.type) and a.type.dtype not in (F64, I64, BOOL):
            return False
    return True


class _Member:
    """What an op contributes to a loop nest over `shape`: its kind, the operands read per
    element (`elems`), the memory it writes (`target`, a view's base or the array)."""
    __slots__ = ("op", "kind", "shape", "elems", "target", "spec_parts")

    def __init__(self, op, kind, shape, elems, target=None):
        self.op, self.kind, self.shape, self.elems, self.target = op, kind, shape, elems, target


class _Group:
    def __init__(self, shape):
        self.shape = shape
        self.members = []
        self.elem = set()      # values available per element inside the loop
        self.reduced = set()   # values available only after the loop (sums)
        self.reads = set()     # roots read
        self.writes = {}       # root -> "add" or "store"


class _Fuser:
    def __init__(self, fn):
        self.fn = fn
        self.mm = MemoryModel(fn)
        self.shapes = _Shapes(fn)
        self.uses = count_uses(fn.body)
        self.mapping = {}  # member value -> its materialised array or reduced value
        for op in walk_ops(fn.body):  # every broadcast seen: the classes are final before grouping
            for r in op.results:
                if is_array(r.type):
                    self.shapes.dims(r)

    # ---- classification ---------------------------------------------------------------------
    def member(self, op):
        """The `_Member` for `op`, or None if it cannot be part of a loop nest."""
        p, sh = op.prim, self.shapes
        if p not in PRIMITIVES:
            return None
        if PRIMITIVES[p].elementwise and _elementwise_ok(op):
            return _Member(op, "elem", sh.cdims(op.result), [a for a in op.args if is_array(a.type)])
        if p == "full_like" and op.result.type.dtype == F64:
            return _Member(op, "fill", sh.cdims(op.args[0]), [])
        if p == "unbroadcast" and is_array(op.args[0].type) and sh.cdims(op.args[0]) == sh.cdims(op.args[1]):
            return _Member(op, "ident", sh.cdims(op.args[1]), [op.args[0]])
        if p in ("sum", "mean") and op.attrs.get("axis") is None and op.result.type == F64 \
                and op.args[0].type.dtype == F64:
            return _Member(op, p, sh.cdims(op.args[0]), [op.args[0]])
        if p in ("view_add", "view_store"):
            base, val = op.args[0], op.args[-1]
            shape = sh.view_dims(base, op.args[1:-1], op.attrs["spec"])
            if shape is None or not shape or base.type.dtype != F64:
                return None
            shape = sh.canon(shape)
            m = _Member(op, "add" if p == "view_add" else "store", shape, [val] if is_array(val.type) else [], base)
            return m if self._sink_ok(m) else None
        if p == "iadd" and is_array(op.args[0].type) and op.args[0].type.dtype == F64:
            m = _Member(op, "add", sh.cdims(op.args[0]), [op.args[1]] if is_array(op.args[1].type) else [],
                        op.args[0])
            return m if self._sink_ok(m) else None
        return None

    def _sink_ok(self, m):
        """A write whose operand can be read per element and does not overlap what it writes
        (``x[1:] += x[:-1]``: NumPy reads all of the right side first)."""
        return self._aligned(m) and not (self._roots(m.elems) & self._roots([m.target]))

    def _aligned(self, m):
        """Can every array `m` reads be indexed from the nest's indices (equal extents, or a
        broadcast dimension of constant extent 1)?"""
        for a in m.elems:
            d = self.shapes.dims(a)
            if len(d) > len(m.shape):
                return False
            for t, s in zip(d, m.shape[len(m.shape) - len(d):]):
                if t != ONE and self.shapes.find(t) != s:
                    return False
        return True

    # ---- footprints ---------------------------------------------------------------------------
    def _roots(self, vs):
        out = set()
        for v in vs:
            if is_array(v.type):
                out |= self.mm.roots(v)
        return out

    def _footprint(self, op):
        """(values used, roots read, roots written) of a non-member op, nested blocks included."""
        used, reads, writes = set(), set(), set()
        for o in [op, *walk_nested(op)]:
            used.update(o.args)
            for b in o.blocks:
                used.update(b.yields)
            if o.prim in ("for", "while", "if"):
                continue
            if not (o.prim == "shape" or makes_view(o.prim)) or self._may_copy(o):
                reads |= self._roots(o.args)  # a view or a shape reads no element; a copy does
            effect = PRIMITIVES[o.prim].effect if o.prim in PRIMITIVES else "write"
            if writes_memory(o.prim):
                writes |= self._roots(o.args[:1])
            elif effect not in ("pure", "read"):
                writes |= self._roots(o.args)
        return used, reads, writes

    @staticmethod
    def _may_copy(op):
        """A reshape may copy its operand: NumPy copies one that is not C-contiguous
        (``np.flip(P[0]) += s`` then ``P[:, 4:].reshape(-1)``), and the generated
        ``np.ascontiguousarray(a).reshape(...)`` may copy under Numba even when NumPy would
        make a view (the array campaign's seed 1541: ``d[::2] += g`` moved after
        ``np.ascontiguousarray(d).reshape(s)``).  It reads every element, so a group writing
        that memory must run before it."""
        return op.prim in RESHAPES

    @staticmethod
    def _conflicts(group, reads, writes):
        return bool(reads & set(group.writes)) or bool(writes & (group.reads | set(group.writes)))

    # ---- grouping -----------------------------------------------------------------------------
    def block(self, block):
        out, open_groups = [], []

        def close(g):
            open_groups.remove(g)
            out.extend(self.emit(g))

        for op in block.ops:
            m = self.member(op)
            if m is not None and m.shape:
                self._place(m, open_groups, close)
                continue
            used, reads, writes = self._footprint(op)
            for g in list(open_groups):
                if used & (g.elem | g.reduced) or self._conflicts(g, reads, writes):
                    close(g)
            out.append(op)
        for g in list(open_groups):
            close(g)
        block.ops = out
        for op in out:  # nested blocks after this one: their ops are still the original ones
            if op.attrs.get("_fused"):
                continue
            for b in op.blocks:
                self.block(b)
        if block is self.fn.body and self.mapping:
            replace_uses(self.fn.body, self.mapping)

    def _place(self, m, open_groups, close):
        op = m.op
        loaded = [a for a in m.elems]
        writes = self._roots([m.target]) if m.target is not None else set()
        kind = m.kind
        target = None
        for g in open_groups:
            if self.shapes.canon(g.shape) == self.shapes.canon(m.shape):
                target = g
                break
        if target is not None:
            ext_reads = self._roots([a for a in loaded if a not in target.elem])
            bad = set(op.args) & target.reduced
            bad = bad or ext_reads & set(target.writes) or writes & target.reads
            bad = bad or (op.prim in ("view_add", "view_store") and op.args[0] in target.elem)
            if kind == "store" or any(target.writes.get(r) == "store" for r in writes):
                bad = bad or writes & set(target.writes)
            if bad:
                close(target)
                target = None
        # other open groups must run first if this op needs their values or their memory
        for g in list(open_groups):
            if g is target:
                continue
            if set(op.args) & (g.elem | g.reduced) or \
                    self._conflicts(g, self._roots(loaded + op.args[:1]), writes):
                close(g)
        if target is None:
            target = _Group(m.shape)
            open_groups.append(target)
        target.members.append(m)
        target.reads |= self._roots([a for a in loaded if a not in target.elem])
        for r in writes:
            target.writes[r] = "store" if kind == "store" or target.writes.get(r) == "store" else "add"
        if kind in ("sum", "mean"):
            target.reduced.add(op.result)
        elif op.results:
            target.elem.add(op.result)

    # ---- emission -----------------------------------------------------------------------------
    def emit(self, g):
        """The ops that replace group `g`: its members as they were when fusing gains nothing;
        else the loop nest, after the views it writes through and the extents; when the nest
        assumes that extents NumPy would broadcast are equal, ``if`` they are (checked) the
        nest, else the members as they were."""
        reductions = [m for m in g.members if m.kind in ("sum", "mean")]
        if len(g.members) < 2 or (len(g.members) == len(reductions) == 1):
            return [m.op for m in g.members]
        b = Builder()
        pre = Block()
        b.blocks = [pre]
        views, made = {}, {}
        for m in g.members:
            if m.op.prim in ("view_add", "view_store"):
                base, parts, spec = m.op.args[0], m.op.args[1:-1], m.op.attrs["spec"]
                key = (base, spec, *(p.const or p for p in parts))  # d_x[:-1] written twice: one view
                if key not in made:
                    made[key] = b.emit("view", [base, *parts], dict(m.op.attrs))
                    self.shapes.memo[made[key]] = self.shapes.view_dims(base, parts, spec)
                views[m.op] = made[key]
        shaped = self._shaped(g, views)
        extents, sources = [], []
        for j, sym in enumerate(g.shape):
            if sym == ONE:
                extents.append(b.const(1))
                sources.append(ONE)
                continue
            src = next(((a, t) for a, t, k in shaped if k == j and self.shapes.dims(a)[t] != ONE), None)
            if src is None:
                return [m.op for m in g.members]
            extents.append(b.emit("shape", [src[0]], {"dim": src[1]}))
            sources.append(self.shapes.dims(src[0])[src[1]])
        checks = []
        for a, t, j in dict.fromkeys(shaped):
            raw = self.shapes.dims(a)[t]
            if raw != ONE and raw != sources[j]:  # equal only if the run says so
                checks.append(b.emit("eq", [b.emit("shape", [a], {"dim": t}), extents[j]]))
        inner = Builder()
        fused = Block()
        inner.blocks = [fused]
        outputs = self._fused(inner, g, extents, views, reductions)
        if not checks:
            pre.ops.extend(fused.ops)
            self.mapping.update(outputs)
            return pre.ops
        cond = checks[0]
        for c in checks[1:]:
            cond = b.emit("and_", [cond, c])
        keys = list(outputs)
        fused.yields = [outputs[r] for r in keys]
        plain = Block()
        plain.ops, local = _copies([m.op for m in g.members])
        plain.yields = [local[r] for r in keys]
        results = [Value(r.type, r.hint) for r in keys]
        pre.ops.append(Op("if", [cond], results, {"_fused": True}, [fused, plain]))
        self.mapping.update(zip(keys, results))
        return pre.ops

    def _shaped(self, g, views):
        """(array, its dim, the nest's dim) for every array defined before the nest whose
        extents the nest relies on: operands read per element, arrays whose shape a member
        takes (``full_like``, ``unbroadcast``), the arrays and views written."""
        out = []
        for m in g.members:
            arrays = list(m.elems)
            if m.kind in ("fill", "ident"):
                arrays.append(m.op.args[0] if m.kind == "fill" else m.op.args[1])
            if m.op in views:
                arrays.append(views[m.op])
            elif m.target is not None:
                arrays.append(m.target)
            for a in arrays:
                if a in g.elem:
                    continue
                d = self.shapes.dims(a)
                for t in range(len(d)):
                    out.append((a, t, len(g.shape) - len(d) + t))
        return out

    def _fused(self, b, g, extents, views, reductions):
        """Emit the nest into `b`; returns {member value used after it: its array or number}."""
        inside = {m.op for m in g.members}
        arrays = {}
        for m in g.members:
            if m.kind in ("sum", "mean") or not m.op.results:
                continue
            r = m.op.result
            # a member written by a later member (``d_x = a + b; d_x += c``) is stored, and
            # the write goes to the stored array
            internal = sum(1 for o in inside for k, a in enumerate(o.args)
                           if a is r and not (k == 0 and o.prim == "iadd"))
            if self.uses.get(r, 0) > internal:
                arrays[r] = b.emit("empty", extents, {"dtype": r.type.dtype})
                arrays[r].hint = r.hint
        # ``unbroadcast(c, x)`` of equal shapes is ``c`` itself (the runtime helper returns a
        # contiguous c as it is): one array for both when neither is ever written
        same = {}
        for m in g.members:
            r = m.op.result if m.kind == "ident" else None
            c = r is not None and same.get(m.op.args[0], m.op.args[0])
            if r in arrays and c in g.elem and not (self.mm.written(r) or self.mm.written(c)):
                same[r] = c
                del arrays[r]
                if c not in arrays:
                    arrays[c] = b.emit("empty", extents, {"dtype": c.type.dtype})
                    arrays[c].hint = c.hint
        zero = b.const(0.0)
        ops, results = self._nest(g, extents, [zero for _ in reductions], arrays, views)
        b.block.ops.extend(ops)
        outputs = dict(arrays)
        outputs.update((r, arrays[c]) for r, c in same.items())
        for m, res in zip(reductions, results):
            if m.kind == "mean":
                count = extents[0]
                for e in extents[1:]:
                    count = b.emit("mul", [count, e])
                res = b.emit("div", [res, b.emit("f64", [count])])
            outputs[m.op.result] = res
        return outputs

    def _nest(self, g, extents, accs, arrays, views):
        """The `for` nest over `extents` carrying the accumulators `accs`: returns (ops,
        results)."""
        ivs = []
        hints = [m.op.result.hint or "acc" for m in g.members if m.kind in ("sum", "mean")]

        def level(j, inits):
            iv = Value(I64, "ijklmn"[j] if j < 6 else f"i{j}")
            ivs.append(iv)
            params = [Value(a.type, h) for a, h in zip(inits, hints)]
            body = Block([iv, *params])
            if j == len(extents) - 1:
                body.yields = self._body(g, body, ivs, params, arrays, views)
            else:
                inner_ops, inner = level(j + 1, params)
                body.ops.extend(inner_ops)
                body.yields = inner
            b = Builder()
            outer = Block()
            b.blocks = [outer]
            start, step = b.const(0), b.const(1)
            results = [Value(a.type, h) for a, h in zip(inits, hints)]
            outer.ops.append(Op("for", [start, extents[j], step, *inits], results, {"_fused": True}, [body]))
            return outer.ops, results

        return level(0, accs)

    def _body(self, g, body, ivs, accs, arrays, views):
        b = Builder()
        b.blocks = [body]
        scalar = {}
        r = len(ivs)

        def val(a):
            if a in scalar:
                return scalar[a]
            if not is_array(a.type):
                return a
            # memory the group reads is never written in it (see `_place`): one load per
            # element, also through two equal views (x[:-1] spelled twice)
            key = self._view_key(a)
            if key in scalar:
                scalar[a] = scalar[key]
                return scalar[a]
            d = self.shapes.dims(a)
            idx = [b.const(0) if d[t] == ONE else ivs[r - len(d) + t] for t in range(len(d))]
            scalar[a] = scalar[key] = b.emit("load", [a, *idx])
            return scalar[a]

        k = 0
        out_accs = []
        for m in g.members:
            op = m.op
            if m.kind == "elem":
                s = self._scalar_op(b, op.prim, [val(a) for a in op.args], op.attrs)
                if s.type != op.result.type.dtype:
                    s = b.cast(s, op.result.type.dtype)
                scalar[op.result] = s
            elif m.kind == "fill":
                scalar[op.result] = b.cast(op.args[1], F64)
            elif m.kind == "ident":
                scalar[op.result] = val(op.args[0])
            elif m.kind in ("sum", "mean"):
                out_accs.append(b.emit("add", [accs[k], val(op.args[0])]))
                k += 1
                continue
            else:
                target = views.get(op, op.args[0])
                x = b.cast(val(op.args[-1]), F64)
                if target in scalar:  # iadd into a member: its value from here on (stored at the end)
                    scalar[target] = b.emit("add", [scalar[target], x])
                    continue
                b.emit("store_add" if m.kind == "add" else "store", [target, *ivs, x])
                continue
        for v, array in arrays.items():  # the members used after the nest: their final values
            b.emit("store", [array, *ivs, scalar[v]])
        return out_accs

    def _view_key(self, a):
        op = self.shapes.defn.get(a)
        if op is None or op.prim != "view" or any(p.const is None for p in op.args[1:]):
            return a
        return ("view", op.args[0], op.attrs["spec"], *(p.const for p in op.args[1:]))

    @staticmethod
    def _scalar_op(b, prim, args, attrs):
        """The scalar form of elementwise `prim`; np.maximum/np.minimum propagate a NaN
        operand, which Python's max/min (the scalar primitives) do not."""
        if prim in ("max", "min"):
            x, y = args
            cmp = b.emit("ge" if prim == "max" else "le", [x, y])
            if x.type == F64:
                cmp = b.emit("or_", [cmp, b.emit("isnan", [x])])
            return b.emit("select", [cmp, x, y])
        return b.emit(prim, args, dict(attrs))


def _copies(ops):
    """Copies of straight-line `ops` with fresh results: (ops, {old result: new})."""
    local, out = {}, []
    for op in ops:
        results = [Value(r.type, r.hint) for r in op.results]
        out.append(Op(op.prim, [local.get(a, a) for a in op.args], results, dict(op.attrs), loc=op.loc))
        local.update(zip(op.results, results))
    return out, local


def walk_nested(op):
    for blk in op.blocks:
        yield from walk_ops(blk)
