"""Tape arrays and the vectorised rules.

A :class:`TapeArray` is two NumPy arrays of the same shape: ``val`` (float64 values) and
``idx`` (the tape node of every element, 0 for a constant).  Indexing, slicing, views,
reshapes, transposes, concatenation, ``np.where``, sorting, max/min... apply the same NumPy
operation to both arrays and need no tape entry at all: a gradient simply follows the node
index to whatever produced the element.  Arithmetic on whole arrays records one block
(see :mod:`adjit.tape.core`) whose rule works on NumPy arrays in the backward pass.

Writes (``a[k] = v``, ``a += b``, ``a[1:3] *= c``, ``a.sort()``, ``np.add(a, b, out=a)``) go
into the array's buffers in place, so other names and views of it see them, as in NumPy.
A rule that reads operand values in the backward pass and could be handed a live tape
buffer keeps them through :func:`adjit.tape.core.keep`; every write calls
:func:`adjit.tape.core.before_write` first, which copies those values out (copy-on-write).
"""

import numpy as np

from ..errors import AdjitError, AdjitTypeError
from . import core, rules
from .core import HIGH, Var, _captures, add_block, before_write, keep, proxy, target_of

F64 = np.float64
INTP = np.intp


class TapeArray:
    """A float64 array whose elements carry tape nodes (see the module docstring)."""

    __slots__ = ('val', 'idx')

    def __init__(self, val, idx):
        self.val = val
        self.idx = idx

    # -- attributes ----------------------------------------------------------------------

    @property
    def shape(self):
        return self.val.shape

    @property
    def ndim(self):
        return self.val.ndim

    @property
    def size(self):
        return self.val.size

    @property
    def dtype(self):
        return self.val.dtype

    @property
    def T(self):
        return TapeArray(self.val.T, self.idx.T)

    @property
    def value(self):
        return self.val.copy()

    def __len__(self):
        return len(self.val)

    # -- element access ------------------------------------------------------------------

    def __getitem__(self, k):
        idx = self.idx
        t = type(k)
        if t is int:
            if idx.ndim == 1:
                i = idx.item(k)
                v = self.val.item(k)
                if i:
                    return Var(v, i if i < HIGH else proxy(i))
                return v
        elif t is tuple and len(k) == idx.ndim:
            try:
                i = idx.item(k)
            except (TypeError, ValueError):
                return self._getitem(k)
            v = self.val.item(k)
            if i:
                return Var(v, i if i < HIGH else proxy(i))
            return v
        return self._getitem(k)

    def _getitem(self, k):
        k = _key(k)
        v = self.val[k]
        if type(v) is np.ndarray:
            return TapeArray(v, self.idx[k])
        return make(v, self.idx[k])

    def __setitem__(self, k, v):
        if _captures:                       # a recorded rule may still read this buffer?
            a = self.val
            if a.base is not None or id(a) in _captures:
                before_write(a)
        t = type(v)
        if t is Var:
            self.val[k] = v.v
            self.idx[k] = v.i
        elif t is float or t is int:
            self.val[k] = v
            self.idx[k] = 0
        else:
            k = _key(k)
            vv, vi = parts(v)
            self.val[k] = vv
            self.idx[k] = vi

    def __iter__(self):
        if self.val.ndim == 0:
            raise TypeError('iteration over a 0-d array')
        for k in range(len(self.val)):
            yield self[k]

    def item(self, *args):
        if not args:
            if self.val.size != 1:
                raise ValueError('can only convert an array of size 1 to a Python scalar')
            args = (0,)
        return make(self.val.item(*args), self.idx.item(*args))

    def tolist(self):
        if self.val.ndim == 0:
            return self.item()
        return [e.tolist() if type(e) is TapeArray else e for e in self]

    def fill(self, v):
        self[...] = v

    # -- conversions ---------------------------------------------------------------------

    def __bool__(self):
        return bool(self.val)

    def __int__(self):
        return int(self.val)

    def __float__(self):
        raise core._float_error('array')

    def __complex__(self):
        raise core._float_error('array')

    def __array__(self, dtype=None, copy=None):
        if self.idx.any():
            raise AdjitError(
                "a tape array was converted to a plain NumPy array, which would drop its "
                "derivatives", hint="use the numpy functions adjit.tape supports on it, or "
                "pass plain arrays to code adjit.tape cannot see")
        return self.val if dtype is None else self.val.astype(dtype)

    def astype(self, dtype, copy=True):
        d = np.dtype(dtype)
        if d == F64:
            return TapeArray(self.val.copy(), self.idx.copy()) if copy else self
        if d.kind in 'biu':                         # int casts: zero derivative (convention)
            return self.val.astype(d)
        raise AdjitTypeError(f'adjit.tape cannot cast a tape array to {d}')

    def __repr__(self):
        return f'TapeArray({np.array2string(self.val, separator=", ")})'

    __str__ = __repr__

    # -- NumPy protocols: real NumPy functions applied to tape arrays come here ------------

    def __array_ufunc__(self, ufunc, method, *inputs, **kwargs):
        out = kwargs.pop('out', None)
        if type(out) is tuple:              # NumPy passes out=(array,), e.g. for `a += t`
            if len(out) != 1:
                raise AdjitError(f'numpy.{ufunc.__name__} with several out= arrays is not '
                                 'supported on tape arrays by adjit.tape')
            out = out[0]
        r = self._ufunc(ufunc, method, inputs, kwargs)
        if out is None:
            return r
        if type(out) is TapeArray:
            return _inplace(out, r)
        if isinstance(out, np.ndarray):
            rv, ri = parts(r)
            if np.any(ri):
                raise AdjitError(
                    f'numpy.{ufunc.__name__} would write tape values (which carry derivatives) '
                    'into a plain NumPy array in place, dropping their derivatives',
                    hint='write `a = a + t` instead of `a += t`, or create the array inside the '
                         'differentiated function (np.zeros, np.array, ...)')
            out[...] = rv
            return out
        raise AdjitError(f'numpy.{ufunc.__name__}: out={type(out).__name__} is not supported '
                         'by adjit.tape')

    def _ufunc(self, ufunc, method, inputs, kwargs):
        if method == '__call__' and not kwargs:
            impl = UFUNC_IMPL.get(ufunc.__name__)
            if impl is not None:
                return impl(*inputs)
        if method == 'reduce' and len(inputs) == 1 and ufunc.__name__ in _REDUCERS:
            kwargs.setdefault('axis', 0)
            return FUNC_BY_NAME[_REDUCERS[ufunc.__name__]](*inputs, **kwargs)
        if derivative_free(inputs) and derivative_free(tuple(kwargs.values())):
            return call_on_values(getattr(ufunc, method), inputs, kwargs)
        m = '' if method == '__call__' else '.' + method
        raise AdjitError(f'numpy.{ufunc.__name__}{m} is not supported on tape values by '
                         'adjit.tape')

    def __array_function__(self, func, types, args, kwargs):
        impl = FUNC_IMPL.get(func)
        if impl is None:
            if derivative_free(args) and derivative_free(tuple(kwargs.values())):
                return call_on_values(func, args, kwargs)
            mod = getattr(func, '__module__', 'numpy') or 'numpy'
            raise AdjitError(f'{mod}.{func.__name__} is not supported on tape values by '
                             'adjit.tape')
        return impl(*args, **kwargs)

    # -- methods mirroring ndarray -------------------------------------------------------

    def copy(self):
        return TapeArray(self.val.copy(), self.idx.copy())

    def reshape(self, *shape, order='C'):
        if len(shape) == 1 and isinstance(shape[0], (tuple, list)):
            shape = tuple(shape[0])
        return TapeArray(self.val.reshape(shape, order=order), self.idx.reshape(shape, order=order))

    def ravel(self, order='C'):
        return TapeArray(self.val.ravel(order), self.idx.ravel(order))

    def flatten(self, order='C'):
        return TapeArray(self.val.flatten(order), self.idx.flatten(order))

    def transpose(self, *axes):
        if len(axes) == 1 and (axes[0] is None or isinstance(axes[0], (tuple, list))):
            axes = axes[0]
        axes = axes or None
        return TapeArray(self.val.transpose(axes), self.idx.transpose(axes))

    def swapaxes(self, a, b):
        return TapeArray(self.val.swapaxes(a, b), self.idx.swapaxes(a, b))

    def squeeze(self, axis=None):
        return TapeArray(self.val.squeeze(axis), self.idx.squeeze(axis))

    def sort(self, axis=-1, kind=None, order=None):
        s = sort(self, axis=axis)
        if _captures:
            before_write(self.val)
        self.val[...] = s.val
        self.idx[...] = s.idx

    def sum(self, axis=None, dtype=None, out=None, keepdims=False, **kw):
        return sum_(self, axis, dtype, out, keepdims, **kw)

    def mean(self, axis=None, dtype=None, out=None, keepdims=False, **kw):
        return mean(self, axis, dtype, out, keepdims, **kw)

    def prod(self, axis=None, dtype=None, out=None, keepdims=False, **kw):
        return prod(self, axis, dtype, out, keepdims, **kw)

    def max(self, axis=None, out=None, keepdims=False, **kw):
        return amax(self, axis, out, keepdims, **kw)

    def min(self, axis=None, out=None, keepdims=False, **kw):
        return amin(self, axis, out, keepdims, **kw)

    def cumsum(self, axis=None, dtype=None, out=None):
        return cumsum(self, axis, dtype, out)

    def var(self, axis=None, dtype=None, out=None, ddof=0, keepdims=False):
        return var(self, axis, dtype, out, ddof, keepdims)

    def std(self, axis=None, dtype=None, out=None, ddof=0, keepdims=False):
        return std(self, axis, dtype, out, ddof, keepdims)

    def diagonal(self, offset=0, axis1=0, axis2=1):
        return structural(np.diagonal)(self, offset, axis1, axis2)

    def dot(self, b):
        return dot(self, b)

    def clip(self, a_min=None, a_max=None, **kw):
        return clip(self, a_min, a_max, **kw)

    def argmax(self, axis=None, **kw):
        return self.val.argmax(axis, **kw)

    def argmin(self, axis=None, **kw):
        return self.val.argmin(axis, **kw)

    def argsort(self, axis=-1, kind=None, order=None):
        return self.val.argsort(axis, kind, order)

    def nonzero(self):
        return self.val.nonzero()

    def all(self, *a, **kw):
        return self.val.all(*a, **kw)

    def any(self, *a, **kw):
        return self.val.any(*a, **kw)

    # -- operators -------------------------------------------------------------------------

    def __neg__(self):
        return UFUNC_IMPL['negative'](self)

    def __pos__(self):
        return self.copy()

    def __abs__(self):
        return UFUNC_IMPL['absolute'](self)

    def __matmul__(self, o):
        return matmul(self, o)

    def __rmatmul__(self, o):
        return matmul(o, self)

    def __imatmul__(self, o):
        return _inplace(self, matmul(self, o))

    def __lt__(self, o):
        return self.val < values(o)

    def __le__(self, o):
        return self.val <= values(o)

    def __gt__(self, o):
        return self.val > values(o)

    def __ge__(self, o):
        return self.val >= values(o)

    def __eq__(self, o):
        return self.val == values(o)

    def __ne__(self, o):
        return self.val != values(o)

    __hash__ = None


