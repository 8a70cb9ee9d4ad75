"""The tape (a Wengert list), tape scalars, and the backward sweep.

Scalar nodes
------------
Every scalar operation appends one entry ``(a, da, b, db)`` to the flat list ``_ent``: the
node ids of its (at most two) parents and the partial derivatives of its result with
respect to them, computed during the forward run.  A one-parent operation uses parent ``0``
with partial ``0.0``; node 0 is a sink whose adjoint is never read, so the backward loop needs
no branch.  A scalar node's id is its position in ``_ent``; adjoints live in a Python list
of the same length.

Array nodes
-----------
Every element of every tape array has a node id of its own (0 for a constant), so reading
``a[i]`` records nothing and overwriting ``a[i] = v`` just replaces the stored id: later reads
see ``v``'s node and earlier reads keep theirs, so overwrites are exact.

* The elements of a differentiated input array are ordinary scalar ids (leaf entries).
* The result of an array-valued rule (``np.exp(x)``, ``W @ x``, ``np.sum``...) is a
  :class:`Block`: its ``n`` elements get ids ``HIGH + k`` in a separate id space, with no
  entry in ``_ent``; their adjoints accumulate in a NumPy buffer.  When scalar code reads such
  an element, a *proxy* scalar node is made for it and the block collects the proxy's
  adjoint when the backward pass reaches it.  So vectorised code costs NumPy work only, and
  scalar loops cost one list entry per operation.

Backward
--------
The sweep walks scalar nodes from the output down with a tight loop
(``adj[a] += g * da; adj[b] += g * db``).  Each block was created at a position in that order
(``pos``); when the sweep gets there, the block gathers its output adjoint and scatters the
vector-Jacobian products of its rule into its parents (scalar ids, input arrays, or other
blocks' buffers).

In-place writes
---------------
A vector rule that needs an operand's (or its result's) values in the backward pass and
would otherwise hold the live buffer of a tape array keeps it in a :class:`Cell` (see
:func:`keep`), registered under the buffer's root (the ndarray that owns the memory, so
views share it).  Every in-place write into a tape array (``a[k] = v``, ``a += b``,
``a.sort()``, ``out=``) first calls :func:`before_write`, which gives the cells of that root
private copies of the values they saw: copy-on-write, paid only by writes into buffers that
a recorded operation still reads.  The write itself then goes into the shared buffer, so
other names and views of the array see it, as in NumPy.  Writes into plain NumPy arrays (an
int or bool array, a global) cannot be seen by the tape, so a rule that reads a plain operand
copies it when it is recorded (see ``arrays._times``).  The caller's arrays are never written:
:mod:`adjit.tape.api` hands the function copies of every array argument (float64 ones as
tape arrays), keeping the memory they share with each other.
"""

import bisect
import math
from itertools import repeat

import numpy as np

from ..errors import AdjitError, AdjitTypeError
from . import rules

LEAF = (0, 0.0, 0, 0.0)
HIGH = 1 << 40         # block element ids start here; scalar ids stay below

_ent = [LEAF]          # the Wengert list; persistent object, cleared between gradients
_blocks = []           # Block records, in creation order
_bstarts = []          # their first element ids (increasing), for bisection
_inputs = []           # Input records (differentiated arrays), ids increasing
_istarts = []
_state = {'next': HIGH, 'base': 1}
_captures = {}         # id(root buffer) -> (root buffer, [Cell]): values rules still read


def reset():
    """Empty the tape (node 0, the sink, stays)."""
    del _ent[1:]
    del _blocks[:]
    del _bstarts[:]
    del _inputs[:]
    del _istarts[:]
    _state['next'] = HIGH
    _state['base'] = 1
    _captures.clear()


class Cell:
    """An ndarray ``a`` a backward rule reads; replaced by a private copy before the buffer
    it lives in is written in place (see :func:`before_write`)."""

    __slots__ = ('a',)

    def __init__(self, a):
        self.a = a


def _root(a):
    """The object owning ``a``'s memory (``a`` itself if it owns it)."""
    r = a.base
    if r is None:
        return a
    while True:
        b = getattr(r, 'base', None)
        if b is None:
            return r
        r = b


