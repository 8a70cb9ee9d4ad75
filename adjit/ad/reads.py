"""What a reverse rule reads of the primal values.

The taping policy and the snapshots ask one question of every primal value: does the
reverse sweep read its *values*, only its *shape*, or nothing?  A linear op's reverse reads
no operand (``u[2:] - 2.0 * u[1:-1]``: the partials are constants), a broadcasting op's
reads its operands' shapes only (to sum the adjoint back), ``x * y`` reads ``y`` for ``x``'s
adjoint.  The answer comes from the rules themselves: they are run on stand-ins and the
uses of the stand-ins in the IR they emit are looked at (`uses_of`, `shape_only`), so no
list of "linear" primitives has to be kept beside the table.
"""
from ..ir.builder import Builder
from ..ir.core import Value, walk_ops
from ..ir.primitives import PRIMITIVES, makes_view
from ..ir.sym import Sym, building
from ..ir.types import is_array

# operands that an op reads only for their shape (a stand-in of the same shape does)
_SHAPE_OPERANDS = {"shape": 0, "zeros_like": 0, "ones_like": 0, "empty_like": 0, "full_like": 0, "eye_like": 0,
                   "unbroadcast": 1, "unreduce": 1, "reshape_like": 1}


def uses_of(block):
    """value -> [(op, operand position)], a yield as (None, None), over `block` and nested blocks."""
    uses = {}
    for op in walk_ops(block):
        for k, a in enumerate(op.args):
            uses.setdefault(a, []).append((op, k))
        for b in op.blocks:
            for y in b.yields:
                uses.setdefault(y, []).append((None, None))
    for y in block.yields:
        uses.setdefault(y, []).append((None, None))
    return uses


def shape_only(v, uses):
    """Is array `v` used only for its shape: as a shape operand, or through views used so?"""
    if not is_array(v.type):
        return False
    for op, k in uses.get(v, ()):
        if op is None:
            return False
        if _SHAPE_OPERANDS.get(op.prim) == k:
            continue
        if k == 0 and makes_view(op.prim) and all(shape_only(r, uses) for r in op.results):
            continue
        return False
    return True


def values_read(op, active):
    """(operand positions, result?) whose values the reverse rule of primitive `op` reads,
    when the values in `active` get adjoints.  Conservative (everything) if a rule fails
    on stand-ins (a user's custom rule may want real values)."""
    everything = (set(range(len(op.args))), True)
    p = PRIMITIVES.get(op.prim)
    if p is None or p.rules is None or not op.results or op.result not in active:
        return set(), False
    stand_ins = [Value(a.type, a.hint) for a in op.args]
    out = Value(op.result.type)
    b = Builder()
    try:
        with building(b):
            args = [Sym(s) for s in stand_ins]
            if p.vjp is not None:
                made = p.vjp(Sym(Value(op.result.type)), args, Sym(out), op.attrs)
            else:
                made = [partial(*args, Sym(out)) for a, partial in zip(op.args, p.partials)
                        if partial is not None and a in active]
            # what a rule returns is used too (a partial ``y`` is multiplied by the adjoint)
            b.block.yields = [m.value if isinstance(m, Sym) else m for m in made if isinstance(m, (Sym, Value))]
    except Exception:  # noqa: BLE001 (any failure: assume the rule reads everything)
        return everything
    uses = uses_of(b.blocks[0])
    read = {j for j, s in enumerate(stand_ins) if s in uses and not shape_only(s, uses)}
    return read, out in uses and not shape_only(out, uses)