def _inplace(a, r):
    """Write result ``r`` into tape array ``a`` (in place: views and other names see it)."""
    rv, ri = parts(r)
    if _captures:
        before_write(a.val)
    a.val[...] = rv
    a.idx[...] = ri
    return a


def _install_operators():
    for op, name in [('add', 'add'), ('sub', 'subtract'), ('mul', 'multiply'),
                     ('truediv', 'divide'), ('pow', 'power'), ('mod', 'mod'),
                     ('floordiv', 'floor_divide')]:
        def fwd(self, o, _n=name):
            return UFUNC_IMPL[_n](self, o)

        def rev(self, o, _n=name):
            return UFUNC_IMPL[_n](o, self)

        def inp(self, o, _n=name):
            return _inplace(self, UFUNC_IMPL[_n](self, o))
        setattr(TapeArray, f'__{op}__', fwd)
        setattr(TapeArray, f'__r{op}__', rev)
        setattr(TapeArray, f'__i{op}__', inp)


_install_operators()
core._array_type = TapeArray

UFUNC_IMPL = {}        # ufunc name -> implementation (filled by adjit.tape.numpy_api)
FUNC_IMPL = {}         # real NumPy function -> implementation (filled by adjit.tape.numpy_api)
FUNC_BY_NAME = {}      # NumPy name -> implementation
_REDUCERS = {'add': 'sum', 'multiply': 'prod', 'maximum': 'max', 'minimum': 'min'}


