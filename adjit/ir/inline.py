"""Inlining one IR function into another: the copy gets fresh values throughout.

Transformations compose by inlining: a Jacobian is a loop whose body is a copy of a jvp
function, and compiled code that calls an adjit-transformed function gets a copy of that
function's transformed IR.  Every value of the copy is new, so the tangents and adjoints
of one transformation can never be confused with another's (no perturbation confusion).
"""
from .core import Block, Op, Value


def inline(builder, fn, args):
    """Append a copy of `fn`'s body to `builder`'s current block, with `fn`'s params bound
    to `args`; return the copies of the values the body yields."""
    mapping = dict(zip(fn.params, args))
    for op in fn.body.ops:
        builder.block.ops.append(_copy_op(op, mapping))
    builder._loads.clear()  # the copy may have written memory
    return [mapping.get(v, v) for v in fn.body.yields]


def _fresh(v, mapping):
    new = Value(v.type, v.hint)
    new.const = v.const
    mapping[v] = new
    return new


def _copy_block(block, mapping):
    new = Block([_fresh(p, mapping) for p in block.params])
    new.ops = [_copy_op(op, mapping) for op in block.ops]
    new.yields = [mapping.get(v, v) for v in block.yields]
    return new


def _copy_op(op, mapping):
    args = [mapping.get(a, a) for a in op.args]
    attrs = dict(op.attrs)
    blocks = []
    if op.prim == "while":  # the body reads the cond block's params: copy cond first
        cond = _copy_block(op.blocks[0], mapping)
        blocks = [cond, _copy_block(op.blocks[1], mapping)]
    else:
        blocks = [_copy_block(b, mapping) for b in op.blocks]
    results = [_fresh(r, mapping) for r in op.results]
    if "trip" in attrs:  # a loop's trip count (a value defined before it, or its own result)
        attrs["trip"] = mapping.get(attrs["trip"], attrs["trip"])
    return Op(op.prim, args, results, attrs, blocks, loc=op.loc)