def keep(a):
    """A Cell holding ndarray ``a`` for the backward pass, protected against later writes."""
    c = Cell(a)
    r = _root(a)
    e = _captures.get(id(r))
    if e is None:
        _captures[id(r)] = (r, [c])
    else:
        e[1].append(c)
    return c


def before_write(a):
    """Call before writing into ndarray ``a`` in place: the cells reading its buffer (or any
    view of it) get private copies of their current values."""
    e = _captures.pop(id(_root(a)), None)
    if e is None:
        return
    copies = {}
    for c in e[1]:
        old = c.a
        k = id(old)
        got = copies.get(k)
        if got is None:
            got = copies[k] = (old, old.copy())
        c.a = got[1]


def new_leaf():
    i = len(_ent)
    _ent.append(LEAF)
    return i


def seal_inputs():
    """All arguments are on the tape: the backward sweep stops above their leaf entries."""
    _state['base'] = len(_ent)


# Set by adjit.tape.arrays (which imports this module): vectorised binary op, array type.
_array_binary = None
_array_type = None


def _float_error(what):
    return AdjitError(
        f"a tape {what} was converted to a plain Python float, which would silently drop its "
        "derivative",
        hint="this happens when a tape value is stored into a plain NumPy array (create arrays "
             "with np.zeros/np.array inside the differentiated function), or passed to a math "
             "or NumPy function adjit.tape did not swap (a module it cannot see), or formatted "
             "with '%f'; use f-strings for printing")