# -- operands ------------------------------------------------------------------------------

def is_tape(x):
    t = type(x)
    return t is Var or t is TapeArray


def has_tape(x):
    t = type(x)
    if t is Var or t is TapeArray:
        return True
    if t is list or t is tuple:
        for e in x:
            if has_tape(e):
                return True
    return False


def derivative_free(x):
    """True when x holds no tape value with a derivative (constant tape arrays are fine)."""
    t = type(x)
    if t is Var:
        return False
    if t is TapeArray:
        return not x.idx.any()
    if t is list or t is tuple:
        for e in x:
            if not derivative_free(e):
                return False
    return True


def _vals_for_call(x):
    t = type(x)
    if t is TapeArray:
        if _captures:
            before_write(x.val)             # the real function may write into it
        return x.val
    if t is list or t is tuple:
        return t(_vals_for_call(e) for e in x)
    return x


def call_on_values(func, args, kwargs):
    """A real NumPy function applied to constant tape arrays (e.g. a non-differentiated
    argument, which adjit.tape holds as a constant tape array): runs on their values, as it
    would on the plain arrays."""
    return func(*_vals_for_call(tuple(args)), **{k: _vals_for_call(v) for k, v in kwargs.items()})


def _key(k):
    """An index key with tape values replaced by plain ones (bool masks, int arrays)."""
    t = type(k)
    if t is TapeArray:
        return _array(k)
    if t is tuple:
        return tuple(_array(e) if type(e) is TapeArray else e for e in k)
    return k


def _array(a):
    if a.idx.any():
        raise AdjitTypeError('a tape array (floats carrying derivatives) cannot be an index')
    return a.val


def values(x):
    """Values of x with every tape value replaced by its float value."""
    t = type(x)
    if t is TapeArray:
        return x.val
    if t is Var:
        return x.v
    if t is list or t is tuple:
        return t(values(e) for e in x)
    return x


def _nested(o):
    t = type(o)
    if t is Var:
        return o.v, o.i
    if t is TapeArray:
        return o.val.tolist(), o.idx.tolist()
    if t is list or t is tuple:
        vs, ids = [], []
        for e in o:
            v, i = _nested(e)
            vs.append(v)
            ids.append(i)
        return vs, ids
    if isinstance(o, np.ndarray):
        return o.tolist(), np.zeros(o.shape, INTP).tolist()
    if isinstance(o, (int, float, np.number, np.bool_)):
        return o, 0
    raise AdjitTypeError(f'adjit.tape cannot make an array element out of a {type(o).__name__}')


def from_nested(o, ndmin=0):
    """A TapeArray (or tape scalar) from nested lists/tuples holding tape values."""
    vs, ids = _nested(o)
    return make(np.array(vs, dtype=F64, ndmin=ndmin), np.array(ids, dtype=INTP, ndmin=ndmin))


def parts(x):
    """(values, node indices) of x as arrays or scalars, broadcastable against each other."""
    t = type(x)
    if t is TapeArray:
        return x.val, x.idx
    if t is Var:
        return x.v, x.i
    if t is float or t is int:
        return x, 0
    if t is list or t is tuple:
        if has_tape(x):
            vs, ids = _nested(x)
            return np.array(vs, dtype=F64), np.array(ids, dtype=INTP)
        a = np.asarray(x)
        return a, np.zeros(a.shape, INTP)
    if isinstance(x, np.ndarray):
        if x.dtype.kind not in 'biuf':
            raise AdjitTypeError(f'adjit.tape does not support {x.dtype} arrays')
        return x, np.zeros(x.shape, INTP)
    if isinstance(x, (np.number, np.bool_)):
        return x, 0
    raise AdjitTypeError(f'adjit.tape cannot use a {type(x).__name__} as an array operand')


