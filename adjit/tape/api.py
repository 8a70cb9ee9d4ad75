"""``grad`` and ``value_and_grad`` of the tape engine."""

import functools
import threading

import numpy as np

from ..errors import AdjitTypeError, GradientError
from . import core
from .arrays import TapeArray
from .core import Var
from .swap import swap_callable

_lock = threading.Lock()
_local = threading.local()


def _check_argnums(argnums):
    ok = (isinstance(argnums, int) and not isinstance(argnums, bool)) or (
        isinstance(argnums, tuple) and len(argnums) > 0 and
        all(isinstance(k, int) and not isinstance(k, bool) for k in argnums))
    if not ok:
        raise GradientError(f'argnums must be an int or a non-empty tuple of ints, not {argnums!r}')


def _normalize_argnums(argnums, nargs, fname):
    single = isinstance(argnums, int)
    nums = (argnums,) if single else argnums
    out = []
    for k in nums:
        if not -nargs <= k < nargs:
            raise GradientError(
                f'argnums={argnums!r} is out of range: {fname} was called with {nargs} '
                f'positional argument(s)')
        out.append(k % nargs)
    if len(set(out)) != len(out):
        raise GradientError(f'argnums={argnums!r} names an argument twice')
    return single, out


def _describe(f, k):
    code = getattr(f, '__code__', None) or getattr(getattr(f, '__func__', None), '__code__', None)
    if code is not None:
        names = code.co_varnames[:code.co_argcount]
        if getattr(f, '__self__', None) is not None:
            names = names[1:]
        if k < len(names):
            return f'argument {k} ({names[k]!r})'
    return f'argument {k}'


def _make_leaf(a, desc, arrays):
    """The tape version of a differentiated argument, and how to read its gradient back."""
    t = type(a)
    if t is bool or isinstance(a, np.bool_):
        raise AdjitTypeError(f'cannot differentiate with respect to {desc}: it is a bool')
    if isinstance(a, (int, np.integer)):
        raise AdjitTypeError(f'cannot differentiate with respect to {desc}: it is an int',
                             hint='pass a float (e.g. 3.0) to differentiate with respect to it')
    if isinstance(a, float):
        i = core.new_leaf()
        return Var(float(a), i), ('s', i)
    if isinstance(a, np.ndarray):
        if a.dtype != np.float64:
            raise AdjitTypeError(f'cannot differentiate with respect to {desc}: it is a '
                                 f'{a.dtype} array; adjit.tape differentiates float64 arrays',
                                 hint='convert it with a.astype(np.float64)')
        if a.ndim == 0:
            raise AdjitTypeError(f'cannot differentiate with respect to {desc}: it is a 0-d '
                                 'array', hint='pass float(a) instead')
        return arrays.leaf(a)
    if t in (tuple, list):  # a parameter tuple (or list): its gradient has the same structure
        leaves, specs = [], []
        for k, e in enumerate(a):
            leaf, spec = _make_leaf(e, f'{desc}[{k}]', arrays)
            leaves.append(leaf)
            specs.append(spec)
        return t(leaves), ('t' if t is tuple else 'l', specs)
    raise AdjitTypeError(f'cannot differentiate with respect to {desc}: adjit.tape does not '
                         f'support arguments of type {t.__name__}',
                         hint='differentiable arguments are floats, float64 arrays and tuples '
                              'and lists of them')


def _array_leaves(a, desc, diff, out):
    if isinstance(a, np.ndarray):
        out.append((a, desc, diff))
    elif type(a) in (tuple, list):
        for k, e in enumerate(a):
            _array_leaves(e, f'{desc}[{k}]', diff, out)


def _overlap(a, b):
    if not np.may_share_memory(a, b):
        return False
    try:
        return bool(np.shares_memory(a, b, max_work=100000))
    except np.exceptions.TooHardError:
        return True


