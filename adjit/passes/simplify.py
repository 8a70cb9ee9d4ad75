"""Algebraic clean-up after reverse mode.

* ``1.0 * x`` and ``x * 1.0`` become ``x``.  Reverse mode multiplies each local derivative
  by the adjoint flowing in.  When that adjoint is the constant 1.0 (the returned value's,
  carried unchanged through a loop, which the builder only learns once the loop is built),
  the product is an identity that the rules could not fold when they emitted it.  Only
  products of numbers are replaced: ``x * 1.0`` on an array is a new array (replacing it by
  ``x`` would make a later write into it write ``x``), and an int operand would change the
  type.
* ``np.empty(n, m).shape[1]`` becomes ``m``: reverse mode stands an uninitialised array of
  the right shape in for a value it needs only the shape of (`adjit.ad.reverse` `_like`);
  once its dims are read directly, DCE drops the array.
"""
from ..ir.core import replace_uses, walk_ops
from ..ir.types import F64

_ALLOCS = ("zeros", "ones", "empty")


def _is_float_one(v):
    return v.const is not None and v.type == F64 and v.const[0] == 1.0


def simplify(fn):
    """Replace, in place, the uses of every ``mul`` by 1.0 and of every shape of an
    allocation by its size; returns `fn` (run DCE after)."""
    mapping = {}
    made_by = {}
    for op in walk_ops(fn.body):
        if op.prim in _ALLOCS:
            made_by[op.result] = op
        if op.prim == "shape" and op.args[0] in made_by:
            mapping[op.result] = made_by[op.args[0]].args[op.attrs["dim"]]
        if op.prim != "mul":
            continue
        a, b = (mapping.get(v, v) for v in op.args)
        for one, other in ((a, b), (b, a)):
            if _is_float_one(one) and other.type == op.result.type == F64:
                mapping[op.result] = other
                break
    if mapping:
        replace_uses(fn.body, mapping)
    return fn