def operand(x):
    """(values, node indices or None when x is a constant) of an operand."""
    t = type(x)
    if t is TapeArray:
        return x.val, x.idx
    if t is Var:
        return x.v, x.i
    if t is float or t is int:
        return x, None
    if t is list or t is tuple:
        if has_tape(x):
            return operand(from_nested(x))
        return np.asarray(x), None
    if isinstance(x, np.ndarray):
        if x.dtype.kind not in 'biuf':
            raise AdjitTypeError(f'adjit.tape does not support {x.dtype} arrays')
        return x, None
    if isinstance(x, (np.number, np.bool_)):
        return x, None
    raise AdjitTypeError(f'adjit.tape cannot use a {type(x).__name__} as an array operand')


def make(val, idx):
    """Package values and node indices (same shape) as a TapeArray or a scalar."""
    if type(val) is not np.ndarray or val.ndim == 0:
        i = int(idx)
        v = float(val)
        if i:
            return Var(v, i if i < HIGH else proxy(i))
        return v
    if val.dtype != F64:
        val = val.astype(F64)
    if idx.dtype != INTP:
        idx = idx.astype(INTP)
    return TapeArray(val, idx)


def const(y):
    """A constant result: a float, or a TapeArray with no nodes (so it can be written to)."""
    y = np.asarray(y, dtype=F64)
    if y.ndim == 0:
        return float(y)
    if y.base is not None or not y.flags.writeable:
        y = y.copy()
    return TapeArray(y, np.zeros(y.shape, INTP))


def wrap_float(r):
    """Real-NumPy creation results: float64 arrays become constant TapeArrays."""
    if type(r) is np.ndarray and r.dtype == F64 and r.ndim > 0:
        return TapeArray(r, np.zeros(r.shape, INTP))
    return r


def emit(y, parents):
    """Record an array-valued operation with result ``y``.

    ``parents`` is a list of ``(idx, vjp)`` where ``idx`` is the parent's node index (int),
    node-index array, or None (constant), and ``vjp(G)`` gives its adjoint contribution.
    """
    prepared = []
    for idx, vjp in parents:
        if idx is None:
            continue
        if type(idx) is int:
            prepared.append((0, idx, vjp))
            continue
        t = target_of(idx)
        if t is not None:
            prepared.append((t[0], t[1], vjp))
    y = np.asarray(y, dtype=F64)
    if not prepared:
        return const(y)
    if y.base is not None or not y.flags.writeable:
        y = y.copy()
    blk = add_block(y.shape, prepared)
    if y.ndim == 0:
        return Var(float(y), proxy(blk.start))
    return TapeArray(y, np.arange(blk.start, blk.start + blk.n, dtype=INTP).reshape(y.shape))


def unbroadcast(g, shape):
    """Sum g down to ``shape`` (the inverse of NumPy broadcasting)."""
    g = np.asarray(g)
    if g.shape == shape:
        return g
    extra = g.ndim - len(shape)
    if extra > 0:
        g = g.sum(axis=tuple(range(extra)))
    axes = tuple(k for k, s in enumerate(shape) if s == 1 and g.shape[k] != 1)
    if axes:
        g = g.sum(axis=axes, keepdims=True)
    return g


def _bcast_idx(idx, shape):
    if type(idx) is int:
        return np.full(shape, idx, dtype=INTP)
    return np.broadcast_to(idx, shape).copy()


# -- elementwise rules from the table ------------------------------------------------------

def _compile(expr, args):
    try:
        return float(expr)                          # a constant partial
    except ValueError:
        return eval(f'lambda {args}: {expr}', dict(rules.ARRAY_NS))


def _times(d, shape, s1=None, s2=None, s3=None, plain=()):
    """vjp ``G -> unbroadcast(G * d)``.  ``s1..s3`` are the arrays the partial ``d`` was
    computed from (operands, result): if ``d`` is one of them or a view (``x2`` for multiply,
    ``y`` for exp), it may be a live tape buffer, so it is kept copy-on-write.  A partial
    computed into a fresh array is private and needs no protection.  ``plain`` are operands
    that are plain NumPy arrays (an int count, a bool mask, a float array made by real NumPy):
    writes into those never reach :func:`before_write`, so a partial sharing their memory is
    copied now (issue 12: ``y = np.sum(c * x); c[0] = 10`` must keep the old ``c``)."""
    if type(d) is float:
        if d == 1.0:
            return lambda G: unbroadcast(G, shape)
        return lambda G: unbroadcast(G * d, shape)
    if type(d) is np.ndarray:
        if plain and _shares_plain(d, plain):
            d = d.copy()
            return lambda G: unbroadcast(G * d, shape)
        if d is s1 or d is s2 or d is s3 or d.base is not None:
            c = keep(d)
            return lambda G: unbroadcast(G * c.a, shape)
    return lambda G: unbroadcast(G * d, shape)


def _shares_plain(d, plain):
    r = core._root(d)
    for p in plain:
        if d is p or r is core._root(p):
            return True
    return False