class _Arrays:
    """The tape's private versions of the caller's array arguments.

    Every array argument is copied, so the function never writes into the caller's arrays
    (differentiated ones become tape leaves, other float64 arrays constant tape arrays that
    tape values can be written into, int and bool arrays plain copies).  Memory sharing
    between arguments is kept: the same array passed twice is one copy; arguments that are
    overlapping views of one array become the same views of one copy of it, so a write
    through either name is seen through the other, as in Python.  A differentiated array's
    gradient is then the adjoint of the memory it covers.
    """

    def __init__(self, f, fname, args, nums):
        self.memo = {}          # id(caller's array) -> (tape version, gradient spec or None)
        leaves = []
        for k, a in enumerate(args):
            _array_leaves(a, f'{_describe(f, k)} of {fname}', k in nums, leaves)
        first = {}
        for a, desc, diff in leaves:
            if diff and id(a) in first and first[id(a)][1]:
                raise GradientError(
                    f'{first[id(a)][0]} and {desc} are the same array, and both are '
                    'differentiated: their gradients are not separate',
                    hint='differentiate with respect to one of them, or pass a copy')
            if id(a) not in first or diff:
                first[id(a)] = (desc, diff)
        self.diff = {k: v[1] for k, v in first.items()}
        self.desc = {k: v[0] for k, v in first.items()}
        distinct = {}
        for a, _, _ in leaves:
            distinct.setdefault(id(a), a)
        groups = {}
        for a in distinct.values():
            groups.setdefault(id(core._root(a)), []).append(a)
        for members in groups.values():
            if len(members) > 1 and any(_overlap(members[i], members[j])
                                        for i in range(len(members))
                                        for j in range(i + 1, len(members))):
                self._shared(members)

    def _shared(self, members):
        """Arguments that share memory: views of one private copy of their base."""
        root = core._root(members[0])
        names = ' and '.join(self.desc[id(m)] for m in members)
        if not isinstance(root, np.ndarray) or not root.flags.c_contiguous or \
                any(m.dtype != root.dtype for m in members):
            raise AdjitTypeError(f'{names} share memory in a way adjit.tape cannot reproduce',
                                 hint='pass copies (a.copy()) of arguments that overlap')
        diff = [m for m in members if self.diff[id(m)]]
        if len(diff) > 1:
            raise GradientError(f'{names} share memory and several of them are '
                                'differentiated: their gradients are not separate',
                                hint='differentiate with respect to one of them, or pass '
                                     'copies')
        val = root.copy()
        base = root.__array_interface__['data'][0]
        if root.dtype == np.float64:
            rec = None
            if diff:
                rec = core.add_input(root.shape)
                idx = np.arange(rec.p, rec.p + rec.n, dtype=np.intp).reshape(root.shape)
            else:
                idx = np.zeros(root.shape, np.intp)
        for m in members:
            off = m.__array_interface__['data'][0] - base
            v = np.ndarray(m.shape, m.dtype, buffer=val, offset=off, strides=m.strides)
            spec = None
            if root.dtype == np.float64 and m.ndim > 0:
                i = np.ndarray(m.shape, np.intp, buffer=idx, offset=off, strides=m.strides)
                v = TapeArray(v, i)
                if self.diff[id(m)]:
                    spec = ('v', (rec, off, m.shape, m.strides))
            self.memo[id(m)] = (v, spec)

    def leaf(self, a):
        got = self.memo.get(id(a))
        if got is None:
            rec = core.add_input(a.shape)
            val = np.array(a, dtype=np.float64, order='C')
            idx = np.arange(rec.p, rec.p + rec.n, dtype=np.intp).reshape(a.shape)
            got = self.memo[id(a)] = (TapeArray(val, idx), ('a', rec))
        return got

    def plain(self, a):
        """A non-differentiated argument (arrays copied, see the class docstring)."""
        if isinstance(a, np.ndarray):
            got = self.memo.get(id(a))
            if got is None:
                if self.diff.get(id(a)):            # also passed as a differentiated argument
                    return self.leaf(a)[0]
                c = a.copy()
                if c.dtype == np.float64 and c.ndim > 0:
                    c = TapeArray(c, np.zeros(c.shape, np.intp))
                got = self.memo[id(a)] = (c, None)
            return got[0]
        if type(a) in (tuple, list):
            return type(a)(self.plain(e) for e in a)
        return a


def _check_plain(a, desc):
    """Arguments not differentiated: the types adjit accepts (bool, int, float, arrays, tuples, lists)."""
    if isinstance(a, (bool, int, float, np.bool_, np.integer, np.float64)):
        return
    if isinstance(a, np.ndarray):
        if a.dtype == np.float64 or a.dtype.kind in 'biu':
            return
        raise AdjitTypeError(f'{desc} is a {a.dtype} array, which adjit.tape does not support',
                             hint='use float64 (or integer/bool) arrays')
    if type(a) in (tuple, list):
        for k, e in enumerate(a):
            _check_plain(e, f'{desc}[{k}]')
        return
    raise AdjitTypeError(f'{desc} has type {type(a).__name__}, which adjit.tape does not '
                         'support', hint='arguments are bools, ints, floats, NumPy arrays '
                                         '(float64, integer or bool) and tuples and lists of these')


