"""Integer-array and boolean-mask indexing (issue 14, item 6), with NumPy's semantics.

Reads: ``x[idx]``, ``x[:, idx]``, ``logp[np.arange(n), labels]`` (index arrays broadcast
against each other; integers among them count as index arrays), after any basic slices,
and ``x[mask]`` for a boolean mask of x's shape or of its leading dimensions.  A read is a
copy (a gather, `take`), whose adjoint is a scatter-add: repeated indices accumulate, as
``np.add.at``.  Negative indices count from the end; an index out of range raises IndexError.

Writes: ``a[idx] = v`` and ``a[mask] = v`` (v a number or an array that broadcasts to the
indexed shape) become a loop of stores, in index order, so a repeated index keeps the last
value, as NumPy; ``a[idx] += v`` is ``a[idx] = a[idx] + v`` (NumPy: repeated indices do not
accumulate there; use np.add.at for that).

Refused with a clear error: index arrays separated by a slice (NumPy moves their
dimensions first), None/np.newaxis together with an index array, a mask among other indexes.
"""
import ast

from ..errors import AdjitTypeError, UnsupportedSyntaxError
from ..ir.core import Value
from ..ir.types import BOOL, F64, I64, is_array
from .arrays import FULL_SLICE, _expand_ellipsis


def _trivial(p):
    return isinstance(p, (ast.Slice, ast.Constant)) or (isinstance(p, ast.UnaryOp) and isinstance(p.operand, ast.Constant))


def _parts(tr, e):
    """(array, [(kind, node, value)]) when the index has an index array or a mask, else None."""
    raw = list(e.slice.elts) if isinstance(e.slice, ast.Tuple) else [e.slice]
    if all(_trivial(p) for p in raw):  # (a list, x[[0, 2]], is an index array: fancy indexing, as NumPy)
        return None
    arr = tr.expr(e.value)
    if not (isinstance(arr, Value) and is_array(arr.type)):
        return None
    from .numpy_stats import is_none
    parts = _expand_ellipsis(tr, raw, arr.type.ndim, e)
    out, found = [], False
    for p in parts:
        if isinstance(p, ast.Slice):
            out.append(("slice", p, None))
        elif is_none(tr, p):
            out.append(("none", p, None))
        else:
            v = _list_index(tr, p, e) if isinstance(p, ast.List) else tr.expr(p)
            if isinstance(v, Value) and is_array(v.type):
                found = True
                out.append(("mask" if v.type.dtype == BOOL else "array", p, v))
            else:
                out.append(("int", p, v))
    if not found:
        return None
    if any(k == "none" for k, _, _ in out):
        raise tr.error(UnsupportedSyntaxError, e, "None (np.newaxis) together with an index array is not supported",
                       hint="index first, then add the axis: y = x[idx]; y[:, None]")
    return arr, out


def _list_index(tr, p, e):
    """A list literal used as an index (fancy indexing): an int (or bool) array of its numbers."""
    from .numpy_build import _flat, _leaves, _shape_of, from_numbers
    nested = _leaves(tr, p, e)
    shape, leaves = _shape_of(tr, nested, e), _flat(nested)
    if not leaves or any(is_array(v.type) or v.type == F64 for v in leaves):
        raise tr.error(UnsupportedSyntaxError, e, "indexing with a list (fancy indexing) takes a list of ints or "
                       "bools here", hint="index with an array: x[np.array([0, 2])]")
    dtype = BOOL if all(v.type == BOOL for v in leaves) else I64
    return from_numbers(tr, shape, leaves, dtype)


def _shape(tr, a, d):
    return tr.b.emit("shape", [a], {"dim": d})


def _basic_view(tr, arr, parts, e):
    """The view of the slices that are not full (advanced positions kept whole)."""
    if all(k != "slice" or (p.lower is None and p.upper is None and p.step is None) for k, p, _ in parts):
        return arr
    operands, spec = [], []
    for kind, p, _ in parts:
        if kind != "slice":
            spec.append(FULL_SLICE)
            continue
        entry = ["s"]
        for bound in (p.lower, p.upper, p.step):
            entry.append(bound is not None)
            if bound is not None:
                operands.append(tr.int_value(bound, "slice bounds must be integers"))
        spec.append(tuple(entry))
    spec += [FULL_SLICE] * (arr.type.ndim - len(spec))
    return tr.b.emit("view", [arr] + operands, {"spec": tuple(spec)})