def _plain(*xs):
    """The operands among ``xs`` that are plain NumPy arrays (see :func:`_times`)."""
    return tuple(x for x in xs if isinstance(x, np.ndarray))


def vec_unary(fnp, expr):
    """Vectorised one-argument primitive (tape arrays and scalars, NumPy semantics)."""
    dfun = _compile(expr, 'x, y')

    def impl(x):
        xv, xi = operand(x)
        y = np.asarray(fnp(xv), dtype=F64)
        if xi is None:
            return const(y)
        if type(dfun) is float:
            d = dfun
        else:
            with np.errstate(all='ignore'):
                d = dfun(xv, y)
        return emit(y, [(xi, _times(d, np.shape(xv), xv, y))])
    return impl


def vec_binary(fnp, expr1, expr2):
    """Vectorised two-argument primitive with broadcasting (NumPy semantics)."""
    d1fun = _compile(expr1, 'x1, x2, y')
    d2fun = _compile(expr2, 'x1, x2, y')

    def impl(a, b):
        av, ai = operand(a)
        bv, bi = operand(b)
        y = np.asarray(fnp(av, bv), dtype=F64)
        parents = []
        plain = _plain(a, b)
        with np.errstate(all='ignore'):
            if ai is not None and d1fun != 0.0:
                d = d1fun if type(d1fun) is float else d1fun(av, bv, y)
                parents.append((ai, _times(d, np.shape(av), av, bv, y, plain)))
            if bi is not None and d2fun != 0.0:
                d = d2fun if type(d2fun) is float else d2fun(av, bv, y)
                parents.append((bi, _times(d, np.shape(bv), av, bv, y, plain)))
        return emit(y, parents)
    return impl


def shifted(fnp, general, commutative):
    """x + c, c + x and x - c: the result shares x's nodes (partial 1); no tape entry."""
    def impl(a, b):
        av, ai = operand(a)
        bv, bi = operand(b)
        if (ai is None) != (bi is None) and (bi is None or commutative):
            y = fnp(av, bv)
            src = ai if bi is None else bi
            return make(np.asarray(y, dtype=F64) if np.ndim(y) else y,
                        _bcast_idx(src, np.shape(y)))
        return general(a, b)
    return impl


def select(fnp, pick):
    """maximum/minimum-like: each result element *is* one of the arguments (no tape entry)."""
    def impl(a, b):
        av, ai = operand(a)
        bv, bi = operand(b)
        y = fnp(av, bv)
        with np.errstate(invalid='ignore'):
            c = pick(np.asarray(av), np.asarray(bv))
        idx = np.where(c, 0 if ai is None else ai, 0 if bi is None else bi)
        if np.ndim(y) == 0:
            return make(y, idx)
        return make(np.asarray(y, dtype=F64), np.asarray(idx, dtype=INTP))
    return impl


maximum = select(np.maximum, lambda a, b: (a >= b) | (a != a))
minimum = select(np.minimum, lambda a, b: (a <= b) | (a != a))
fmax = select(np.fmax, lambda a, b: (a >= b) | (b != b))
fmin = select(np.fmin, lambda a, b: (a <= b) | (b != b))


def clip(a, a_min=None, a_max=None, out=None, **kw):
    _no_out(out)
    a_min = kw.pop('min', a_min)
    a_max = kw.pop('max', a_max)
    if kw:
        raise AdjitError(f'numpy.clip: arguments {sorted(kw)} are not supported by adjit.tape')
    r = a
    if a_min is not None:
        r = maximum(r, a_min)
    if a_max is not None:
        r = minimum(r, a_max)
    if r is a:
        r = copy(a)
    return r


def where(cond, x=None, y=None):
    if x is None and y is None:
        return np.where(values(cond))
    c = values(cond)
    if type(c) is TapeArray:
        c = c.val
    xv, xi = parts(x)
    yv, yi = parts(y)
    v = np.where(c, xv, yv)
    i = np.where(c, xi, yi)
    return make(v, i)


# -- structural operations: same NumPy function on values and on node indices -------------

def structural(real, data=(0,), seq=False):
    def impl(*args, **kw):
        _no_out(kw.get('out'))
        vargs = list(args)
        iargs = list(args)
        for p in data:
            if p < len(args):
                if seq:
                    ps = [parts(e) for e in args[p]]
                    vargs[p] = [q[0] for q in ps]
                    iargs[p] = [q[1] for q in ps]
                else:
                    vargs[p], iargs[p] = parts(args[p])
        v = real(*vargs, **kw)
        i = real(*iargs, **kw)
        return _result(v, i)
    impl.__name__ = real.__name__
    return impl


def _result(v, i):
    if type(v) is list or type(v) is tuple:
        return type(v)(_result(a, b) for a, b in zip(v, i))
    return make(v, np.asarray(i))


def sort(a, axis=-1, kind=None, order=None):
    av, ai = parts(a)
    av = np.asarray(av)
    ai = np.broadcast_to(ai, av.shape)
    if axis is None:
        av, ai, axis = av.ravel(), ai.ravel(), -1
    o = np.argsort(av, axis=axis, kind='stable')
    return make(np.take_along_axis(av, o, axis), np.take_along_axis(ai, o, axis))


def copy(a, order='K', **kw):
    av, ai = parts(a)
    return make(np.array(av, dtype=F64), np.array(ai, dtype=INTP))


