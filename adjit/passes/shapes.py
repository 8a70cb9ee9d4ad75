"""Static shapes: which array values certainly have the same shape.

Reverse mode sums the adjoint of a broadcasting op back to each operand's shape
(``unbroadcast``), and needs an operand's shape even where it keeps nothing else of it.
Most operands were not broadcast at all: ``u[2:] - 2.0 * u[1:-1]`` combines two arrays of
length ``max(0, n - 2)``.  This analysis names every dimension of every array value by a
symbolic *key*, equal for two dimensions only when they are equal whenever the function
runs without error:

* ``("c", m)``: the constant m;
* ``("n", sym, d)``: ``max(0, sym + d)`` for a symbol ``sym`` (a parameter's dimension, an
  int value used as a size, or a dimension nothing more is known of) and a constant d <= 0.

A slice ``a[s:e]`` with constants ``s >= 0`` and ``e <= 0`` (absent: 0) of a dimension
``max(0, n + d)`` has length ``max(0, n + d + e - s)`` (clamping included), so ``u[2:]``,
``u[1:-1]`` and ``u[:-2]`` share one key.  An elementwise result has, per dimension, the one
key its operands agree on once known 1s are set aside (NumPy broadcasting allows nothing
else); where they disagree it gets a key of its own.  Loop-carried arrays keep their
initial shape when every iteration does (a fixed point); otherwise a key of their own.
"""
from ..ir.core import loop_parts
from ..ir.primitives import PRIMITIVES
from ..ir.types import is_array

_SAME_AS_FIRST = ("copy", "zeros_like", "ones_like", "empty_like", "full_like", "neg")
_REDUCTIONS = ("sum", "mean", "amax", "amin", "prod")
_ALLOCS = ("zeros", "ones", "empty", "full")


def _fresh(v, k):
    return ("n", ("r", v.id, k), 0)


def _const(v):
    if v is None:
        return None
    return v.const[0] if v.const is not None and isinstance(v.const[0], int) else None


