"""IR -> IR preparations for reverse mode.

* `add_trip_counts` makes every loop's trip count an ordinary IR value, so reverse mode
  can run the iterations backwards: a `for` gets ``trip = range_len(start, stop, step)``
  just before it, a `while` gets an extra carried counter.  Both are recorded in
  ``op.attrs["trip"]``.
* `snapshot_whole_reads` copies an array before each whole-array use that a later write
  (through any alias, `adjit.ir.alias`) would otherwise change under the reverse sweep's
  feet, and gives the result of an op that is written into later a value of its own.
"""
from ..ir.alias import MemoryModel
from ..ir.core import Op, Value
from ..ir.primitives import makes_view, writes_memory
from ..ir.types import I64, is_array
from .reads import values_read

# ops whose array result is a new array with nothing the reverse sweep reads from it
_FRESH = ("zeros", "ones", "empty", "full", "zeros_like", "ones_like", "empty_like", "copy")


def snapshot_whole_reads(fn, active):
    """Give the reverse sweep the array values each op saw, whatever is written later.
    Only what the reverse rules read, with the adjoints of the values in `active`
    (`adjit.ad.reads`): ``u[2:] - 2.0 * u[1:-1]`` reads nothing of u, ``x * y`` reads y when
    x is active (a view's values are read, if at all, by the ops that use the view).

    * Before an op whose reverse rule reads an array operand (of any dtype: an int count or
      a bool mask changes the gradient as much as a float does) whose memory may be written
      by that op or later (through any alias, or in a later iteration of the loop around
      it), insert ``a_copy = a.copy()`` and let the op read the copy.
    * An op whose array result is written into later (``t = np.tanh(a); t[4] -= ...``)
      computes into a value of its own, and the written array is a copy of it: its reverse
      rule may read the result (``1 - t * t``).
    """
    mem = MemoryModel(fn)
    if not mem.writes:
        return

    def block(b):
        ops = []
        for op in b.ops:
            for inner in op.blocks:
                block(inner)
            plain = not op.blocks and not writes_memory(op.prim) and not makes_view(op.prim)
            read, reads_result = values_read(op, active) if plain else (set(), False)
            if read:
                copies = {}
                for j, a in enumerate(op.args):
                    if j in read and is_array(a.type) and mem.written_after(a, op):
                        if a not in copies:
                            copies[a] = Value(a.type, a.hint)
                            ops.append(Op("copy", [a], [copies[a]], loc=op.loc))
                        op.args[j] = copies[a]
            ops.append(op)
            if reads_result and op.prim not in _FRESH:
                r = op.results[0] if op.results else None
                if r is not None and is_array(r.type) and mem.written(r):
                    own = Value(r.type, r.hint)
                    op.results[0] = own
                    ops.append(Op("copy", [own], [r], loc=op.loc))
        b.ops = ops
    block(fn.body)


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