# -- reductions ----------------------------------------------------------------------------

def _no_out(out):
    if out is not None:
        raise AdjitError('out= arguments are not supported by adjit.tape')


def _check(name, dtype, kw):
    if kw:
        raise AdjitError(f'numpy.{name}: arguments {sorted(kw)} are not supported by adjit.tape')
    if dtype is not None and np.dtype(dtype) != F64:
        raise AdjitTypeError(f'numpy.{name}: dtype={dtype} is not supported by adjit.tape')


def _axes(axis, ndim):
    if axis is None:
        return None
    if isinstance(axis, (tuple, list)):
        return tuple(sorted(int(a) % ndim if ndim else int(a) for a in axis))
    return (int(axis) % ndim if ndim else int(axis),)


def _expand(G, axes, keepdims):
    if axes is None or keepdims:
        return G
    return np.expand_dims(G, axes)


def sum_(a, axis=None, dtype=None, out=None, keepdims=False, **kw):
    _no_out(out)
    _check('sum', dtype, kw)
    av, ai = operand(a)
    av = np.asarray(av)
    axes = _axes(axis, av.ndim)
    y = np.sum(av, axis=axes, keepdims=keepdims)
    shape = av.shape
    return emit(y, [(ai, lambda G: np.broadcast_to(_expand(G, axes, keepdims), shape))])


def mean(a, axis=None, dtype=None, out=None, keepdims=False, **kw):
    _no_out(out)
    _check('mean', dtype, kw)
    av, ai = operand(a)
    av = np.asarray(av)
    axes = _axes(axis, av.ndim)
    y = np.mean(av, axis=axes, keepdims=keepdims)
    shape = av.shape
    count = av.size / max(np.size(y), 1) if av.size else 1.0
    return emit(y, [(ai, lambda G: np.broadcast_to(_expand(G, axes, keepdims) / count, shape))])


def _prod_partials(v):
    """d prod(v, axis=-1) / d v, exact also when some entries are zero."""
    if v.shape[-1] == 0:
        return v
    one = np.ones(v.shape[:-1] + (1,))
    left = np.cumprod(np.concatenate([one, v[..., :-1]], axis=-1), axis=-1)
    right = np.flip(np.cumprod(np.flip(np.concatenate([v[..., 1:], one], axis=-1), -1), -1), -1)
    return left * right


def prod(a, axis=None, dtype=None, out=None, keepdims=False, **kw):
    _no_out(out)
    _check('prod', dtype, kw)
    av, ai = operand(a)
    av = np.asarray(av, dtype=F64)
    axes = _axes(axis, av.ndim)
    y = np.prod(av, axis=axes, keepdims=keepdims)
    if ai is None:
        return const(y)
    if axes is None:
        d = _prod_partials(av.ravel()).reshape(av.shape)
    elif len(axes) == 1:
        d = np.moveaxis(_prod_partials(np.moveaxis(av, axes[0], -1)), -1, axes[0])
    else:
        raise AdjitError('numpy.prod over several axes is not supported by adjit.tape')
    return emit(y, [(ai, lambda G: _expand(G, axes, keepdims) * d)])


def _extreme(name, argf):
    def impl(a, axis=None, out=None, keepdims=False, **kw):
        _no_out(out)
        _check(name, None, kw)
        av, ai = parts(a)
        av = np.asarray(av)
        if av.ndim == 0:
            return make(av, np.asarray(ai))
        ai = np.broadcast_to(ai, av.shape)
        axes = _axes(axis, av.ndim)
        if axes is None:
            if av.size == 0:
                getattr(np, name)(av)               # NumPy's own error
            k = int(argf(av))                       # first occurrence: ties go to the first
            v, i = av.flat[k], ai.flat[k]
            if keepdims:
                one = (1,) * av.ndim
                return make(np.full(one, v, dtype=F64), np.full(one, i, dtype=INTP))
            return make(v, i)
        rest = [d for d in range(av.ndim) if d not in axes]
        perm = rest + list(axes)
        shp = tuple(av.shape[d] for d in rest) + (-1,)
        v2 = np.transpose(av, perm).reshape(shp)
        i2 = np.transpose(ai, perm).reshape(shp)
        if v2.shape[-1] == 0:
            getattr(np, name)(av, axis=axis)
        k = argf(v2, axis=-1)[..., None]
        v = np.take_along_axis(v2, k, -1)[..., 0]
        i = np.take_along_axis(i2, k, -1)[..., 0]
        if keepdims:
            v = np.expand_dims(v, axes)
            i = np.expand_dims(i, axes)
        return make(np.asarray(v), np.asarray(i))
    impl.__name__ = name
    return impl


amax = _extreme('max', np.argmax)
amin = _extreme('min', np.argmin)


def cumsum(a, axis=None, dtype=None, out=None):
    _no_out(out)
    _check('cumsum', dtype, {})
    av, ai = operand(a)
    av = np.asarray(av)
    y = np.cumsum(av, axis=axis)
    shape = av.shape
    if axis is None:
        return emit(y, [(ai, lambda G: np.flip(np.cumsum(np.flip(G.ravel()))).reshape(shape))])
    return emit(y, [(ai, lambda G: np.flip(np.cumsum(np.flip(G, axis), axis), axis))])