class Var:
    """A tape scalar: a float value ``v`` and the index ``i`` of the node that produced it."""

    __slots__ = ('v', 'i')
    __array_ufunc__ = None          # NumPy defers to our reflected operators

    def __init__(self, v, i):
        self.v = v
        self.i = i

    @property
    def value(self):
        return self.v

    # -- arithmetic: fast paths for Var and Python float/int, everything else in _slow ----

    def __add__(self, o):
        t = type(o)
        if t is Var:
            i = len(_ent)
            _ent.append((self.i, 1.0, o.i, 1.0))
            return Var(self.v + o.v, i)
        if t is float or t is int:
            return Var(self.v + o, self.i)          # x + c shares x's node (partial 1)
        return _slow(self, o, '__add__', 'add', False)

    def __radd__(self, o):
        t = type(o)
        if t is float or t is int:
            return Var(o + self.v, self.i)
        return _slow(self, o, '__radd__', 'add', True)

    def __sub__(self, o):
        t = type(o)
        if t is Var:
            i = len(_ent)
            _ent.append((self.i, 1.0, o.i, -1.0))
            return Var(self.v - o.v, i)
        if t is float or t is int:
            return Var(self.v - o, self.i)
        return _slow(self, o, '__sub__', 'subtract', False)

    def __rsub__(self, o):
        t = type(o)
        if t is float or t is int:
            i = len(_ent)
            _ent.append((self.i, -1.0, 0, 0.0))
            return Var(o - self.v, i)
        return _slow(self, o, '__rsub__', 'subtract', True)

    def __mul__(self, o):
        t = type(o)
        if t is Var:
            i = len(_ent)
            _ent.append((self.i, o.v, o.i, self.v))
            return Var(self.v * o.v, i)
        if t is float or t is int:
            i = len(_ent)
            _ent.append((self.i, o, 0, 0.0))
            return Var(self.v * o, i)
        return _slow(self, o, '__mul__', 'multiply', False)

    def __rmul__(self, o):
        t = type(o)
        if t is float or t is int:
            i = len(_ent)
            _ent.append((self.i, o, 0, 0.0))
            return Var(o * self.v, i)
        return _slow(self, o, '__rmul__', 'multiply', True)

    def __truediv__(self, o):
        t = type(o)
        if t is Var:
            b = o.v
            y = self.v / b
            i = len(_ent)
            _ent.append((self.i, 1.0 / b, o.i, -y / b))
            return Var(y, i)
        if t is float or t is int:
            y = self.v / o
            i = len(_ent)
            _ent.append((self.i, 1.0 / o, 0, 0.0))
            return Var(y, i)
        return _slow(self, o, '__truediv__', 'divide', False)

    def __rtruediv__(self, o):
        t = type(o)
        if t is float or t is int:
            b = self.v
            y = o / b
            i = len(_ent)
            _ent.append((self.i, -y / b, 0, 0.0))
            return Var(y, i)
        return _slow(self, o, '__rtruediv__', 'divide', True)

    def __pow__(self, o, mod=None):
        if mod is not None:
            return NotImplemented
        t = type(o)
        if t is float or t is int:
            v = self.v
            y = v ** o
            if type(y) is complex:
                raise _complex_error(v, o)
            if o == 2:
                d = 2.0 * v
            elif o == 0:
                return y                            # x ** 0 == 1, a constant
            else:
                try:
                    d = o * v ** (o - 1)
                except ZeroDivisionError:           # 0 ** (o - 1) with 0 < o < 1
                    d = math.inf
            i = len(_ent)
            _ent.append((self.i, d, 0, 0.0))
            return Var(y, i)
        if t is Var:
            return _pow2(self, o)
        return _slow(self, o, '__pow__', 'power', False)

    def __rpow__(self, o, mod=None):
        if mod is not None:
            return NotImplemented
        t = type(o)
        if t is float or t is int:
            return _pow2(o, self)
        return _slow(self, o, '__rpow__', 'power', True)

    def __floordiv__(self, o):                      # piecewise constant: a constant result
        return self.v // (o.v if type(o) is Var else o)

    def __rfloordiv__(self, o):
        return o // self.v

    def __mod__(self, o):
        t = type(o)
        if t is Var:
            a, b = self.v, o.v
            y = a % b
            i = len(_ent)
            _ent.append((self.i, 1.0, o.i, -float(a // b)))
            return Var(y, i)
        if t is float or t is int:
            return Var(self.v % o, self.i)          # x % c: partial 1, shares x's node
        return _slow(self, o, '__mod__', 'mod', False)

    def __rmod__(self, o):
        t = type(o)
        if t is float or t is int:
            b = self.v
            y = o % b
            i = len(_ent)
            _ent.append((self.i, -float(o // b), 0, 0.0))
            return Var(y, i)
        return _slow(self, o, '__rmod__', 'mod', True)

    def __divmod__(self, o):
        return self // o, self % o

    def __rdivmod__(self, o):
        return o // self, o % self

    def __neg__(self):
        i = len(_ent)
        _ent.append((self.i, -1.0, 0, 0.0))
        return Var(-self.v, i)

    def __pos__(self):
        return self

    def __abs__(self):
        v = self.v
        if v > 0:
            return self
        if v < 0:
            return -self
        if v == 0:
            return 0.0                              # abs'(0) = 0: a constant
        i = len(_ent)                               # nan
        _ent.append((self.i, math.nan, 0, 0.0))
        return Var(v, i)

    # -- comparisons give plain bools, so `if x > 0:` works; zero derivative --------------

    def __lt__(self, o):
        return self.v < (o.v if type(o) is Var else o)

    def __le__(self, o):
        return self.v <= (o.v if type(o) is Var else o)

    def __gt__(self, o):
        return self.v > (o.v if type(o) is Var else o)

    def __ge__(self, o):
        return self.v >= (o.v if type(o) is Var else o)

    def __eq__(self, o):
        return self.v == (o.v if type(o) is Var else o)

    def __ne__(self, o):
        return self.v != (o.v if type(o) is Var else o)

    def __hash__(self):
        return hash(self.v)

    def __bool__(self):
        return self.v != 0.0

    # -- conversions ------------------------------------------------------------------------

    def __int__(self):                              # int() has zero derivative (convention)
        return int(self.v)

    def __trunc__(self):
        return math.trunc(self.v)

    def __floor__(self):
        return math.floor(self.v)

    def __ceil__(self):
        return math.ceil(self.v)

    def __round__(self, ndigits=None):
        return round(self.v, ndigits)

    def is_integer(self):
        return self.v.is_integer()

    def __float__(self):
        raise _float_error('scalar')

    def __complex__(self):
        raise _float_error('scalar')

    def __array__(self, dtype=None, copy=None):
        raise AdjitError(
            "a tape scalar was passed to a NumPy function adjit.tape does not support (or to "
            "NumPy through a module it did not swap); its derivative would be lost")

    def __format__(self, spec):
        return format(self.v, spec)

    def __repr__(self):
        return f'Var({self.v!r})'

    __str__ = __repr__


def _complex_error(a, b):
    return AdjitTypeError(
        f"{a!r} ** {b!r} is a complex number; adjit.tape differentiates real functions only")


def _pow2(a, b):
    """a ** b where b is a Var and a is a Var or a number."""
    ta = type(a) is Var
    x1 = a.v if ta else a
    x2 = b.v
    y = x1 ** x2
    if type(y) is complex:
        raise _complex_error(x1, x2)
    d1 = 0.0
    if ta:
        try:
            d1 = rules._powdx(x1, x2)
        except ZeroDivisionError:
            d1 = math.inf
        if type(d1) is complex:
            d1 = math.nan
    d2 = rules._powdy(x1, y)
    i = len(_ent)
    _ent.append((a.i if ta else 0, d1, b.i, d2))
    return Var(y, i)


_NUMBER = (int, float, np.integer, np.floating, np.bool_)


def _slow(a, o, meth, npname, reflected):
    """Operator fallback: NumPy scalars and bools become floats; plain arrays go vectorised."""
    if isinstance(o, _NUMBER):
        return getattr(a, meth)(float(o))
    if isinstance(o, np.ndarray):
        return _array_binary(npname, o, a) if reflected else _array_binary(npname, a, o)
    return NotImplemented


# -- generated scalar primitives -----------------------------------------------------------

_UNARY_TEMPLATE = '''
def _generated(arg):
    if type(arg) is Var:
        x = arg.v
{forward}
        try:
            d = {expr}
        except (ArithmeticError, ValueError):
            d = _dslow(x, y)
        i = len(_ent)
        _ent.append((arg.i, d, 0, 0.0))
        return Var(y, i)
    return _other(arg)
'''

_BINARY_TEMPLATE = '''
def _generated(a, b):
    ta = type(a) is Var
    tb = type(b) is Var
    if (ta or tb) and (ta or type(a) is float or type(a) is int) and \\
            (tb or type(b) is float or type(b) is int):
        x1 = a.v if ta else a
        x2 = b.v if tb else b
{forward}
        try:
            d1 = ({expr1}) if ta else 0.0
            d2 = ({expr2}) if tb else 0.0
        except (ArithmeticError, ValueError):
            d1, d2 = _dslow(x1, x2, y, ta, tb)
        i = len(_ent)
        _ent.append((a.i if ta else 0, d1, b.i if tb else 0, d2))
        return Var(y, i)
    return _other(a, b)
'''

# math semantics: domain errors raise, as in plain Python
_FWD_STRICT = '''        y = _f({args})'''
_FWD_LENIENT = '''        try:
            y = _f({args})
        except (ArithmeticError, ValueError):
            y = _fnp({args})'''                # NumPy semantics: nan/inf and a RuntimeWarning


def _quiet_float(fn, *args):
    with np.errstate(all='ignore'):
        return float(fn(*(np.float64(a) for a in args)))


def make_unary(name, expr, f, other, fnp=None):
    """Generate the tape-scalar version of a one-argument primitive.

    ``f`` computes the value with math; ``fnp`` (NumPy semantics only) is used when ``f``
    raises; ``other(x)`` handles any argument that is not a tape scalar.
    """
    dnp = eval('lambda x, y: ' + expr, dict(rules.ARRAY_NS))
    ns = dict(rules.SCALAR_NS, Var=Var, _ent=_ent, _f=f, _other=other,
              _dslow=lambda v, y: _quiet_float(dnp, v, y))
    if fnp is not None:
        ns['_fnp'] = lambda v: float(fnp(np.float64(v)))
    forward = (_FWD_LENIENT if fnp is not None else _FWD_STRICT).format(args='x')
    exec(_UNARY_TEMPLATE.format(forward=forward, expr=expr), ns)
    return _named(ns['_generated'], name)


def make_binary(name, expr1, expr2, f, other, fnp=None):
    """Generate the tape-scalar version of a two-argument primitive (see make_unary)."""
    d1np = eval('lambda x1, x2, y: ' + expr1, dict(rules.ARRAY_NS))
    d2np = eval('lambda x1, x2, y: ' + expr2, dict(rules.ARRAY_NS))

    def dslow(x1, x2, y, ta, tb):
        return (_quiet_float(d1np, x1, x2, y) if ta else 0.0,
                _quiet_float(d2np, x1, x2, y) if tb else 0.0)

    ns = dict(rules.SCALAR_NS, Var=Var, _ent=_ent, _f=f, _other=other, _dslow=dslow)
    if fnp is not None:
        ns['_fnp'] = lambda a, b: float(fnp(np.float64(a), np.float64(b)))
    forward = (_FWD_LENIENT if fnp is not None else _FWD_STRICT).format(args='x1, x2')
    exec(_BINARY_TEMPLATE.format(forward=forward, expr1=expr1, expr2=expr2), ns)
    return _named(ns['_generated'], name)


def _named(fn, name):
    fn.__name__ = fn.__qualname__ = name
    return fn


# -- array nodes --------------------------------------------------------------------------

class Input:
    """A differentiated array argument: leaf scalar ids ``p .. p+n-1`` and a NumPy buffer
    ``g`` for adjoint contributions that vector rules deposit as arrays."""

    __slots__ = ('p', 'n', 'shape', 'g')

    def __init__(self, p, n, shape):
        self.p = p
        self.n = n
        self.shape = shape
        self.g = None

    def adjoint(self, adj):
        """The accumulated adjoint (flat ndarray), or None if zero."""
        p, n = self.p, self.n
        s = adj[p:p + n]
        g = self.g
        if s.count(0.0) != n:                       # (count is much faster than any)
            a = np.array(s)
            return a if g is None else g + a
        return g


def add_input(shape):
    n = int(np.prod(shape))
    p = len(_ent)
    _ent.extend(repeat(LEAF, n))
    rec = Input(p, n, shape)
    _inputs.append(rec)
    _istarts.append(p)
    return rec


class Block:
    """The array result of a vector rule: element ids ``start .. start+n-1`` (>= HIGH).

    ``parents`` is a list of ``(kind, target, vjp)``: ``vjp(G)`` maps the block's output
    adjoint (shaped like the result) to the parent's adjoint contribution (shaped like the
    parent).  kind 0: the parent is the scalar node ``target``; kind 1: a contiguous run
    ``target = (start, m)`` of ids in C order; kind 2: ``target = (ids, mask)``, the parent's
    nonzero ids and which flat positions they sit at.  ``g`` accumulates the block's output
    adjoint; ``proxies`` are the ``(scalar id, offset)`` of elements read by scalar code;
    ``pos`` is the scalar position at which the block was created.
    """

    __slots__ = ('start', 'n', 'shape', 'parents', 'g', 'pos', 'proxies')

    def __init__(self, start, n, shape, parents, pos):
        self.start = start
        self.n = n
        self.shape = shape
        self.parents = parents
        self.g = None
        self.pos = pos
        self.proxies = None

    def run(self, adj):
        g = self.g
        if self.proxies:
            pids, offs = zip(*self.proxies)
            vals = [adj[p] for p in pids]
            if any(vals):
                if g is None:
                    g = np.zeros(self.n)
                np.add.at(g, np.array(offs, dtype=np.intp), vals)
        if g is None:
            return
        G = g.reshape(self.shape)
        for kind, target, vjp in self.parents:
            _deposit(adj, kind, target, vjp(G))


def add_block(shape, parents):
    n = 1
    for s in shape:
        n *= s
    start = _state['next']
    _state['next'] = start + max(n, 1)
    blk = Block(start, n, shape, parents, len(_ent))
    _blocks.append(blk)
    _bstarts.append(start)
    return blk


def proxy(i):
    """A scalar node standing for block element ``i`` (read by scalar code)."""
    b = _blocks[bisect.bisect_right(_bstarts, i) - 1]
    pid = len(_ent)
    _ent.append(LEAF)
    if b.proxies is None:
        b.proxies = []
    b.proxies.append((pid, i - b.start))
    return pid


def _buffer_add(rec, off, flat):
    m = flat.size
    if rec.g is None:
        if off == 0 and m == rec.n:
            rec.g = np.array(flat, dtype=np.float64)
            return
        rec.g = np.zeros(rec.n)
    rec.g[off:off + m] += flat


def _deposit(adj, kind, target, gp):
    if kind == 0:
        if target < _state['base'] and _istarts:    # an element of an input array: its buffer
            j = bisect.bisect_right(_istarts, target) - 1
            if j >= 0:
                r = _inputs[j]
                if target < r.p + r.n:
                    if r.g is None:
                        r.g = np.zeros(r.n)
                    r.g[target - r.p] += np.sum(gp)
                    return
        adj[target] += float(np.sum(gp))
        return
    flat = np.ravel(gp)
    if kind == 1:
        s, m = target
        if s >= HIGH:
            j = bisect.bisect_right(_bstarts, s) - 1
            b = _blocks[j]
            if s + m <= b.start + b.n:              # inside one block's buffer
                _buffer_add(b, s - b.start, flat)
                return
        else:
            j = bisect.bisect_right(_istarts, s) - 1
            if j >= 0:
                r = _inputs[j]
                if s + m <= r.p + r.n:              # inside one input array's buffer
                    _buffer_add(r, s - r.p, flat)
                    return
            if s + m <= HIGH:
                adj[s:s + m] = (np.array(adj[s:s + m]) + flat).tolist()
                return
        scatter(adj, np.arange(s, s + m), flat)
        return
    ids, mask = target
    if mask is not None:
        flat = flat[mask]
    scatter(adj, ids, flat)


def scatter(adj, ids, g):
    """Add g[k] to the adjoint of node ids[k] for all k (ids may repeat, nonzero)."""
    high = ids >= HIGH
    if high.any():
        if high.all():
            hid, hg = ids, g
        else:
            hid, hg = ids[high], g[high]
            low = ~high
            ids, g = ids[low], g[low]
        j = np.searchsorted(np.asarray(_bstarts), hid, 'right') - 1
        for b in np.unique(j).tolist():
            blk = _blocks[b]
            sel = j == b
            acc = np.bincount(hid[sel] - blk.start, weights=hg[sel], minlength=blk.n)
            _buffer_add(blk, 0, acc)
        if high.all():
            return
    m = ids.size
    if m > 32:
        lo = int(ids.min())
        hi = int(ids.max())
        span = hi - lo + 1
        if span <= 4 * m + 1024:
            acc = np.bincount(ids - lo, weights=g, minlength=span)
            adj[lo:hi + 1] = (np.array(adj[lo:hi + 1]) + acc).tolist()
            return
    for k, gk in zip(ids.tolist(), g.tolist()):
        adj[k] += gk


def target_of(idx):
    """Describe the parent with node-id array ``idx`` for Block.parents (None: constant).

    The description is a snapshot: later writes into the array do not change it.
    """
    r = idx.ravel()
    m = r.size
    if m == 0:
        return None
    s = int(r[0])
    if s > 0 and int(r[-1]) == s + m - 1 and (m <= 2 or np.array_equal(r, np.arange(s, s + m))):
        return 1, (s, m)
    nz = r != 0
    if nz.all():
        return 2, (r.copy(), None)
    if not nz.any():
        return None
    return 2, (r[nz], nz)


# -- backward sweep ------------------------------------------------------------------------

def _sweep(adj, ent, hi, lo):
    for k in range(hi, lo - 1, -1):
        g = adj[k]
        if g:
            a, da, b, db = ent[k]
            adj[a] += g * da
            adj[b] += g * db


def backward(out):
    """Run the reverse sweep from scalar node ``out`` (seeded with 1); return the adjoints."""
    ent = _ent
    adj = [0.0] * len(ent)
    adj[out] = 1.0
    hi = out
    for blk in reversed(_blocks):
        pos = blk.pos
        if pos > out:                               # created after the output: no influence
            continue
        _sweep(adj, ent, hi, pos)
        blk.run(adj)
        hi = pos - 1
    _sweep(adj, ent, hi, _state['base'])
    return adj