def _extract(spec, adj):
    kind, what = spec
    if kind == 's':
        return adj[what] if adj is not None else 0.0
    if kind == 'a':
        g = what.adjoint(adj) if adj is not None else None
        if g is None:
            return np.zeros(what.shape)
        return np.asarray(g, dtype=np.float64).reshape(what.shape)
    if kind == 'v':                                 # a view of a shared argument base
        rec, off, shape, strides = what
        g = rec.adjoint(adj) if adj is not None else None
        g = np.zeros(rec.n) if g is None else np.ascontiguousarray(g, dtype=np.float64)
        return np.ndarray(shape, np.float64, buffer=g, offset=off, strides=strides).copy()
    items = [_extract(s, adj) for s in what]
    return items if kind == 'l' else tuple(items)


def _output(out, fname):
    t = type(out)
    if t is Var:
        return out.v, out.i
    if t is bool or isinstance(out, np.bool_):
        raise GradientError(f'{fname} returned a bool; grad needs a float result')
    if isinstance(out, (int, float, np.integer, np.floating)):
        return float(out), 0                        # a constant: every gradient is zero
    if t is TapeArray or isinstance(out, np.ndarray):
        if isinstance(out, np.ndarray) and out.ndim == 0 and out.dtype.kind in 'iuf':
            return float(out), 0
        raise GradientError(f'{fname} returned an array of shape {out.shape}; grad needs a '
                            'scalar result', hint='reduce it first, e.g. return np.sum(...)')
    raise GradientError(f'{fname} returned a {t.__name__}; grad needs a float result')


def _run(f, argnums, args, kwargs):
    if getattr(_local, 'active', False):
        raise GradientError('adjit.tape.grad was called inside a function it is '
                            'differentiating; nested (higher-order) differentiation is not '
                            'supported by the tape engine')
    fname = getattr(f, '__qualname__', None) or getattr(f, '__name__', None) or repr(f)
    single, nums = _normalize_argnums(argnums, len(args), fname)
    for k, a in enumerate(args):
        if k not in nums:
            _check_plain(a, f'{_describe(f, k)} of {fname}')
    for key, a in kwargs.items():
        _check_plain(a, f'keyword argument {key!r} of {fname}')
    fn = swap_callable(f)
    with _lock:
        _local.active = True
        core.reset()
        try:
            arrays = _Arrays(f, fname, args, nums)
            new_args = list(args)
            specs = []
            for k in nums:
                new_args[k], spec = _make_leaf(args[k], f'{_describe(f, k)} of {fname}', arrays)
                specs.append(spec)
            for k, a in enumerate(args):
                if k not in nums:
                    new_args[k] = arrays.plain(a)
            kwargs = {key: arrays.plain(a) for key, a in kwargs.items()}
            core.seal_inputs()
            out = fn(*new_args, **kwargs)
            value, node = _output(out, fname)
            adj = core.backward(node) if node else None
            grads = [_extract(s, adj) for s in specs]
        finally:
            core.reset()
            _local.active = False
    return value, (grads[0] if single else tuple(grads))


def _transform(f, argnums, with_value):
    _check_argnums(argnums)
    if f is None:
        return lambda g: _transform(g, argnums, with_value)
    if not callable(f):
        raise AdjitTypeError(f'grad expects a function, not a {type(f).__name__}')

    @functools.wraps(f)
    def wrapper(*args, **kwargs):
        value, g = _run(f, argnums, args, kwargs)
        return (value, g) if with_value else g
    return wrapper


def grad(f=None, argnums=0):
    """The gradient of ``f`` with respect to argument(s) ``argnums``, by the tape engine.

    ``grad(f)(*args)`` runs ``f`` unmodified (with its ``math``/``numpy`` swapped for
    tape-aware versions), records every operation, and sweeps the record backwards.  It
    returns, for each differentiated argument, a gradient of the same kind: a float for a
    float, a float64 array of the same shape for an array (a tuple when ``argnums`` is a
    tuple).  Usable as ``grad(f)``, ``@grad``, ``grad(f, argnums=1)`` and
    ``@grad(argnums=(0, 2))``.
    """
    return _transform(f, argnums, False)


def value_and_grad(f=None, argnums=0):
    """Like :func:`grad` but returns ``(value, gradient)``, the value as a Python float."""
    return _transform(f, argnums, True)