def var(a, axis=None, dtype=None, out=None, ddof=0, keepdims=False, **kw):
    _no_out(out)
    _check('var', dtype, kw)
    av, _ = operand(a)
    av = np.asarray(av)
    axes = _axes(axis, av.ndim)
    n = av.size if axes is None else int(np.prod([av.shape[d] for d in axes]))
    d = UFUNC_IMPL['subtract'](a, mean(a, axis=axes, keepdims=True))
    s = sum_(UFUNC_IMPL['multiply'](d, d), axis=axes, keepdims=keepdims)
    return UFUNC_IMPL['divide'](s, float(max(n - ddof, 0)))


def std(a, axis=None, dtype=None, out=None, ddof=0, keepdims=False, **kw):
    # std' = 0 where std == 0 (adjit's convention, as norm'(0) = 0): one element per reduced
    # axis gives a constant 0.  The inner where keeps sqrt's derivative finite.
    v = var(a, axis, dtype, out, ddof, keepdims, **kw)
    where = FUNC_BY_NAME['where']
    pos = np.asarray(values(v)) > 0
    return where(pos, UFUNC_IMPL['sqrt'](where(pos, v, 1.0)), 0.0)


def average(a, axis=None, weights=None, returned=False, keepdims=False):
    if weights is None:
        r = mean(a, axis=axis, keepdims=keepdims)
        wsum = np.size(values(a)) / max(np.size(values(r)), 1)
    else:
        wsum = sum_(weights, axis=axis, keepdims=keepdims) if is_tape(weights) else \
            np.sum(np.broadcast_to(weights, np.shape(values(a))), axis=axis, keepdims=keepdims)
        r = UFUNC_IMPL['divide'](sum_(UFUNC_IMPL['multiply'](a, weights), axis=axis,
                                      keepdims=keepdims), wsum)
    return (r, wsum) if returned else r


def trace(a, offset=0, axis1=0, axis2=1, dtype=None, out=None):
    _no_out(out)
    return sum_(structural(np.diagonal)(a, offset, axis1, axis2), axis=-1)


# -- linear algebra ------------------------------------------------------------------------

def matmul(a, b, out=None, **kw):
    _no_out(out)
    if kw:
        raise AdjitError(f'numpy.matmul: arguments {sorted(kw)} are not supported by adjit.tape')
    av, ai = operand(a)
    bv, bi = operand(b)
    av = np.asarray(av, dtype=F64)
    bv = np.asarray(bv, dtype=F64)
    y = np.matmul(av, bv)
    a1 = av.ndim == 1
    b1 = bv.ndim == 1
    # the backward pass reads the operands: keep them copy-on-write (see core.keep); a plain
    # NumPy operand is never seen by before_write, so it is copied now (see _times)
    if bi is not None and isinstance(a, np.ndarray) and np.shares_memory(av, a):
        av = av.copy()
    if ai is not None and isinstance(b, np.ndarray) and np.shares_memory(bv, b):
        bv = bv.copy()
    cA = keep(av[None, :] if a1 else av) if bi is not None else None
    cB = keep(bv[:, None] if b1 else bv) if ai is not None else None

    def grow(G):
        G = np.asarray(G)
        if a1:
            G = np.expand_dims(G, -2 if not b1 else 0)
        if b1:
            G = np.expand_dims(G, -1)
        return G

    def vjp_a(G):
        g = grow(G) @ np.swapaxes(cB.a, -1, -2)
        if a1:
            g = g[..., 0, :]
        return unbroadcast(g, av.shape)

    def vjp_b(G):
        g = np.swapaxes(cA.a, -1, -2) @ grow(G)
        if b1:
            g = g[..., :, 0]
        return unbroadcast(g, bv.shape)
    return emit(y, [(ai, vjp_a), (bi, vjp_b)])


def dot(a, b, out=None):
    _no_out(out)
    na, nb = np.ndim(values(a)), np.ndim(values(b))
    if na == 0 or nb == 0:
        return UFUNC_IMPL['multiply'](a, b)
    if na > 2 or nb > 2:
        raise AdjitError('numpy.dot of arrays with more than 2 dimensions is not supported by '
                         'adjit.tape; use np.matmul or np.einsum-free code')
    return matmul(a, b)


def vdot(a, b):
    return matmul(structural(np.ravel)(a), structural(np.ravel)(b))


def inner(a, b):
    if np.ndim(values(a)) > 1 or np.ndim(values(b)) > 1:
        raise AdjitError('numpy.inner of arrays with more than 1 dimension is not supported by '
                         'adjit.tape')
    return dot(a, b)


def outer(a, b, out=None):
    _no_out(out)
    ra = structural(np.ravel)(a)
    rb = structural(np.ravel)(b)
    return UFUNC_IMPL['multiply'](structural(np.reshape)(ra, (-1, 1)),
                                  structural(np.reshape)(rb, (1, -1)))


