"""Array-creation primitives with no derivative (issue 14): ranges, identity matrices and
module-level arrays frozen into the generated code.  They join the one table, `PRIMITIVES`.

None of them has a derivative rule: their operands are integers (or, for `arange`, numbers
whose derivative NumPy's definition does not carry: the result's length depends on them),
so reverse mode gives them no adjoint and forward mode no tangent, by the table's
convention for ``partials=None``.  `np.linspace`, whose values do depend smoothly on its
end points, is lowered in the frontend to `arange` and arithmetic instead
(`adjit.frontend.numpy_build`).
"""
from .primitives import register as _add
from .types import F64, I64, NUMPY_DTYPE, Array

# np.arange(start, stop, step): the operands all int64 (an int64 array) or all float64 (the
# frontend lowers a float range itself, to NumPy's exact values: Numba's differ in the last bit)
_add("arange", lambda ts, a: [F64 if F64 in ts else I64] * 3,
     lambda ts, a: Array(F64 if F64 in ts else I64, 1), "np.arange({0}, {1}, {2})", effect="alloc")
# np.eye(n, m, k, dtype=...)
_add("eye", lambda ts, a: [I64] * 3, lambda ts, a: Array(a["dtype"], 2),
     lambda args, a: f"np.eye({args[0]}, {args[1]}, {args[2]}, dtype={NUMPY_DTYPE[a['dtype']]})", effect="alloc")
# a module-level (or closure) array read by compiled code, frozen when the function is
# compiled: attrs `key` (a digest of its contents, so equal contents share generated code)
# and `type`.  The array is an attribute of adjit.codegen.runtime; Numba freezes it into the
# machine code as a read-only constant.  The frontend refuses writes into it.
# (np.asarray(...) around it: Numba's inlining pass cannot walk a method call such as
# `_rt.frozen_k.copy()` through a module attribute that is an array)
_add("frozen_array", lambda ts, a: [], lambda ts, a: a["type"], lambda args, a: f"np.asarray(_rt.frozen_{a['key']})")
