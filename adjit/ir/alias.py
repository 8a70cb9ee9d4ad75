"""The memory model: which array values may share memory, and where memory is written.

Arrays have reference semantics, so an array value of the IR names *memory*, not
contents.  Every array value has a set of **roots**: the allocations it may be (a view
of).  A root is an array that certainly owns its memory when it is made: a function
parameter, or the result of an op that is not a view (``np.zeros``, ``x.copy()``,
``np.tanh(a)``, ``A @ B``...).  A view (an op whose table entry says ``aliases``: a slice,
a row, ``.T``, a reshape) has the roots of its operand; an ``if`` result or a loop-carried
value has the union of the roots of everything that may flow into it.

Every pass asks this one analysis rather than keeping its own list of aliasing ops:

* `roots(v)`, `may_alias(a, b)`: the memory `v` may live in;
* `written(v)`: is any memory of `v` written anywhere in the function (through any name);
* `last_write(v)`: the position of the last top-level op that writes memory of `v`, and
  `written_after(v, op)`: can memory of `v` be written by `op` or later;
* `chain(v)`: for a value that is certainly a view of one root, the ops from that root to
  `v` (so the adjoint of a view can be the same view of its root's adjoint);
* `written_params()`: the parameters whose memory the function writes.

Function parameters are assumed not to share memory with each other; the API checks
that at call time (`adjit.api`) for the parameters this analysis says are written.
"""
from .core import loop_parts, nested_ops, walk_ops
from .primitives import makes_view, writes_memory
from .types import is_array


RESHAPES = ("reshape", "reshape_like", "ravel")
_C_ORDER = ("zeros", "ones", "empty", "full", "copy")  # ndarray.copy() is C-ordered; np.zeros_like(a) is like a


class MemoryModel:
    def __init__(self, fn):
        self.fn = fn
        self._roots = {}
        self._view_of = {}  # a view -> the op that made it (its operand 0 is the base)
        self._made_by = {}  # an allocation (a root that is not a parameter) -> the op that made it
        for p in fn.params:
            if is_array(p.type):
                self._roots[p] = frozenset([p])
        changed = True
        while changed:  # loop-carried values need a fixed point
            changed = self._flow(fn.body)
        self.position = {}  # every op -> the position of the top-level op that contains it
        for k, top in enumerate(fn.body.ops):
            for op in [top, *nested_ops(top)]:
                self.position[op] = k
        self._last_write = {}  # root -> position of the last top-level op writing it
        self.writes = []       # every op that writes array memory
        for op in walk_ops(fn.body):
            if writes_memory(op.prim):
                self.writes.append(op)
                for r in self.roots(op.args[0]):
                    self._last_write[r] = max(self._last_write.get(r, -1), self.position[op])

    # ---- building --------------------------------------------------------------------------
    def _join(self, v, roots):
        old = self._roots.get(v, frozenset())
        new = old | roots
        if new != old:
            self._roots[v] = new
            return True
        return False

    def _flow(self, block):
        changed = False
        for op in block.ops:
            if op.prim == "if":
                for b in op.blocks:
                    changed |= self._flow(b)
                for k, r in enumerate(op.results):
                    if is_array(r.type):
                        for b in op.blocks:
                            changed |= self._join(r, self.roots(b.yields[k]))
            elif op.prim in ("for", "while"):
                params, inits, yields = loop_parts(op)
                for p, init in zip(params, inits):
                    if is_array(p.type):
                        changed |= self._join(p, self.roots(init))
                for b in op.blocks:
                    changed |= self._flow(b)
                for p, y, r in zip(params, yields, op.results):
                    if is_array(p.type):
                        changed |= self._join(p, self.roots(y))
                        changed |= self._join(r, self._roots[p])
            else:
                for r in op.results:
                    if not is_array(r.type):
                        continue
                    if makes_view(op.prim):
                        self._view_of[r] = op
                        changed |= self._join(r, self.roots(op.args[0]))
                    else:
                        self._made_by[r] = op
                        changed |= self._join(r, frozenset([r]))
        return changed

    # ---- questions -------------------------------------------------------------------------
    def roots(self, v):
        """The allocations array value `v` may share memory with (empty for a non-array)."""
        return self._roots.get(v, frozenset())

    def may_alias(self, a, b):
        return bool(self.roots(a) & self.roots(b))

    def written(self, v):
        """Is memory that `v` may live in written anywhere in the function?"""
        return any(r in self._last_write for r in self.roots(v))

    def last_write(self, v):
        """The position of the last top-level op that writes memory of `v` (-1: never)."""
        return max((self._last_write.get(r, -1) for r in self.roots(v)), default=-1)

    def written_after(self, v, op):
        """Can memory of `v` be written by `op` itself or after it (a later top-level op, or
        a later iteration of the loop containing `op`)?"""
        return self.written_from(v, self.position[op])

    def written_from(self, v, position):
        """Can memory of `v` be written at top-level position `position` or later?"""
        return self.last_write(v) >= position

    def is_root(self, v):
        return self.roots(v) == frozenset([v])

    def view_op(self, v):
        """The op that made view `v`, or None if `v` is not made by a view op."""
        return self._view_of.get(v)

    def chain(self, v):
        """The view ops from a single root to `v`, root first: ``(root, [ops])``; None when
        `v` may be one of several allocations (it flows through an `if` or a loop)."""
        ops = []
        while v in self._view_of:
            op = self._view_of[v]
            ops.append(op)
            v = op.args[0]
        if not self.is_root(v):
            return None
        return v, ops[::-1]

    def certainly_contiguous(self, v):
        """Is `v` certainly C-contiguous?  An allocation or a parameter is (a parameter by the
        API's assumption; grad copies written ones), and so is a reshape of a contiguous array."""
        while not self.is_root(v):
            op = self._view_of.get(v)
            if op is None or op.prim not in RESHAPES + ("expand_dims",):
                return False
            v = op.args[0]
        op = self._made_by.get(v)
        if op is None or op.prim in _C_ORDER:  # a parameter, np.zeros(...), a.copy()
            return True
        # NumPy lays out a result like its operands (np.tanh(A.T) is Fortran-ordered)
        return all(self.certainly_contiguous(a) for a in op.args if is_array(a.type))

    def ambiguous_reshapes(self):
        """Reshapes (and ravels) of arrays that may not be contiguous, in memory written while
        they exist: NumPy makes a view or a copy depending on the strides, which adjit cannot
        know, and the write reaches the reshape only if it is a view."""
        out = []
        for v, op in self._view_of.items():
            if op.prim in RESHAPES and self.written_after(v, op) and not self.certainly_contiguous(op.args[0]):
                out.append(op)
        return out

    def written_params(self):
        """Positions of the parameters whose memory the function writes (through any alias)."""
        return [k for k, p in enumerate(self.fn.params) if is_array(p.type) and self.written(p)]
