"""Make every loop's trip count an ordinary IR value, so reverse mode can run the
iterations backwards: a `for` gets ``trip = range_len(start, stop, step)`` just before
it, a `while` gets an extra carried counter.  Both are recorded in ``op.attrs["trip"]``.
"""
from ..ir.core import Op, Value
from ..ir.types import I64


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
