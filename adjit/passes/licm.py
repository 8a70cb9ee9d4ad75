"""Loop-invariant code motion with promotion to an array.

In ``for i in range(n): for k in range(K): for j in range(D): ... exp(-s[k, j]) ...`` the
``exp`` depends on k and j only, yet runs n K D times; in a gradient it is also taped or
redone per i.  This pass computes it once per (k, j) before the outer loop, into a K x D
array, and the inner loop reads that array instead (an expert's ``inv = np.exp(-s)``).

What moves: an expensive scalar op (`adjit.ir.primitives.EXPENSIVE`: exp, log, sin...)
at the top level of the body of a loop nested (one or two levels, ``for`` loops from 0 by
1 whose bounds do not change in the outer loop) in a top-level ``for``, whose operands are
built by float arithmetic from the nested loops' indices, values from outside the outer
loop, and loads of arrays nothing in the function writes.  The array is filled only when
the outer loop runs at least once (the loads are then those the loop would have made).
Reverse mode then reads the array (its adjoint flows back through one small loop nest).
"""
from ..ir.alias import MemoryModel
from ..ir.builder import Builder
from ..ir.core import nested_ops, walk_ops
from ..ir.primitives import EXPENSIVE
from ..ir.types import F64, is_array

# ops a moved expression may be made of besides the expensive one (none of them can fail)
_CHEAP = ("add", "sub", "mul", "neg", "f64", "const", "load")


def promote_invariants(fn):
    """Move expensive loop-invariant scalar work out of top-level loops, in place."""
    for L in list(fn.body.ops):
        if L.prim != "for":
            continue
        mem = MemoryModel(fn)
        inside = {v for o in nested_ops(L) for v in o.results} | \
            {p for o in [L, *nested_ops(L)] for b in o.blocks for p in b.params}
        inside -= _invariant_sizes(L, inside)
        for chain, block in _nests(L.blocks[0], inside):
            for X in list(block.ops):
                if X.prim in EXPENSIVE and len(X.results) == 1 and X.result.type == F64 and \
                        _movable(X, block, chain, inside, mem):
                    _move(fn, L, chain, block, X)
                    mem = MemoryModel(fn)  # (a new array: ask again)


def _invariant_sizes(L, inside):
    """Integers the outer loop's body computes from values of outside it only (a bound written
    ``range(s.shape[0])`` inside it): they are the same in every iteration."""
    out = set()
    for o in L.blocks[0].ops:
        if o.prim in ("shape", "add", "sub", "mul", "const") and len(o.results) == 1 and \
                not is_array(o.result.type) and o.result.type != F64 and \
                all(a in out or a.const is not None or a not in inside for a in o.args):
            out.add(o.result)
    return out


def _is(v, c):
    return v.const is not None and v.const[0] == c


def _nests(block, inside, chain=()):
    """(loops, body) for the `for` loops at most two deep in `block` that count from 0 by 1
    to a bound that does not change in the outer loop."""
    for K in block.ops:
        if K.prim == "for" and _is(K.args[0], 0) and _is(K.args[2], 1) and \
                (K.args[1] not in inside or K.args[1].const is not None) and len(chain) < 2:
            yield chain + (K,), K.blocks[0]
            yield from _nests(K.blocks[0], inside, chain + (K,))


def _movable(X, block, chain, inside, mem):
    ivs = {K.blocks[0].params[0] for K in chain}
    defs = {r: o for o in block.ops for r in o.results}
    for K in chain[:-1]:
        defs.update({r: o for o in K.blocks[0].ops for r in o.results})

    def ok(v, depth=0):
        if v in ivs or v.const is not None or v not in inside:
            return True
        o = defs.get(v)
        if o is None or depth > 12 or (o is not X and o.prim not in _CHEAP):
            return False
        if o.prim == "load" and (o.args[0] in inside or mem.written(o.args[0])):
            return False
        return all(ok(a, depth + 1) for a in o.args if not (o.prim == "load" and a is o.args[0]))
    return ok(X.result)


def _move(fn, L, chain, block, X):
    b = Builder()

    def clone(v, new):
        if v in new:
            return new[v]
        if v.const is not None:
            return b.const(v.const[0], v.type)  # (its const op may be inside the loop)
        if v not in defs:
            return v
        o = defs[v]
        r = b.emit(o.prim, [clone(a, new) for a in o.args], o.attrs)
        new[v] = r
        return r
    ivs = [K.blocks[0].params[0] for K in chain]
    defs = {r: o for K in (L, *chain) for o in K.blocks[0].ops for r in o.results}
    new = {}
    sizes = [b.emit("range_len", [b.const(0), clone(K.args[1], new), b.const(1)]) for K in chain]
    table = b.emit("empty", sizes, {"dtype": F64})
    table.hint = (X.result.hint or X.prim) + "_table"


    def fill(depth, new):
        if depth == len(chain):
            b.emit("store", [table] + [new[iv] for iv in ivs] + [clone(X.result, new)])
            return
        b.for_(b.const(0), clone(chain[depth].args[1], new), b.const(1),
               lambda i: fill(depth + 1, {**new, ivs[depth]: i}), iv_hint="k")

    trip = b.emit("range_len", L.args[:3])
    b.if_(b.emit("gt", [trip, b.const(0)]), lambda: fill(0, dict(new)))
    at = fn.body.ops.index(L)
    fn.body.ops[at:at] = b.block.ops
    X.prim, X.args, X.attrs = "load", [table] + ivs, {}