class Shapes:
    """``dims(v)``: a tuple of keys, one per dimension of array value `v` (None if unknown)."""

    def __init__(self, fn):
        self._dims = {}
        self._ints = {}  # an int value used as a size -> its key
        for p in fn.params:
            if is_array(p.type):
                self._dims[p] = tuple(("n", ("p", p.id, k), 0) for k in range(p.type.ndim))
        self._block(fn.body)

    def dims(self, v):
        return self._dims.get(v)

    def same(self, a, b):
        """Do arrays `a` and `b` certainly have the same shape?"""
        da, db = self.dims(a), self.dims(b)
        return da is not None and da == db

    def int_key(self, v):
        c = _const(v)
        if c is not None:
            return ("c", c) if c >= 0 else None
        return self._ints.get(v, ("n", ("v", v.id), 0))

    def view_dims(self, base, idx, spec):
        """The keys of ``base[idx]`` for a view spec (see `adjit.ir.array_primitives`)."""
        dims, out, k = self.dims(base), [], 0
        if dims is None:
            return None
        for d, entry in enumerate(spec):
            if entry[0] == "i":
                k += 1
                continue
            parts = []
            for present in entry[1:]:
                parts.append(idx[k] if present else None)
                k += present
            out.append(_sliced(dims[d], *parts) if d < len(dims) else None)
        out.extend(dims[len(spec):])
        return None if any(o is None for o in out) else tuple(out)

    # ---- building --------------------------------------------------------------------------
    def _block(self, block):
        for op in block.ops:
            if op.prim == "if":
                for b in op.blocks:
                    self._block(b)
                for k, r in enumerate(op.results):
                    if is_array(r.type):
                        ds = [self.dims(b.yields[k]) for b in op.blocks]
                        self._dims[r] = ds[0] if ds[0] is not None and ds[0] == ds[1] else \
                            tuple(_fresh(r, j) for j in range(r.type.ndim))
            elif op.prim in ("for", "while"):
                self._loop(op)
            else:
                self._primitive(op)

    def _loop(self, op):
        params, inits, yields = loop_parts(op)
        own = set()  # carried arrays whose shape changes across iterations
        while True:
            for p, init in zip(params, inits):
                if is_array(p.type):
                    d = self.dims(init)
                    self._dims[p] = d if p not in own and d is not None else \
                        tuple(_fresh(p, j) for j in range(p.type.ndim))
            for b in op.blocks:
                self._block(b)
            changed = {p for p, y in zip(params, yields)
                       if is_array(p.type) and p not in own and self.dims(y) != self.dims(p)}
            if not changed:
                break
            own |= changed
        for p, r in zip(params, op.results):
            if is_array(r.type):  # a shape that changes is the last iteration's: one of its own
                self._dims[r] = self._dims[p] if p not in own else tuple(_fresh(r, j) for j in range(r.type.ndim))

    def _primitive(self, op):
        if op.prim == "shape":
            d = self.dims(op.args[0])
            if d is not None:
                self._ints[op.result] = d[op.attrs["dim"]]
            return
        if not op.results or not is_array(op.result.type):
            return
        r = op.result
        self._dims[r] = self._rule(op) or tuple(_fresh(r, j) for j in range(r.type.ndim))
        if len(self._dims[r]) != r.type.ndim:  # (a rule that does not fit: know nothing)
            self._dims[r] = tuple(_fresh(r, j) for j in range(r.type.ndim))

    def _rule(self, op):
        prim, args, r = op.prim, op.args, op.result
        p = PRIMITIVES.get(prim)
        if p is not None and p.elementwise:
            return self._broadcast(op)
        if prim in _SAME_AS_FIRST:
            return self.dims(args[0])
        if prim in _ALLOCS:
            sizes = args[:-1] if prim == "full" else args
            keys = [self.int_key(n) for n in sizes]
            return None if any(k is None for k in keys) else tuple(keys)
        if prim == "view":
            return self.view_dims(args[0], args[1:], op.attrs["spec"])
        if prim == "transpose":
            d = self.dims(args[0])
            return None if d is None else d[::-1]
        if prim == "reshape_like":
            return self.dims(args[1])
        if prim in _REDUCTIONS and op.attrs.get("axis") is not None:
            d = self.dims(args[0])
            return None if d is None else d[:op.attrs["axis"]] + d[op.attrs["axis"] + 1:]
        if prim in ("matmul", "outer"):
            da, db = self.dims(args[0]), self.dims(args[1])
            if da is None or db is None:
                return None
            if prim == "outer":
                return (da[0], db[0]) if len(da) == len(db) == 1 else None
            return {(2, 2): da[:1] + db[1:], (2, 1): da[:1], (1, 2): db[1:]}.get((len(da), len(db)))
        return None

    def _broadcast(self, op):
        ds = [self.dims(a) for a in op.args if is_array(a.type)]
        if any(d is None for d in ds):
            return None
        out = []
        for j in range(op.result.type.ndim):
            keys = {d[len(d) - op.result.type.ndim + j] for d in ds if len(d) - op.result.type.ndim + j >= 0}
            keys.discard(("c", 1))
            if len(keys) > 1:
                out.append(_fresh(op.result, j))
            else:
                out.append(keys.pop() if keys else ("c", 1))
        return tuple(out)


def _sliced(key, start, stop, step):
    """The key of ``a[start:stop:step]`` along a dimension of key `key` (start... are values or None)."""
    s, e, st = (_const(v) if v is not None else None for v in (start, stop, step))
    if (start is not None and s is None) or (stop is not None and e is None) or (step is not None and st is None):
        return None
    st = 1 if step is None else st
    if key[0] == "c":
        return ("c", len(range(key[1])[slice(s, e, st)])) if st != 0 else None
    s = 0 if start is None else s
    e = 0 if stop is None else e
    if st != 1 or s < 0 or e > 0:
        return None
    return ("n", key[1], key[2] + e - s)