def norm(x, ord=None, axis=None, keepdims=False):
    xv, _ = operand(x)
    nd = np.ndim(xv) if axis is None else (1 if isinstance(axis, int) else len(axis))
    if ord is None or ord == 'fro' or (ord == 2 and nd == 1):
        squares = sum_(UFUNC_IMPL['multiply'](x, x), axis=axis, keepdims=keepdims)
        if axis is None and not keepdims and float(np.sum(np.asarray(xv) ** 2)) == 0.0:
            # norm'(0) = 0, adjit's convention (sqrt'(0) * 0 would be nan): the value 0, no derivative
            return UFUNC_IMPL['multiply'](squares, 0.0)
        return UFUNC_IMPL['sqrt'](squares)
    if nd == 1:
        ab = UFUNC_IMPL['absolute'](x)
        if ord == np.inf:
            return amax(ab, axis=axis, keepdims=keepdims)
        if ord == -np.inf:
            return amin(ab, axis=axis, keepdims=keepdims)
        if ord == 1:
            return sum_(ab, axis=axis, keepdims=keepdims)
        if isinstance(ord, (int, float)) and ord not in (0,):
            p = float(ord)
            return UFUNC_IMPL['power'](sum_(UFUNC_IMPL['power'](ab, p), axis=axis,
                                            keepdims=keepdims), 1.0 / p)
    if nd == 2 and ord in (1, -1, np.inf, -np.inf):
        ax = (0, 1) if axis is None else tuple(a % np.ndim(xv) for a in axis)
        summed, other = (ax[0], ax[1]) if abs(ord) == 1 else (ax[1], ax[0])
        sums = sum_(UFUNC_IMPL['absolute'](x), axis=summed, keepdims=True)
        best = (amax if ord > 0 else amin)(sums, axis=other, keepdims=True)
        return best if keepdims else sum_(best, axis=ax)   # (a sum over the two length-1 axes drops them)
    raise AdjitError(f'numpy.linalg.norm with ord={ord!r} on {nd}-d input is not supported by '
                     'adjit.tape')


# -- creation ------------------------------------------------------------------------------

def _is_f64(dtype):
    return dtype is None or np.dtype(dtype) == F64


def array(obj, dtype=None, *, copy=True, order='K', subok=False, ndmin=0, like=None):
    if type(obj) is TapeArray or type(obj) is Var or has_tape(obj):
        if not _is_f64(dtype):
            d = np.dtype(dtype)
            if d.kind in 'biu':
                return np.array(values(obj), dtype=d, ndmin=ndmin)
            raise AdjitTypeError(f'adjit.tape cannot make a {d} array of tape values')
        if type(obj) is Var:
            return obj if ndmin == 0 else from_nested(obj, ndmin)
        if type(obj) is TapeArray:
            r = TapeArray(obj.val.copy(), obj.idx.copy()) if copy else obj
        else:
            r = from_nested(obj)
        if ndmin > r.ndim:
            r = r.reshape((1,) * (ndmin - r.ndim) + r.shape)
        return r
    return wrap_float(np.array(obj, dtype=dtype, copy=copy, order=order, subok=subok,
                               ndmin=ndmin))


def asarray(obj, dtype=None, order=None, **kw):
    if type(obj) is TapeArray and _is_f64(dtype):
        return obj
    if type(obj) is np.ndarray:
        return np.asarray(obj, dtype=dtype, order=order, **kw)
    return array(obj, dtype=dtype, copy=None)


def _creator(fill):
    def impl(shape, dtype=float, order='C', **kw):
        nd = 1 if isinstance(shape, (int, np.integer)) else len(shape)
        if _is_f64(dtype) and nd:
            v = np.full(shape, fill, dtype=F64, order=order)
            return TapeArray(v, np.zeros(v.shape, INTP))
        return np.full(shape, fill, dtype=dtype, order=order)
    return impl


zeros = _creator(0.0)
ones = _creator(1.0)
empty = _creator(0.0)


def full(shape, fill_value, dtype=None, order='C', **kw):
    if has_tape(fill_value) and _is_f64(dtype):
        fv, fi = parts(fill_value)
        v = np.empty(shape, dtype=F64)
        i = np.empty(shape, dtype=INTP)
        v[...] = fv
        i[...] = fi
        return make(v, i)
    return wrap_float(np.full(shape, values(fill_value), dtype=dtype, order=order, **kw))


def _proto(a, dtype, shape):
    shp = np.shape(values(a)) if shape is None else shape
    if dtype is None:
        dtype = F64 if is_tape(a) or has_tape(a) else np.asarray(a).dtype
    return shp, dtype


def zeros_like(a, dtype=None, order='K', subok=True, shape=None):
    shp, dt = _proto(a, dtype, shape)
    return full(shp, 0.0, dtype=dt)


def ones_like(a, dtype=None, order='K', subok=True, shape=None):
    shp, dt = _proto(a, dtype, shape)
    return full(shp, 1.0, dtype=dt)


empty_like = zeros_like


def full_like(a, fill_value, dtype=None, order='K', subok=True, shape=None):
    shp, dt = _proto(a, dtype, shape)
    return full(shp, fill_value, dtype=dt)


def linspace(start, stop, num=50, endpoint=True, retstep=False, dtype=None, axis=0):
    if not (is_tape(start) or is_tape(stop)):
        r = np.linspace(values(start), values(stop), num, endpoint, retstep, dtype, axis)
        return (wrap_float(r[0]), r[1]) if retstep else wrap_float(r)
    if np.ndim(values(start)) or np.ndim(values(stop)) or axis != 0 or not _is_f64(dtype):
        raise AdjitError('numpy.linspace with tape values supports scalar start/stop only')
    t = np.linspace(0.0, 1.0, num, endpoint)
    span = UFUNC_IMPL['subtract'](stop, start)
    r = UFUNC_IMPL['add'](start, UFUNC_IMPL['multiply'](span, t))
    if retstep:
        return r, UFUNC_IMPL['divide'](span, float(max(num - 1 if endpoint else num, 1)))
    return r