def _group(tr, arr, parts, e):
    """(view, p, k, lin): the index arrays cover dimensions p..p+k-1 of view; lin is their
    flat position there (normalised), an int array of the index arrays' broadcast shape."""
    if len(parts) > arr.type.ndim:
        raise tr.error(UnsupportedSyntaxError, e, f"an array with {arr.type.ndim} dimension(s) indexed with "
                       f"{len(parts)} indexes")
    kinds = [k for k, _, _ in parts]
    if "mask" in kinds:
        if kinds[0] != "mask" or any(k != "slice" or _full(p) is False for k, p, _ in parts[1:]):
            raise tr.error(UnsupportedSyntaxError, e, "a boolean mask is supported as the only index (x[mask]), "
                           "or followed by full slices",
                           hint="use np.where(mask, a, b) to select elementwise")
        mask = parts[0][2]
        r = mask.type.ndim
        if r > arr.type.ndim:
            raise tr.error(AdjitTypeError, e, "the boolean mask has more dimensions than the array")
        lin = tr.b.emit("mask_index", [mask, arr])
        return arr, 0, r, lin
    adv = [j for j, k in enumerate(kinds) if k in ("array", "int")]
    if adv != list(range(adv[0], adv[-1] + 1)):
        raise tr.error(UnsupportedSyntaxError, e, "index arrays separated by a slice are not supported (NumPy moves "
                       "their dimensions first)", hint="index in two steps")
    view = _basic_view(tr, arr, parts, e)
    p, k = adv[0], len(adv)
    lin = None
    for j in adv:
        v = parts[j][2]
        n = _shape(tr, view, j)
        if is_array(v.type):
            if v.type.dtype == F64:
                raise tr.error(AdjitTypeError, e, "array indices must be integers (got a float array)")
            norm = tr.b.emit("index_norm", [tr.b.cast(v, I64) if v.type.dtype != I64 else v, n])
        else:
            if v.type != I64 and v.type != BOOL:
                raise tr.error(AdjitTypeError, e, "array indices must be integers")
            norm = tr.b.emit("index_norm1", [tr.b.cast(v, I64), n])
        lin = norm if lin is None else tr.b.emit("add", [tr.b.emit("mul", [lin, n]), norm])
    return view, p, k, lin


def _full(p):
    return p.lower is None and p.upper is None and p.step is None


def _merged(tr, view, p, k):
    """view with dimensions p..p+k-1 merged into one (a copy-free reshape when contiguous)."""
    if k == 1:
        return view
    if k == view.type.ndim:
        return tr.b.emit("ravel", [view])
    dims = [_shape(tr, view, d) for d in range(view.type.ndim)]
    size = dims[p]
    for d in dims[p + 1:p + k]:
        size = tr.b.emit("mul", [size, d])
    return tr.b.emit("reshape", [view] + dims[:p] + [size] + dims[p + k:])


def read(tr, e):
    """``x[idx]`` with an index array or mask: the gathered copy, or None for basic indexing."""
    found = _parts(tr, e)
    if found is None:
        return None
    arr, parts = found
    view, p, k, lin = _group(tr, arr, parts, e)
    return tr.b.emit("take", [_merged(tr, view, p, k), lin], {"axis": p})


def write(tr, target, value, node):
    """``a[idx] = value`` with an index array or mask; False for basic indexing."""
    found = _parts(tr, target)
    if found is None:
        return False
    arr, parts = found
    if not isinstance(value, Value):
        raise tr.error(UnsupportedSyntaxError, node, "cannot store this value into an array")
    vdtype = value.type.dtype if is_array(value.type) else value.type
    if arr.type.dtype != F64 and vdtype == F64:
        raise tr.error(AdjitTypeError, node, f"storing a float into an array of {arr.type.dtype}",
                       hint="use a float64 array")
    view, p, k, lin = _group(tr, arr, parts, target)
    b = tr.b
    ndim = view.type.ndim
    group_dims = [_shape(tr, view, d) for d in range(p, p + k)]
    flat = b.emit("ravel", [lin])
    count = _shape(tr, flat, 0)
    rows = None
    if is_array(value.type):
        # the value broadcast to the indexed shape (a copy: it may be a view of the target),
        # as rows (before..., L, after...)
        before = [_shape(tr, view, d) for d in range(p)]
        after = [_shape(tr, view, d) for d in range(p + k, ndim)]
        lin_dims = [_shape(tr, lin, d) for d in range(lin.type.ndim)]
        gathered = before + lin_dims + after
        if value.type.ndim > len(gathered):
            raise tr.error(AdjitTypeError, node, f"cannot store a {value.type.ndim}-d array into a "
                           f"{len(gathered)}-d indexed selection")
        zeros = b.emit("zeros", gathered, {"dtype": arr.type.dtype})
        full = b.emit("add", [zeros, b.cast(value, arr.type.dtype) if vdtype != arr.type.dtype else value])
        rows = b.emit("reshape", [full] + before + [count] + after)

    def body(f):
        pos = b.emit("load", [flat, f])
        idx = []
        for j in range(k - 1, -1, -1):
            idx.append(b.emit("mod", [pos, group_dims[j]]))
            pos = b.emit("floordiv", [pos, group_dims[j]])
        idx.reverse()
        if rows is None:
            v = value
        elif rows.type.ndim == 1:
            v = b.emit("load", [rows, f])
        else:
            spec = tuple(("i",) if d == p else FULL_SLICE for d in range(rows.type.ndim))
            v = b.emit("view", [rows, f], {"spec": spec})
        if p == 0 and k == ndim:
            tr.store(view, idx, None, v, node)
        else:
            spec = tuple([FULL_SLICE] * p + [("i",)] * k + [FULL_SLICE] * (ndim - p - k))
            tr.store(view, idx, spec, v, node)
        return []
    b.for_(b.const(0), count, b.const(1), body, iv_hint="k")
    return True


def augassign(tr, target, op, rhs_node, node):
    """``a[idx] op= v``: a[idx] = a[idx] op v (NumPy: repeated indices do not accumulate)."""
    if _parts(tr, target) is None:
        return False
    old = read(tr, target)
    new = tr.binop(op, old, tr.expr(rhs_node), node)
    return write(tr, target, new, node)
