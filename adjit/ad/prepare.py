"""IR -> IR preparations for reverse mode.

* `add_trip_counts` makes every loop's trip count an ordinary IR value, so reverse mode
  can run the iterations backwards: a `for` gets ``trip = range_len(start, stop, step)``
  just before it, a `while` gets an extra carried counter.  Both are recorded in
  ``op.attrs["trip"]``.
* `snapshot_whole_reads` copies an array that is written into before each whole-array
  use that a later write would otherwise change under the reverse sweep's feet.
"""
from ..ir.core import Op, Value, nested_ops, walk_ops
from ..ir.primitives import writes_memory
from ..ir.types import I64, is_float

# whole-array uses whose reverse rule never reads that operand's values (views of written
# arrays are copied by reverse mode itself when they are taken)
VALUE_FREE = ("add", "sub", "neg", "f64", "sum", "mean", "copy", "view", "shape", "load")


def snapshot_whole_reads(fn):
    """Before an op that reads a whole float array which is written into later (``b *= y``
    reads ``b``, then writes it), insert ``b_copy = b.copy()`` and let the op read the
    copy: the reverse sweep then sees the values the op saw."""
    stored = {op.args[0] for op in walk_ops(fn.body) if writes_memory(op.prim)}
    if not stored:
        return
    last = {}  # array -> position of the last top-level op that writes it
    for pos, top in enumerate(fn.body.ops):
        for op in [top, *nested_ops(top)]:
            if writes_memory(op.prim):
                last[op.args[0]] = pos

    def block(b, position_of):
        ops = []
        for k, op in enumerate(b.ops):
            pos = position_of(k)
            for inner in op.blocks:
                block(inner, lambda _k, p=pos: p)
            if not op.blocks and op.prim not in VALUE_FREE and not writes_memory(op.prim):
                copies = {}
                for j, a in enumerate(op.args):
                    if a in stored and is_float(a.type) and pos <= last.get(a, -1):
                        if a not in copies:
                            copies[a] = Value(a.type, a.hint)
                            ops.append(Op("copy", [a], [copies[a]], loc=op.loc))
                        op.args[j] = copies[a]
            ops.append(op)
        b.ops = ops
    block(fn.body, lambda k: k)


def add_trip_counts(block):
    ops = []
    for op in block.ops:
        for b in op.blocks:
            add_trip_counts(b)
        if op.prim == "for":
            trip = Value(I64, "trip")
            ops.append(Op("range_len", op.args[:3], [trip], loc=op.loc))
            op.attrs["trip"] = trip
        elif op.prim == "while":
            zero = Value(I64, "n_iter")
            zero.const = (0,)
            ops.append(Op("const", [], [zero], {"value": 0, "type": I64}))
            one = Value(I64)
            one.const = (1,)
            cond, body = op.blocks
            n = Value(I64, "n_iter")
            cond.params.append(n)
            op.args.append(zero)
            nxt = Value(I64, "n_iter")
            body.ops.append(Op("const", [], [one], {"value": 1, "type": I64}))
            body.ops.append(Op("add", [n, one], [nxt]))
            body.yields.append(nxt)
            trip = Value(I64, "trip")
            op.results.append(trip)
            op.attrs["trip"] = trip
        ops.append(op)
    block.ops = ops
