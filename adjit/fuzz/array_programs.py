"""Generated programs of adjit's NumPy array subset (issue 6: "array expressions"), their
oracles, and a campaign runner.

    python -m adjit.fuzz.array_programs --programs 300 --seed 1   # NUMBA_DISABLE_JIT=1 for speed

Every program is a module-level function ``def f(x, A, s):`` with ``x`` a float64 1-D
array of length ``nx`` (3..5), ``A`` a float64 2-D array of shape ``(r, c)`` (r 3..4,
c 3..5) and ``s`` a float; it returns a float.  The shapes are drawn with the program
(``ArrayProgram.shapes``) so that the generator knows every shape: it tracks the concrete
shape of every expression and variable and only writes shape-valid operations
(``A @ x`` only when ``nx == c``, ``x @ A`` only when ``nx == r``, ...).  Constructs:

* elementwise arithmetic with NumPy broadcasting: an operand of shape ``(r, c)`` with one
  of shape ``(c,)``, ``(r, 1)``, ``(1, c)`` or a number, ``(n, 1)`` built with
  ``v.reshape(-1, 1)``, a slice ``A[:, 1:2]`` or a ``keepdims=True`` reduction;
* elementwise functions on safe domains: ``np.tanh``, ``np.sin``, ``np.exp(np.tanh(e))``,
  ``np.exp(-e * e)``, ``np.log(1.0 + e * e)``, ``np.sqrt(1.0 + e * e)``, ``e ** 2``,
  ``e / (1.0 + e * e)``; ``np.maximum``/``np.minimum``, ``np.where(e > c, ...)``,
  ``np.clip``;
* reductions ``np.sum/mean/max/min`` (and the methods ``.sum()``, ``.max()``) over all
  elements or ``axis=0/1/-1``, with and without ``keepdims=True``;
* ``@``, ``np.dot``, ``np.outer``, ``np.trace``, ``np.linalg.norm``, ``.T``,
  ``.reshape``, ``.ravel()``, ``np.concatenate``, ``np.stack``;
* slicing reads of names (``x[1:]``, ``x[::-1]``, ``A[:, 0]``, ``A[1]``, ``A[1:, :2]``)
  and element loads ``v[i]``, ``A[i, j]``;
* slice and element writes into a local array made at function level (``np.zeros``,
  ``A.copy()``, ``x.copy()``), also ``w += e`` and writes in a ``for`` loop.  A written
  array is only read element-wise until its last write, and only then read as a whole
  (adjit's gradient rule for written arrays, docs/supported-python.md);
* ``for t in range(k):`` loops with array-valued (and scalar) loop-carried state, updated
  contractively (``h = np.tanh(0.5 * (W @ h) + e)``, ``h = 0.5 * h + 0.5 * np.tanh(e)``);
* ``if np.sum(v) > 0.0:`` / ``if np.max(v) > c:`` / ``if s > c:`` branches assigning
  arrays (or numbers) of the same shape on both sides.

Choices are ordered simplest first so that hypothesis shrinks towards small programs.

The oracles (`check_array_function`) are adjit.fuzz.oracles.check_function (finite
differences with kink detection, the failure kinds) with the tolerances of the array
campaign: jit against Python rtol 1e-10; adjit.grad against adjit.tape rtol 1e-8,
atol 1e-10 (the tape comparison is skipped, with the reason recorded, only when the tape
raises an AdjitError); both against central differences where f is smooth.
"""
import argparse
import collections
import os
import sys
import time

import numpy as np
from hypothesis import strategies as st

from .custom_helpers import ARRAY_CUSTOM, SCALAR_CUSTOM, custom_text
from .generator import ADJIT_HEADER, HEADER, Program, load
from .jacobians import check_jacobians
from .numpy_statements import NUMPY_FEATURES, NUMPY_STATEMENTS, NumpyStatements
from .oracles import MISMATCH_KINDS, FuzzFailure, Refusal, check_function, check_grad_of_grad

CONSTS = ("0.5", "-0.5", "0.3", "1.5", "-1.0", "2.0", "0.1")
# one-argument elementwise functions safe on any finite argument ({0} is the argument)
UNARY = ("np.tanh({0})", "np.sin({0})", "np.exp(np.tanh({0}))", "np.log(1.0 + {0} * {0})",
         "np.sqrt(1.0 + {0} * {0})", "np.exp(-({0}) * ({0}))", "({0}) ** 2", "np.cos({0})",
         "(({0}) / (1.0 + ({0}) * ({0})))", "np.arctan({0})")
BOUNDED = ("np.tanh({0})", "np.sin({0})", "(({0}) / (1.0 + ({0}) * ({0})))", "np.cos({0})")
REDUCE = ("np.sum", "np.mean", "np.max", "np.min")

# adjit bugs the generator steered around while they were open (each has a regression test
# in tests/fuzz/test_array_programs.py): a written array passed whole through an if was
# refused as "used as a whole and written later"; `x * 1.0` on an array was folded to an
# alias of x.  Both are fixed, so the workarounds are off unless ADJIT_FUZZ_ARRAY_BUGS=0.
KNOWN_BUGS = {}
AVOID_KNOWN_BUGS = os.environ.get("ADJIT_FUZZ_ARRAY_BUGS") == "0"

# (feature, statement kind) of the alias-heavy statements, simplest first
ALIAS_STATEMENTS = (
    ("fresh_write", "fresh_write"),      # t = np.tanh(e); t[1] -= t[0]
    ("view_write", "view"),              # v = p[1:]; v[0] = e / v = R[i]; v += e / inner += stencil / B.T then B written
    ("unary_plus", "plus"),              # y = +x; y[0] = e / y = p[:]; y[1] = e
    ("param_write", "param"),            # v = x[1:]; v[0] = e / A *= 0.5 / A[i] += e
    ("helper_write", "helper"),          # fill(K[1], e) / axpy(u[1:-1], 0.1, ...) / q = smooth(u)
    ("reshape_write", "reshape_write"),  # M = buf.reshape(r, c); M[1, 1] = e / fl = F.ravel(); fl[0] = e
    ("int_bool", "intbool"),             # c = np.zeros(n, dtype=np.int64); ...; c[0] = 3 / m = e > 0; ...; m[1] = True
    ("loop_branch", "loop_branch"),      # for i: if v[i] > c: acc += np.sum(v * v) * v[i] / return inside a loop
    ("double_buffer", "double_buffer"),  # un[1:-1] = stencil(u); u, un = un, u / buf = np.zeros(n) per step
    ("pyramid", "pyramid"),              # while a.shape[0] > 1: a = a[0::2] + a[1::2]
    ("adjit_nested", "nested"),          # g_hn = adjit.grad(hn) at module level, called in f
)
ALIAS_FEATURES = frozenset(f for f, _ in ALIAS_STATEMENTS) | {"argnums", "grad_of_grad"}
# issue 14's NumPy functions (numpy_statements.py), helpers with user derivative rules
# (custom_helpers.py) and the Jacobian oracles (jacobians.py): none of them in --only-classic
NEW_FEATURES = NUMPY_FEATURES | {"custom_rule", "jacobians"}
ALL_FEATURES = frozenset({
    "broadcast", "unary", "minmax", "where", "clip", "reduce", "matmul", "slice", "reshape",
    "join", "element", "write", "loop", "if",
}) | ALIAS_FEATURES | NEW_FEATURES
DEFAULT_FEATURES = ALL_FEATURES

# argnums drawn per program with feature "argnums" (the first, every argument, otherwise):
# with x or A left out, writes into that argument are writes into a non-differentiated array
ARGNUMS_CHOICES = ((0, 1, 2), (0, 2), (1, 2), (2,), (0, 1), (0,), (1,))

# module-level helpers of the array programs (features helper_write and adjit_nested)
ARRAY_HELPERS = {
    "fill": "def fill(out, v):\n    out[0] = v\n",
    "axpy": "def axpy(out, a, y):\n    out += a * y\n",
    "scale": "def scale(out, c):\n    out *= c\n",
    "smooth": ("def smooth(u):\n    u[1:-1] += 0.1 * (u[2:] - 2.0 * u[1:-1] + u[:-2])\n"
               "    return np.sum(u * u)\n"),
    "hn": ("def hn(v):\n    return np.sum(np.tanh(v) * v)\n\n\n"
           "g_hn = adjit.grad(hn)\nj_hn = adjit.jit(hn)\nvg_hn = adjit.value_and_grad(hn)\n"),
    "hs": "def hs(t):\n    return math.tanh(t) * t + 0.5 * t\n\n\ng_hs = adjit.grad(hs)\n",
}


class ArrayProgram(Program):
    def __init__(self, source, used, shapes, argnums=None, grad_of_grad=False, jacobians=False):
        super().__init__(source, used, params=("x", "A", "s"),
                         header=ADJIT_HEADER if used & {"adjit_nested", "custom_rule"} else HEADER)
        self.shapes = shapes          # {"x": (nx,), "A": (r, c)}
        self.argnums = ARGNUMS if argnums is None else argnums
        self.grad_of_grad = grad_of_grad   # also check adjit.grad(adjit.grad(f, argnums=2), argnums=2)
        self.jacobians = jacobians    # also check jacfwd/jacrev/hessian of f in x, and of fv (if written)

    def point(self, seed):
        """The arguments (x, A, s) at a random point: uniform in [-1.5, 1.5], generic."""
        rng = np.random.default_rng(seed)
        return (rng.uniform(-1.5, 1.5, self.shapes["x"]), rng.uniform(-1.5, 1.5, self.shapes["A"]),
                float(rng.uniform(-1.5, 1.5)))


class _Builder(NumpyStatements):
    def __init__(self, draw, features, max_statements=9, depth=2):
        self.draw = draw
        self.depth = depth
        self.feat = features
        self.lines = []
        self.used = set()
        self.nvars = 0
        r = draw(st.integers(3, 4))
        c = draw(st.integers(3, 5))
        nx = draw(st.sampled_from(sorted({c, r, 3, 4, 5})))
        self.r, self.c, self.nx = r, c, nx
        # readable names -> shape; "frozen" arrays only (written arrays join when done)
        self.top = {"x": (nx,), "A": (r, c), "s": ()}
        self.budget = draw(st.integers(1, max_statements))
        self.written = set()   # local arrays that were written into
        self.helpers = set()   # module-level helpers called (ARRAY_HELPERS)
        self.argnums = ARGNUMS
        self.grad_of_grad = False
        self.jacobians = False
        self.early_return = False   # a `return` inside the body (then no vector-valued twin fv)
        self.custom = set()         # helpers with user rules called (custom_helpers.py)

    # -- drawing -------------------------------------------------------------------------
    def pick(self, options):
        return options[self.draw(st.integers(0, len(options) - 1))]

    def coin(self):
        return self.draw(st.booleans())

    def has(self, name):
        return name in self.feat

    def emit(self, indent, text):
        self.lines.append("    " * indent + text)

    def fresh(self):
        self.nvars += 1
        return f"v{self.nvars}"

    def const(self):
        return self.pick(CONSTS)

    # -- expressions of an exact shape -------------------------------------------------------
    def names_of(self, scope, shape):
        return [k for k, v in scope.items() if v == shape]

    def leaf(self, scope, shape):
        """An expression of exactly `shape` without recursion (always exists)."""
        opts = self.names_of(scope, shape)
        if AVOID_KNOWN_BUGS:
            # the once-open bug "written array through an if" (see the comment on KNOWN_BUGS):
            # read written arrays through a new array
            opts = [f"{k}.copy()" if k in self.written else k for k in opts]
        if shape == ():
            opts = opts + [self.const()]
            if self.has("element"):
                n_plain = len(opts)
                for name, sh in scope.items():
                    if len(sh) == 1:
                        opts.append(f"{name}[{self.pick(list(range(sh[0])) + [-1])}]")
                    elif len(sh) == 2:
                        opts.append(f"{name}[{self.draw(st.integers(0, sh[0] - 1))}, "
                                    f"{self.draw(st.integers(0, sh[1] - 1))}]")
                k = self.draw(st.integers(0, len(opts) - 1))
                if k >= n_plain:
                    self.used.add("element")
                return opts[k]
            return self.pick(opts)
        n_plain = len(opts)
        if self.has("slice"):
            opts += self.slices(scope, shape)
        if len(shape) == 2:
            opts += [f"{k}.T" for k, v in scope.items() if v == (shape[1], shape[0])]
        if not opts:
            # fallbacks that always fit
            if len(shape) == 1:
                return f"{self.const()} * np.ones({shape[0]})"
            if shape[1] == 1:
                return f"({self.leaf(scope, (shape[0],))}).reshape(-1, 1)"
            if shape[0] == 1:
                return f"({self.leaf(scope, (shape[1],))}).reshape(1, -1)"
            return f"np.outer({self.leaf(scope, (shape[0],))}, {self.leaf(scope, (shape[1],))})"
        k = self.draw(st.integers(0, len(opts) - 1))
        if k >= n_plain:
            self.used.add("slice")
        return opts[k]

    def slices(self, scope, shape):
        """Basic slicing reads of names giving exactly `shape`."""
        out = []
        for k, sh in scope.items():
            if len(sh) == 1 and len(shape) == 1:
                n, m = sh[0], shape[0]
                if m == n:
                    out.append(f"{k}[::-1]")
                if m == n - 1:
                    out += [f"{k}[1:]", f"{k}[:-1]"]
                if m < n:
                    out.append(f"{k}[:{m}]")
                    out.append(f"{k}[{n - m}:]")
                if m == (n + 1) // 2 and n > 1:
                    out.append(f"{k}[::2]")
            elif len(sh) == 2 and len(shape) == 1:
                rr, cc = sh
                if shape[0] == rr:
                    out.append(f"{k}[:, {self.draw(st.integers(0, cc - 1))}]")
                if shape[0] == cc:
                    out.append(f"{k}[{self.draw(st.integers(-1, rr - 1))}]")
                if shape[0] < cc:
                    out.append(f"{k}[{self.draw(st.integers(0, rr - 1))}, {cc - shape[0]}:]")
            elif len(sh) == 2 and len(shape) == 2:
                rr, cc = sh
                if shape[0] <= rr and shape[1] <= cc and shape != sh:
                    out.append(f"{k}[{rr - shape[0]}:, :{shape[1]}]")
                if shape == (rr, 1):
                    out.append(f"{k}[:, {cc - 1}:]")
                if shape == sh:
                    out.append(f"{k}[::-1, :]")
        return out

    def sub_shapes(self, shape):
        """Shapes that broadcast to `shape` (without making it larger)."""
        if shape == ():
            return [()]
        if len(shape) == 1:
            return [(), shape]
        return [(), shape, (shape[1],), (shape[0], 1), (1, shape[1])]

    def expr(self, scope, shape, depth=None):
        """An expression whose value has exactly `shape` (() is a float)."""
        depth = min(self.depth, 2 if depth is None else depth)
        if depth <= 0:
            return self.leaf(scope, shape)
        kinds = ["leaf", "arith"]
        if self.has("unary"):
            kinds.append("unary")
        if self.has("minmax"):
            kinds.append("minmax")
        if self.has("where"):
            kinds.append("where")
        if self.has("clip"):
            kinds.append("clip")
        if self.has("reduce"):
            kinds.append("reduce")
        if self.has("matmul"):
            kinds.append("matmul")
        if self.has("reshape") and shape != ():
            kinds.append("reshape")
        if self.has("join") and len(shape) == 1 and shape[0] >= 2:
            kinds.append("join")
        if self.np_expr_features(shape):
            kinds.append("np14")
        kind = self.pick(kinds)
        d = depth - 1
        if kind == "np14":
            return self.np_expr(scope, shape, d)
        if kind == "leaf":
            return self.leaf(scope, shape)
        if kind == "arith":
            self.used.add("broadcast")
            full = self.expr(scope, shape, d)
            other_shape = self.pick(self.sub_shapes(shape)) if self.has("broadcast") else shape
            other = self.expr(scope, other_shape, d)
            if self.coin():
                full, other = other, full
            op = self.pick(["+", "*", "-", "/"])
            if op == "/":
                return f"({full} / (1.0 + {other} * {other}))" if self.coin() else \
                    f"(({other}) / (1.0 + ({full}) * ({full})))"
            return f"({full} {op} {other})"
        if kind == "unary":
            self.used.add("unary")
            return self.pick(UNARY).format(self.expr(scope, shape, d))
        if kind == "minmax":
            self.used.add("minmax")
            fn = self.pick(["np.maximum", "np.minimum"])
            a, b = self.expr(scope, shape, d), self.expr(scope, self.pick(self.sub_shapes(shape)), d)
            if self.coin():
                a, b = b, a
            return f"{fn}({a}, {b})"
        if kind == "where":
            self.used.add("where")
            cond = f"{self.expr(scope, self.pick(self.sub_shapes(shape)), d)} > {self.const()}"
            a, b = self.expr(scope, shape, d), self.expr(scope, self.pick(self.sub_shapes(shape)), d)
            if self.coin():
                a, b = b, a
            return f"np.where({cond}, {a}, {b})"
        if kind == "clip":
            self.used.add("clip")
            lo = self.pick(["-1.0", "-0.5", "0.0"])
            return f"np.clip({self.expr(scope, shape, d)}, {lo}, {self.pick(['0.5', '1.0'])})"
        if kind == "reduce":
            return self.reduction(scope, shape, d)
        if kind == "matmul":
            return self.matmul(scope, shape, d)
        if kind == "reshape":
            self.used.add("reshape")
            if len(shape) == 1:
                cands = [sh for sh in set(scope.values()) if len(sh) == 2 and sh[0] * sh[1] == shape[0]]
                if cands:
                    sh = self.pick(sorted(cands))
                    return f"({self.expr(scope, sh, d)}).ravel()" if self.coin() else \
                        f"np.ravel({self.expr(scope, sh, d)})"
                return f"({self.expr(scope, (shape[0], 1), d)}).reshape(-1)"
            # a method or attribute binds tighter than any operator: bracket the operand
            if shape[1] == 1:
                return f"({self.expr(scope, (shape[0],), d)}).reshape(-1, 1)"
            if shape[0] == 1:
                return f"({self.expr(scope, (shape[1],), d)}).reshape(1, {shape[1]})"
            # (n, m) from a transpose
            return f"({self.expr(scope, (shape[1], shape[0]), d)}).T"
        if kind == "join":
            self.used.add("join")
            n = shape[0]
            k = self.draw(st.integers(1, n - 1))
            return f"np.concatenate(({self.expr(scope, (k,), d)}, {self.expr(scope, (n - k,), d)}))"
        raise AssertionError(kind)

    def reduction(self, scope, shape, d):
        self.used.add("reduce")
        fn = self.pick(REDUCE)
        other = self.pick(sorted({self.r, self.c, self.nx, 2}))
        if shape == ():
            src_shape = self.pick([(self.nx,), (self.r, self.c), (other,)])
            arg = self.expr(scope, src_shape, d)
            if self.coin() and fn in ("np.sum", "np.max"):
                return f"({arg}).{fn[3:]}()"
            return f"{fn}({arg})"
        if len(shape) == 1:
            n = shape[0]
            axis = self.pick(["0", "1", "-1"])
            src = (other, n) if axis == "0" else (n, other)
            if self.has("join") and self.coin() and axis != "0":
                # (n, 2) from np.stack of two (n,) arrays
                self.used.add("join")
                arg = f"np.stack(({self.expr(scope, shape, d)}, {self.expr(scope, shape, d)}), axis=1)"
            else:
                arg = self.expr(scope, src, d)
            return f"{fn}({arg}, axis={axis})"
        n, m = shape
        if m == 1:
            return f"{fn}({self.expr(scope, (n, other), d)}, axis={self.pick(['1', '-1'])}, keepdims=True)"
        if n == 1:
            return f"{fn}({self.expr(scope, (other, m), d)}, axis=0, keepdims=True)"
        return self.leaf(scope, shape)

    def matmul(self, scope, shape, d):
        self.used.add("matmul")
        other = self.pick(sorted({self.r, self.c, self.nx}))
        if shape == ():
            n = self.pick(sorted({self.nx, self.r, self.c}))
            form = self.pick(["dot", "@", "trace", "norm"])
            if form == "trace":
                m = self.pick(sorted({self.r, self.c}))
                return f"np.trace({self.expr(scope, (m, m), d)})"
            if form == "norm":
                sh = self.pick([(n,), (self.r, self.c)])
                return f"np.linalg.norm({self.expr(scope, sh, d)})"
            a, b = self.expr(scope, (n,), d), self.expr(scope, (n,), d)
            return f"np.dot({a}, {b})" if form == "dot" else f"({a} @ {b})"
        if len(shape) == 1:
            n = shape[0]
            if self.coin():
                return f"({self.expr(scope, (n, other), d)} @ {self.expr(scope, (other,), d)})"
            return f"({self.expr(scope, (other,), d)} @ {self.expr(scope, (other, n), d)})"
        n, m = shape
        if n > 1 and m > 1 and self.coin():
            return f"np.outer({self.expr(scope, (n,), d)}, {self.expr(scope, (m,), d)})"
        return f"({self.expr(scope, (n, other), d)} @ {self.expr(scope, (other, m), d)})"

    def shape(self):
        return self.pick([(self.nx,), (), (self.r, self.c), (self.r,), (self.c,), (self.c, self.r),
                          (self.r, 1), (self.r, self.r)])

    def bounded(self, scope, shape, depth=2):
        return self.pick(BOUNDED).format(self.expr(scope, shape, depth))

    def cond(self, scope):
        form = self.pick(["sum", "max", "s"])
        if form == "s":
            return f"s > {self.const()}"
        v = self.expr(scope, self.pick([(self.nx,), (self.r, self.c), (self.r,)]), 1)
        return f"np.{form}({v}) > {self.pick(['0.0', '0.5', '-0.5'])}"

    # -- statements ----------------------------------------------------------------------
    def st_assign(self, indent, scope):
        sh = self.shape()
        name = self.fresh()
        self.emit(indent, f"{name} = {self.expr(scope, sh)}")
        scope[name] = sh

    def st_write(self, indent, scope):
        """A local array, written into (slices, elements, +=, a loop), then read."""
        self.used.add("write")
        form = self.pick(["zeros1", "copyA", "copyx", "zeros2"])
        name = "w" + self.fresh()[1:]
        if form in ("zeros1", "copyx"):
            sh = (self.nx,) if form == "copyx" else (self.pick(sorted({self.nx, self.r, self.c})),)
            init = self.pick(["x.copy()"] + ([] if AVOID_KNOWN_BUGS else ["x * 1.0"])) \
                if form == "copyx" else f"np.zeros({sh[0]})"
        else:
            sh = (self.r, self.c) if form == "copyA" else (self.pick(sorted({self.r, self.c})), self.nx)
            init = self.pick(["A.copy()", "np.copy(A)"] + ([] if AVOID_KNOWN_BUGS else ["A + 0.0"])) \
                if form == "copyA" else f"np.zeros({sh})"
        self.emit(indent, f"{name} = {init}")
        nwrites = self.draw(st.integers(1, 3))
        for _ in range(nwrites):
            # right-hand sides read the frozen scope plus elements of the array itself
            rhs_scope = dict(scope)
            if len(sh) == 1:
                n = sh[0]
                w = self.pick(["elem", "slice", "iadd", "loop", "slice_aug"])
                if w == "elem":
                    i = self.draw(st.integers(-1, n - 1))
                    self.emit(indent, f"{name}[{i}] = {self.expr(rhs_scope, (), 2)} + 0.5 * {name}[{(i + 1) % n}]")
                elif w in ("slice", "slice_aug"):
                    a = self.draw(st.integers(0, n - 1))
                    b = self.draw(st.integers(a + 1, n))
                    op = "=" if w == "slice" else self.pick(["+=", "*=", "-="])
                    rhs = self.expr(rhs_scope, self.pick([(b - a,), ()]), 2)
                    if op == "*=":
                        rhs = self.pick(BOUNDED).format(rhs)
                    self.emit(indent, f"{name}[{a}:{b}] {op} {rhs}")
                elif w == "iadd":
                    self.emit(indent, f"{name} += {self.expr(rhs_scope, self.pick([sh, ()]), 2)}")
                else:
                    self.used.add("loop")
                    self.emit(indent, f"for i in range({n}):")
                    self.emit(indent + 1, f"{name}[i] = 0.5 * {name}[i] + {self.bounded(rhs_scope, (), 1)}")
            else:
                rr, cc = sh
                w = self.pick(["row", "col", "elem", "block", "iadd", "loop"])
                if w == "row":
                    i = self.draw(st.integers(-1, rr - 1))
                    op = self.pick(["=", "+="])
                    self.emit(indent, f"{name}[{i}] {op} {self.expr(rhs_scope, self.pick([(cc,), ()]), 2)}")
                elif w == "col":
                    j = self.draw(st.integers(0, cc - 1))
                    op = self.pick(["=", "+="])
                    self.emit(indent, f"{name}[:, {j}] {op} {self.expr(rhs_scope, self.pick([(rr,), ()]), 2)}")
                elif w == "elem":
                    i, j = self.draw(st.integers(0, rr - 1)), self.draw(st.integers(0, cc - 1))
                    self.emit(indent, f"{name}[{i}, {j}] = {self.expr(rhs_scope, (), 2)} * {name}[{i}, {j}]")
                elif w == "block":
                    a = self.draw(st.integers(0, rr - 1))
                    b = self.draw(st.integers(0, cc - 1))
                    self.emit(indent, f"{name}[{a}:, {b}:] = {self.expr(rhs_scope, self.pick([(rr - a, cc - b), ()]), 2)}")
                elif w == "iadd":
                    self.emit(indent, f"{name} += {self.expr(rhs_scope, self.pick(self.sub_shapes(sh)), 2)}")
                else:
                    self.used.add("loop")
                    self.emit(indent, f"for i in range({rr}):")
                    self.emit(indent + 1, f"{name}[i] = 0.5 * {name}[i] + {self.bounded(rhs_scope, (cc,), 1)}")
        scope[name] = sh   # frozen from now on: only read
        self.written.add(name)

    def st_loop(self, indent, scope):
        self.used.add("loop")
        sh = self.pick([(self.nx,), (self.r,), (self.c,), (self.r, self.c)])
        h = "h" + self.fresh()[1:]
        k = self.draw(st.integers(1, 4))
        self.emit(indent, f"{h} = {self.expr(scope, sh, 1)}")
        acc = None
        if self.coin():
            acc = "acc" + self.fresh()[1:]
            self.emit(indent, f"{acc} = 0.0")
        self.emit(indent, f"for t in range({k}):")
        inner = dict(scope)
        inner[h] = sh
        n_body = self.draw(st.integers(1, 3))
        for _ in range(n_body):
            form = self.pick(["contract", "tanh_mat", "temp", "if"])
            if form == "temp":
                tmp_sh = self.shape()
                tmp = self.fresh()
                self.emit(indent + 1, f"{tmp} = {self.expr(inner, tmp_sh, 2)}")
                inner[tmp] = tmp_sh
            elif form == "tanh_mat" and len(sh) == 1:
                n = sh[0]
                W = self.expr(inner, (n, n), 1)
                xt = f" + x[t % {self.nx}]" if self.coin() else ""
                self.emit(indent + 1, f"{h} = np.tanh(0.5 * ({W} @ {h}) + {self.expr(inner, sh, 1)}{xt})")
            elif form == "if":
                self.used.add("if")
                self.emit(indent + 1, f"if {self.cond(inner)}:")
                self.emit(indent + 2, f"{h} = 0.5 * {h} + 0.5 * {self.bounded(inner, sh, 1)}")
                self.emit(indent + 1, "else:")
                self.emit(indent + 2, f"{h} = {self.pick(['0.9', '-0.5', '0.5'])} * {h}")
            else:
                rhs = self.pick(BOUNDED).format(self.expr(inner, self.pick(self.sub_shapes(sh)), 2))
                self.emit(indent + 1, f"{h} = 0.5 * {h} + 0.5 * {rhs}")
        if acc:
            red = self.pick(["np.sum", "np.mean", "np.max"])
            elem = f" + 0.1 * {h}[t % {sh[0]}]" if len(sh) == 1 and self.has("element") else ""
            self.emit(indent + 1, f"{acc} = 0.5 * {acc} + 0.1 * np.tanh({red}({h})){elem}")
            scope[acc] = ()
        scope[h] = sh

    def st_if(self, indent, scope):
        self.used.add("if")
        sh = self.shape()
        existing = self.names_of({k: v for k, v in scope.items() if k.startswith("v")}, sh)
        name = self.pick(existing) if existing and self.coin() else self.fresh()
        self.emit(indent, f"if {self.cond(scope)}:")
        self.emit(indent + 1, f"{name} = {self.expr(scope, sh)}")
        if self.coin():
            self.emit(indent, "else:")
            self.emit(indent + 1, f"{name} = {self.expr(scope, sh)}")
        elif name not in scope:
            self.emit(indent, "else:")
            self.emit(indent + 1, f"{name} = {self.leaf(scope, sh)}")
        scope[name] = sh

    # -- alias-heavy statements (the features in ALIAS_FEATURES) ------------------------------
    # Each writes through a view, a reshape, a helper's argument or into an array after it
    # was used, then leaves the names it made in the scope, so that later statements and the
    # return read them whole.  Python's own semantics decide every value (views share memory,
    # `+x`, `np.tanh(e)` and `.copy()` are new arrays); adjit must agree.
    def length(self):
        return self.pick(sorted({self.nx, self.r, self.c}))

    def small(self, scope, shape=()):
        """A bounded value (|v| <= 1.6) of `shape`, one operation deep."""
        return self.pick(BOUNDED).format(self.expr(scope, shape, 1))

    def fresh_array(self, scope, shape):
        """A new array of `shape` (never an alias of a name in scope)."""
        opts = [f"np.zeros({shape[0] if len(shape) == 1 else shape})"]
        if shape == (self.nx,):
            opts.append("x.copy()")
        if shape == (self.r, self.c):
            opts.append("A.copy()")
        opts.append(f"np.tanh({self.expr(scope, shape, 1)})")
        opts.append(f"({self.expr(scope, shape, 1)}).copy()")
        return self.pick(opts)

    def view_of(self, name, n):
        """(a basic-slice view of the 1-D `name` of length n, its length)."""
        return self.pick([(f"{name}[1:]", n - 1), (f"{name}[:]", n), (f"{name}[:-1]", n - 1),
                          (f"{name}[1:-1]", n - 2), (f"{name}[::2]", (n + 1) // 2), (f"{name}[::-1]", n)])

    def write_1d(self, indent, scope, v, m):
        """One write through the 1-D array (or view) `v` of length m."""
        form = self.pick(["elem", "all", "iadd", "imul", "isub_elem"])
        if form == "elem":
            self.emit(indent, f"{v}[{self.draw(st.integers(-1, m - 1))}] = {self.expr(scope, (), 1)}")
        elif form == "all":
            self.emit(indent, f"{v}[:] = {self.expr(scope, self.pick([(), (m,)]), 1)}")
        elif form == "iadd":
            self.emit(indent, f"{v} += {self.small(scope, self.pick([(), (m,)]))}")
        elif form == "imul":
            self.emit(indent, f"{v} *= {self.small(scope, self.pick([(), (m,)]))}")
        else:
            self.emit(indent, f"{v}[{m - 1}] -= {v}[0]")

    def st_view(self, indent, scope):
        """Views written through either name (feature view_write)."""
        self.used.add("view_write")
        form = self.pick(["tail", "row", "stencil", "base_after", "col"])
        k = self.fresh()[1:]
        if form == "tail":
            n = self.length()
            p, v = f"p{k}", f"q{k}"
            self.emit(indent, f"{p} = {self.fresh_array(scope, (n,))}")
            view, m = self.view_of(p, n)
            self.emit(indent, f"{v} = {view}")
            self.write_1d(indent, scope, v, m)
            scope[p], scope[v] = (n,), (m,)
        elif form in ("row", "col"):
            R, v = f"R{k}", f"q{k}"
            self.emit(indent, f"{R} = {self.fresh_array(scope, (self.r, self.c))}")
            if form == "row":
                self.emit(indent, f"{v} = {R}[{self.draw(st.integers(-1, self.r - 1))}]")
                m = self.c
            else:
                self.emit(indent, f"{v} = {R}[:, {self.draw(st.integers(0, self.c - 1))}]")
                m = self.r
            self.write_1d(indent, scope, v, m)
            scope[R], scope[v] = (self.r, self.c), (m,)
        elif form == "stencil":
            n = self.length()
            u, inner = f"u{k}", f"inner{k}"
            self.emit(indent, f"{u} = {self.fresh_array(scope, (n,))}")
            body = indent
            if self.coin():
                self.emit(indent, f"for t in range({self.draw(st.integers(1, 4))}):")
                body = indent + 1
            self.emit(body, f"{inner} = {u}[1:-1]")
            src = f" + 0.1 * {self.small(scope, self.pick([(), (n - 2,)]))}" if self.coin() else ""
            self.emit(body, f"{inner} += 0.1 * ({u}[2:] - 2.0 * {u}[1:-1] + {u}[:-2]){src}")
            scope[u] = (n,)
            if body == indent:
                scope[inner] = (n - 2,)
        else:   # the base written after a view was taken; the view read
            B, V = f"B{k}", f"V{k}"
            self.emit(indent, f"{B} = {self.fresh_array(scope, (self.r, self.c))}")
            view, vsh = self.pick([(f"{B}.T", (self.c, self.r)), (f"{B}[1]", (self.c,)),
                                   (f"{B}[:, 1:]", (self.r, self.c - 1)), (f"{B}[::-1]", (self.r, self.c))])
            self.emit(indent, f"{V} = {view}")
            w = self.pick(["elem", "row", "iadd"])
            if w == "elem":
                self.emit(indent, f"{B}[{self.draw(st.integers(0, self.r - 1))}, "
                                  f"{self.draw(st.integers(0, self.c - 1))}] = {self.expr(scope, (), 1)}")
            elif w == "row":
                self.emit(indent, f"{B}[{self.draw(st.integers(0, self.r - 1))}] = "
                                  f"{self.expr(scope, self.pick([(), (self.c,)]), 1)}")
            else:
                self.emit(indent, f"{B} += {self.small(scope, self.pick(self.sub_shapes((self.r, self.c))))}")
            scope[V] = vsh
            if self.coin():
                scope[B] = (self.r, self.c)

    def st_plus(self, indent, scope):
        """`y = +x` (a new array) and full-slice views `a[:]`, written (feature unary_plus)."""
        self.used.add("unary_plus")
        k = self.fresh()[1:]
        names = [nm for nm, sh in scope.items() if len(sh) == 1]
        name = self.pick(names) if names else "x"
        n = scope[name][0]
        y = f"y{k}"
        if self.coin():
            self.emit(indent, f"{y} = +{name}")
        else:   # a full-slice view of a new array, written, and the array read
            p = f"p{k}"
            self.emit(indent, f"{p} = {self.fresh_array(scope, (n,))}")
            self.emit(indent, f"{y} = {p}[:]")
            scope[p] = (n,)
        self.write_1d(indent, scope, y, n)
        scope[y] = (n,)

    def st_param(self, indent, scope):
        """Writes into the argument arrays, directly or through views (feature param_write)."""
        self.used.add("param_write")
        form = self.pick(["view", "scale", "row", "elem", "loop"])
        k = self.fresh()[1:]
        if form == "view":
            v = f"q{k}"
            view, m = self.view_of("x", self.nx)
            self.emit(indent, f"{v} = {view}")
            self.write_1d(indent, scope, v, m)
        elif form == "scale":
            target = self.pick(["x", "A"])
            self.emit(indent, f"{target} *= {self.pick(['0.5', '-0.5', '0.9'])}")
        elif form == "row":
            v = f"q{k}"
            self.emit(indent, f"{v} = A[{self.draw(st.integers(-1, self.r - 1))}]")
            self.write_1d(indent, scope, v, self.c)
        elif form == "elem":
            self.emit(indent, f"A[{self.draw(st.integers(0, self.r - 1))}, {self.draw(st.integers(0, self.c - 1))}] "
                              f"{self.pick(['=', '+=', '-='])} {self.small(scope)}")
        else:
            self.used.add("loop")
            self.emit(indent, f"for t in range({self.draw(st.integers(1, 4))}):")
            self.emit(indent + 1, f"x[t % {self.nx}] = 0.5 * x[t % {self.nx}] + 0.5 * {self.small(scope)}")

    def st_helper(self, indent, scope):
        """Helpers that write into slices and rows of their arguments (feature helper_write)."""
        self.used.add("helper_write")
        form = self.pick(["fill", "axpy", "scale", "smooth"])
        k = self.fresh()[1:]
        self.helpers.add(form)
        if form == "fill":
            if self.coin():
                K = f"K{k}"
                self.emit(indent, f"{K} = {self.fresh_array(scope, (self.r, self.c))}")
                self.emit(indent, f"fill({K}[{self.draw(st.integers(-1, self.r - 1))}], {self.expr(scope, (), 1)})")
                scope[K] = (self.r, self.c)
            else:
                n = self.length()
                p = f"p{k}"
                self.emit(indent, f"{p} = {self.fresh_array(scope, (n,))}")
                view, _ = self.view_of(p, n)
                self.emit(indent, f"fill({view}, {self.expr(scope, (), 1)})")
                scope[p] = (n,)
        elif form == "axpy":
            n = self.length()
            u = f"u{k}"
            self.emit(indent, f"{u} = {self.fresh_array(scope, (n,))}")
            if self.coin():
                self.emit(indent, f"axpy({u}[1:-1], 0.1, {u}[2:] - {u}[:-2])")
            else:
                self.emit(indent, f"axpy({u}[1:], {self.pick(CONSTS)}, {self.small(scope, (n - 1,))})")
            scope[u] = (n,)
        elif form == "scale":
            K = f"K{k}"
            self.emit(indent, f"{K} = {self.fresh_array(scope, (self.r, self.c))}")
            self.emit(indent, f"scale({K}[{self.draw(st.integers(-1, self.r - 1))}], {self.small(scope)})")
            scope[K] = (self.r, self.c)
        else:
            n = self.length()
            u, q = f"u{k}", f"q{k}"
            self.emit(indent, f"{u} = {self.fresh_array(scope, (n,))}")
            self.emit(indent, f"{q} = smooth({u})")
            scope[u], scope[q] = (n,), ()

    def st_reshape_write(self, indent, scope):
        """Reshapes and ravels of contiguous arrays, written (feature reshape_write)."""
        self.used.add("reshape_write")
        k = self.fresh()[1:]
        r, c = self.r, self.c
        if self.coin():
            buf, M = f"buf{k}", f"M{k}"
            init = self.pick([f"np.zeros({r * c})", f"np.tanh({self.expr(scope, (r, c), 1)}).ravel()",
                              "A.copy().ravel()", f"np.sin({self.expr(scope, (r, c), 1)}).reshape(-1)"])
            self.emit(indent, f"{buf} = {init}")
            shape = self.pick([(r, c), (c, r)])
            self.emit(indent, f"{M} = {buf}.reshape({shape[0]}, {shape[1]})")
            w = self.pick(["elem", "row", "iadd"])
            if w == "elem":
                self.emit(indent, f"{M}[{self.draw(st.integers(0, shape[0] - 1))}, "
                                  f"{self.draw(st.integers(0, shape[1] - 1))}] = {self.expr(scope, (), 1)}")
            elif w == "row":
                self.emit(indent, f"{M}[{self.draw(st.integers(0, shape[0] - 1))}] += "
                                  f"{self.small(scope, self.pick([(), (shape[1],)]))}")
            else:
                self.emit(indent, f"{M} *= {self.small(scope)}")
            scope[buf] = (r * c,)
            if self.coin():
                scope[M] = shape
        else:
            F, fl = f"F{k}", f"fl{k}"
            self.emit(indent, f"{F} = {self.fresh_array(scope, (r, c))}")
            self.emit(indent, f"{fl} = {F}{self.pick(['.ravel()', '.reshape(-1)'])}")
            self.write_1d(indent, scope, fl, r * c)
            scope[F] = (r, c)

    def st_fresh_write(self, indent, scope):
        """Element writes into the result of a whole-array op (feature fresh_write)."""
        self.used.add("fresh_write")
        k = self.fresh()[1:]
        t = f"t{k}"
        sh = self.pick([(self.length(),), (self.r, self.c)])
        self.emit(indent, f"{t} = {self.pick(BOUNDED).format(self.expr(scope, sh, 1))}")
        if len(sh) == 1:
            form = self.pick(["{t}[1] -= {t}[0]", "{t}[0] = {t}[-1] * {t}[1]", "{t}[-1] += {e}",
                              "{t}[1:] -= {t}[:-1]"])
        else:
            form = self.pick(["{t}[1] -= {t}[0]", "{t}[0, 1] = {t}[1, 0] * {t}[0, 0]", "{t}[-1, -1] += {e}",
                              "{t}[:, 0] *= {t}[:, 1]"])
        self.emit(indent, form.format(t=t, e=self.small(scope)))
        scope[t] = sh

    def st_intbool(self, indent, scope):
        """Int arrays and bool masks used, then changed, then used again (feature int_bool)."""
        self.used.add("int_bool")
        k = self.fresh()[1:]
        n = self.length()
        q1, q2 = f"q{k}", f"r{k}"
        if self.coin():
            c = f"c{k}"
            self.emit(indent, f"{c} = np.{self.pick(['zeros', 'ones'])}({n}, dtype=np.int64)")
            if self.coin():
                self.emit(indent, f"{q1} = np.sum({c} * {self.expr(scope, (n,), 1)})")
                self.emit(indent, f"{c}[{self.draw(st.integers(-1, n - 1))}] {self.pick(['=', '+='])} 3")
                self.emit(indent, f"{q2} = np.sum({c} * {self.expr(scope, (n,), 1)})")
                scope[q1], scope[q2] = (), ()
            else:   # inside a loop
                self.used.add("loop")
                h = f"h{k}"
                self.emit(indent, f"{h} = {self.expr(scope, (n,), 1)}")
                self.emit(indent, f"{q1} = 0.0")
                self.emit(indent, f"for t in range({self.draw(st.integers(1, 4))}):")
                self.emit(indent + 1, f"{q1} = 0.5 * {q1} + 0.1 * np.sum({c} * {h})")
                self.emit(indent + 1, f"{c}[t % {n}] += 1")
                if self.coin():
                    self.emit(indent + 1, f"{h} = 0.5 * {h} + 0.1 * {c}")
                scope[q1], scope[h] = (), (n,)
        else:
            m, y = f"m{k}", f"y{k}"
            self.emit(indent, f"{m} = {self.expr(scope, (n,), 1)} > {self.pick(['0.0', '0.5', '-0.5'])}")
            if self.coin():
                self.emit(indent, f"{y} = np.where({m}, {self.expr(scope, (n,), 1)}, {self.pick(['0.0', '-1.0'])})")
                self.emit(indent, f"{m}[{self.draw(st.integers(-1, n - 1))}] = {self.pick(['True', 'False'])}")
                z = f"z{k}"
                self.emit(indent, f"{z} = np.where({m}, {self.expr(scope, (n,), 1)}, {self.expr(scope, (), 1)})")
                scope[y], scope[z] = (n,), (n,)
            else:
                self.used.add("loop")
                self.emit(indent, f"{y} = {self.expr(scope, (n,), 1)}")
                self.emit(indent, f"for t in range({self.draw(st.integers(1, 4))}):")
                self.emit(indent + 1, f"{y} = np.where({m}, 0.5 * {y} + 0.5 * {self.small(scope, (n,))}, 0.9 * {y})")
                self.emit(indent + 1, f"{m}[t % {n}] = {self.pick(['True', 'False', f'{y}[t % {n}] > 0.0'])}")
                scope[y] = (n,)

    def st_loop_branch(self, indent, scope):
        """Arrays made in a branch inside a loop; a return inside a loop (feature loop_branch)."""
        self.used.add("loop_branch")
        self.used.add("loop")
        k = self.fresh()[1:]
        if self.coin():
            names = [nm for nm, sh in scope.items() if len(sh) == 1]
            v = self.pick(names) if names else "x"
            n = scope[v][0]
            acc, w = f"acc{k}", f"w{k}"
            self.emit(indent, f"{acc} = 0.0")
            self.emit(indent, f"for i in range({self.draw(st.integers(1, n))}):")
            self.emit(indent + 1, f"if {v}[i] > {self.pick(['0.0', '0.3', '-0.5'])}:")
            if self.coin():
                self.emit(indent + 2, f"{acc} += np.sum({v} * {v}) * {v}[i]")
            else:
                sh = self.pick([(n,), (self.r, self.c)])
                self.emit(indent + 2, f"{w} = {self.small(scope, sh)} * {v}[i]")
                self.emit(indent + 2, f"{acc} += 0.1 * np.sum({w} * {w})")
            if self.coin():
                self.emit(indent + 1, "else:")
                self.emit(indent + 2, f"{acc} -= 0.1 * {v}[i]")
            scope[acc] = ()
        else:
            sh = self.pick([(self.length(),), (self.r, self.c)])
            h = f"h{k}"
            self.emit(indent, f"{h} = {self.expr(scope, sh, 1)}")
            self.emit(indent, f"for t in range({self.draw(st.integers(1, 4))}):")
            self.emit(indent + 1, f"{h} = 0.5 * {h} + 0.5 * {self.small(scope, self.pick(self.sub_shapes(sh)))}")
            self.emit(indent + 1, f"if {self.pick(['np.sum', 'np.max', 'np.mean'])}({h}) > {self.pick(['0.0', '0.5', '-0.5'])}:")
            self.emit(indent + 2, f"return np.sum({h} * {h}) + {self.expr(scope, (), 1)}")
            self.early_return = True
            scope[h] = sh

    def st_double_buffer(self, indent, scope):
        """Double buffers swapped in a loop; a buffer made in every step (feature double_buffer)."""
        self.used.add("double_buffer")
        self.used.add("loop")
        k = self.fresh()[1:]
        steps = self.draw(st.integers(1, 4))
        form = self.pick(["swap", "step_buffer", "swap2d"])
        if form == "swap":
            n = self.length()
            u, un = f"u{k}", f"un{k}"
            self.emit(indent, f"{u} = {self.fresh_array(scope, (n,))}")
            self.emit(indent, f"{un} = np.zeros_like({u})")
            self.emit(indent, f"for t in range({steps}):")
            if self.coin():
                self.emit(indent + 1, f"{un}[0] = {u}[0]")
                self.emit(indent + 1, f"{un}[-1] = {u}[-1]")
            self.emit(indent + 1, f"{un}[1:-1] = {u}[1:-1] + 0.1 * ({u}[2:] - 2 * {u}[1:-1] + {u}[:-2])")
            self.emit(indent + 1, f"{u}, {un} = {un}, {u}")
            scope[u], scope[un] = (n,), (n,)
        elif form == "swap2d":
            u, un = f"U{k}", f"Un{k}"
            self.emit(indent, f"{u} = {self.fresh_array(scope, (self.r, self.c))}")
            self.emit(indent, f"{un} = {u}.copy()")
            self.emit(indent, f"for t in range({steps}):")
            self.emit(indent + 1, f"{un}[:, 1:-1] = {u}[:, 1:-1] + 0.1 * ({u}[:, 2:] - 2.0 * {u}[:, 1:-1] + {u}[:, :-2])")
            self.emit(indent + 1, f"{u}, {un} = {un}, {u}")
            scope[u] = (self.r, self.c)
        else:
            n = self.length()
            h, buf = f"h{k}", f"buf{k}"
            self.emit(indent, f"{h} = {self.expr(scope, (n,), 1)}")
            self.emit(indent, f"for t in range({steps}):")
            self.emit(indent + 1, f"{buf} = np.zeros({n})")
            self.emit(indent + 1, f"{buf}[1:] = {h}[:-1]")
            self.emit(indent + 1, f"{buf}[0] = {self.small(scope)}")
            self.emit(indent + 1, f"{h} = 0.5 * {h} + 0.5 * np.tanh({buf})")
            scope[h] = (n,)

    def st_pyramid(self, indent, scope):
        """A loop-carried array that halves its length: a Haar pyramid (feature pyramid)."""
        self.used.add("pyramid")
        self.used.add("loop")
        k = self.fresh()[1:]
        a, acc = f"a{k}", f"acc{k}"
        if self.coin():   # a power of two: 2, 4 or 8 (r * c >= 9)
            n = self.pick([4, 8, 2])
            self.emit(indent, f"{a} = ({self.expr(scope, (self.r, self.c), 1)}).ravel()[:{n}]")
            guard = ""
        else:
            n = self.length()
            self.emit(indent, f"{a} = {self.expr(scope, (n,), 1)}")
            guard = f" and {a}.shape[0] % 2 == 0"
        details = self.coin()
        if details:
            self.emit(indent, f"{acc} = 0.0")
        self.emit(indent, f"while {a}.shape[0] > 1{guard}:")
        if details:
            self.emit(indent + 1, f"{acc} += np.sum(({a}[0::2] - {a}[1::2]) ** 2)")
        self.emit(indent + 1, f"{a} = {self.pick(['0.5 * ', ''])}({a}[0::2] + {a}[1::2])")
        while n > 1 and n % 2 == 0:
            n //= 2
        scope[a] = (n,)
        if details:
            scope[acc] = ()

    def st_nested(self, indent, scope):
        """Calls of module-level adjit objects of a helper (feature adjit_nested)."""
        self.used.add("adjit_nested")
        k = self.fresh()[1:]
        n = self.length()
        form = self.pick(["grad", "jit", "value_and_grad", "grad_scalar"])
        self.helpers.add("hn" if form != "grad_scalar" else "hs")
        if form == "grad":
            g = f"g{k}"
            self.emit(indent, f"{g} = g_hn({self.expr(scope, (n,), 1)})")
            scope[g] = (n,)
        elif form == "jit":
            q = f"q{k}"
            self.emit(indent, f"{q} = j_hn({self.expr(scope, (n,), 1)})")
            scope[q] = ()
        elif form == "value_and_grad":
            q, g = f"q{k}", f"g{k}"
            self.emit(indent, f"{q}, {g} = vg_hn({self.expr(scope, (n,), 1)})")
            scope[q], scope[g] = (), (n,)
        else:
            q = f"q{k}"
            self.emit(indent, f"{q} = g_hs({self.expr(scope, (), 1)})")
            scope[q] = ()

    def st_custom(self, indent, scope):
        """Calls of module-level helpers with user derivative rules (feature custom_rule):
        custom_vjp on arrays and numbers, custom_jvp on numbers, also inside a loop."""
        self.used.add("custom_rule")
        k = self.fresh()[1:]
        v = f"cu{k}"
        form = self.pick(ARRAY_CUSTOM + SCALAR_CUSTOM + ("loop",))
        self.custom.add("cv_act" if form == "loop" else form)
        if form == "cv_act":
            sh = self.pick([(self.length(),), (self.r, self.c)])
            self.emit(indent, f"{v} = cv_act({self.expr(scope, sh, 1)})")
            scope[v] = sh
        elif form == "cv_energy":
            self.emit(indent, f"{v} = cv_energy({self.expr(scope, (self.length(),), 1)}, {self.expr(scope, (), 1)})")
            scope[v] = ()
        elif form == "cv_softplus":
            self.emit(indent, f"{v} = cv_softplus({self.expr(scope, (), 1)})")
            scope[v] = ()
        elif form in ("cv_mix", "cj_wave"):
            self.emit(indent, f"{v} = {form}({self.expr(scope, (), 1)}, {self.expr(scope, (), 1)})")
            scope[v] = ()
        else:
            self.used.add("loop")
            n = self.length()
            self.emit(indent, f"{v} = {self.expr(scope, (n,), 1)}")
            self.emit(indent, f"for t in range({self.draw(st.integers(1, 3))}):")
            self.emit(indent + 1, f"{v} = 0.5 * np.tanh(cv_act({v})) + 0.5 * {self.small(scope, (n,))}")
            scope[v] = (n,)

    def statement(self, indent, scope):
        kinds = ["assign"]
        if self.has("write"):
            kinds.append("write")
        if self.has("loop"):
            kinds.append("loop")
        if self.has("if"):
            kinds.append("if")
        for feature, kind in ALIAS_STATEMENTS + NUMPY_STATEMENTS + (("custom_rule", "custom"),):
            if self.has(feature) and (feature != "adjit_nested" or self.nested_ok):
                kinds.append(kind)
        kind = self.pick(kinds)
        getattr(self, "st_" + kind)(indent, scope)

    def program(self):
        # adjit objects called inside f (their transformed IR is inlined) make a program
        # costlier to check, so only one program in five may contain them
        self.nested_ok = self.has("adjit_nested") and self.draw(st.integers(0, 4)) == 4
        if self.has("argnums"):
            k = self.draw(st.integers(0, len(ARGNUMS_CHOICES) - 1))
            if k:
                self.used.add("argnums")
            self.argnums = ARGNUMS_CHOICES[k]
        self.emit(0, "def f(x, A, s):")
        for _ in range(self.budget):
            self.statement(1, self.top)
        # return: the locals made last, each reduced to a float, plus a scalar term
        local = [k for k in self.top if k not in ("x", "A", "s")]
        terms = []
        for k in local[-3:]:
            sh = self.top[k]
            if sh == ():
                terms.append(f"{self.const()} * {k}")
            else:
                terms.append(f"{self.pick(['np.sum', 'np.mean', 'np.max'])}({self.pick(UNARY[:4]).format(k)})")
        if "param_write" in self.used:   # read the written arguments whole
            terms.append(self.pick(["np.sum(x * x)", "np.sum(A * A)", "np.sum(x * x) + np.sum(np.sin(A))"]))
        terms.append(f"{self.const()} * {self.expr(self.top, (), 1)}")
        self.emit(1, "return " + " + ".join(terms))
        if self.has("grad_of_grad") and self.draw(st.integers(0, 3)) == 3:
            self.used.add("grad_of_grad")
            self.grad_of_grad = True
        helpers = "".join(ARRAY_HELPERS[h] + "\n\n" for h in sorted(self.helpers)) + custom_text(self.custom)
        text = helpers + "\n".join(self.lines) + "\n"
        if self.has("jacobians") and self.draw(st.integers(0, 3)) == 3:
            self.used.add("jacobians")
            self.jacobians = True
            if not self.early_return:
                text += "\n\n" + self.vector_twin(local, terms)
        return text

    def vector_twin(self, local, terms):
        """fv: f's body returning an array (the Jacobian oracles' vector-valued function): a
        bounded function of the last local array (or of x), raveled, and f's value."""
        arrays = [k for k in local if self.top[k] != ()]
        vec = self.pick(UNARY[:4]).format(arrays[-1] if arrays else "x")
        body = self.lines[1:-1]
        return "\n".join(["def fv(x, A, s):"] + body +
                         [f"    return np.concatenate((np.ravel({vec}), np.array([{' + '.join(terms)}])))"]) + "\n"


@st.composite
def array_programs(draw, features=ALL_FEATURES, max_statements=9, depth=2):
    """A hypothesis strategy: an ArrayProgram (see the module docstring) of 1..max_statements
    top-level statements, expressions nested up to `depth` (at most 2) operations deep."""
    b = _Builder(draw, frozenset(features), max_statements, depth)
    src = b.program()
    return ArrayProgram(src, b.used, {"x": (b.nx,), "A": (b.r, b.c)}, argnums=b.argnums,
                        grad_of_grad=b.grad_of_grad, jacobians=b.jacobians)


def cases(npoints=2, max_statements=9, depth=2, features=DEFAULT_FEATURES):
    """(program, [arguments at each point]): the points are seeded random values."""
    return st.tuples(array_programs(features, max_statements, depth),
                     st.lists(st.integers(0, 2**32 - 1), min_size=npoints, max_size=npoints)).map(
        lambda t: (t[0], [t[0].point(seed) for seed in t[1]]))


# -- oracles -------------------------------------------------------------------------------------
JIT_RTOL, JIT_ATOL = 1e-10, 1e-10
TAPE_RTOL, TAPE_ATOL = 1e-8, 1e-10
ARGNUMS = (0, 1, 2)


def check_array_function(f, pts, stats=None, tape_notes=None, argnums=ARGNUMS, refusals_ok=False, tape_f=None):
    """The oracles of the array campaign for `f(x, A, s)` at the points `pts` (argument
    tuples): adjit.fuzz.oracles.check_function with this campaign's policy; raises a
    FuzzFailure subclass (adjit.fuzz.oracles.KINDS), or, with refusals_ok, an
    oracles.Refusal for a clear AdjitError when adjit compiles f.

    1. adjit.jit(f) == f (rtol 1e-10, atol 1e-10), and the argument arrays are left as
       Python leaves them (to the same tolerance: values written into them are computed);
    2. adjit.value_and_grad(f, argnums): the value == f, every argument array unchanged
       (differentiated or not), the gradient == adjit.tape's (rtol 1e-8, atol 1e-10).  If
       the tape raises an AdjitError the comparison is skipped and the reason is appended to
       `tape_notes`;
    3. the gradient == central differences (oracles.fd_smooth: two step sizes, so kinks
       and branch switches within 1e-4 of the point are detected and skipped).  Where the
       tape disagrees with adjit and the differences side with adjit, the kind is
       "tape-vs-fd": a bug of the tape engine, reported as such.
    """
    check_function(f, pts, argnums, stats, value_tol=(JIT_RTOL, JIT_ATOL), effect_tol=(JIT_RTOL, JIT_ATOL),
                   tape_tol=(TAPE_RTOL, TAPE_ATOL), require_float=True, skip_tape_refusals=True,
                   tape_notes=tape_notes, refusals_ok=refusals_ok, tape_f=tape_f)


def check_array_program(program, pts, stats=None, tape_notes=None, refusals_ok=False, gg_refusals=None,
                        jac_refusals=None):
    """check_array_function with the program's argnums; then, if the program asks for it,
    adjit.grad(adjit.grad(f, argnums=2), argnums=2) against the second difference in s.
    A clear refusal of the nested gradient (none expected: transformations compose) does not refuse the
    program: it is counted in stats["gg_refused"] and by reason in `gg_refusals`."""
    f = load(program)
    tape_f = load(program, plain=True) if "custom_rule" in program.used else None
    check_array_function(f, pts, stats, tape_notes, argnums=program.argnums, refusals_ok=refusals_ok,
                         tape_f=tape_f)
    if program.grad_of_grad:
        stats = stats if stats is not None else collections.Counter()
        try:
            check_grad_of_grad(f, pts, 2, stats, refusals_ok=True)
        except Refusal as e:
            stats["gg_refused"] += 1
            if gg_refusals is not None:
                gg_refusals[e.key] += 1
    if program.jacobians:
        fv = getattr(sys.modules[f.__module__], "fv", None)
        check_jacobians(f, pts, 0, stats if stats is not None else collections.Counter(), jac_refusals,
                        fv=fv, fv_argnums=(0, 2), tape_f=tape_f)


# -- a campaign ------------------------------------------------------------------------------------
def run_campaign(count, seed, npoints=2, progress=None, max_statements=9, depth=2, features=DEFAULT_FEATURES):
    """`count` programs drawn by hypothesis with `seed`, each checked; failures are recorded
    (not shrunk, the campaign goes on).  A clear AdjitError when adjit compiles a program is
    a refusal: counted in stats["refused"] and by reason in `refusals`, not a failure.
    Returns (stats Counter, failures list, tape notes, feature Counter, refusals Counter)."""
    from hypothesis import HealthCheck, Phase, given, settings
    from hypothesis import seed as hypothesis_seed

    stats, failures, notes, features_used = collections.Counter(), [], [], collections.Counter()
    refusals, gg_refusals, jac_refusals = collections.Counter(), collections.Counter(), collections.Counter()
    seen = set()

    @hypothesis_seed(seed)
    @settings(max_examples=count, deadline=None, database=None, phases=[Phase.generate],
              suppress_health_check=list(HealthCheck))
    @given(cases(npoints, max_statements, depth, frozenset(features)))
    def one(case):
        program, pts = case
        stats["generated"] += 1
        if program.module_text in seen:   # hypothesis may draw a program again: check it once
            stats["duplicates"] += 1
            return
        seen.add(program.module_text)
        features_used.update(program.used)
        try:
            check_array_program(program, pts, stats, notes, refusals_ok=True, gg_refusals=gg_refusals,
                                jac_refusals=jac_refusals)
        except Refusal as e:
            stats["refused"] += 1
            refusals[e.key] += 1
            for feat in program.used & (ALIAS_FEATURES | NEW_FEATURES):
                stats["refused:" + feat] += 1
        except FuzzFailure as e:
            stats["mismatches" if e.kind in MISMATCH_KINDS else "errors"] += 1
            failures.append({"kind": e.kind, "detail": e.detail, "program": program.module_text,
                             "points": pts, "argnums": program.argnums, "features": sorted(program.used)})
        except Exception as e:   # the campaign's own code: report it like the others
            stats["errors"] += 1
            failures.append({"kind": "harness-error", "detail": f"{type(e).__name__}: {e}",
                             "program": program.module_text, "points": pts, "argnums": program.argnums,
                             "features": sorted(program.used)})
        else:
            stats["passed"] += 1
        if progress and stats["generated"] % 25 == 0:
            progress(stats)

    one()
    refusals.update({"(not counted as refusals of programs) " + k: v
                     for k, v in (gg_refusals + jac_refusals).items()})
    return stats, failures, notes, features_used, refusals


def refusal_rate(stats):
    return stats["refused"] / max(1, stats["generated"] - stats["duplicates"])


def main(argv=None):
    p = argparse.ArgumentParser(prog="python -m adjit.fuzz.array_programs",
                                description="a campaign of generated NumPy-array programs")
    p.add_argument("--programs", type=int, default=100)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--points", type=int, default=2)
    p.add_argument("--max-statements", type=int, default=9, help="top-level statements (default 9)")
    p.add_argument("--depth", type=int, default=2, help="expression nesting, 1 or 2 (default 2)")
    p.add_argument("--exclude", default="", help="comma-separated features to leave out "
                   f"(known: {', '.join(sorted(ALL_FEATURES))})")
    p.add_argument("--only-classic", action="store_true",
                   help="leave out every alias-heavy, issue-14 NumPy and custom-rule feature, and the "
                   "Jacobian oracles (the generator before them)")
    p.add_argument("--max-refusal-rate", type=float, default=0.3,
                   help="fail (exit 1) if more than this fraction of programs is refused (default 0.3)")
    p.add_argument("--failures-json", default=None, help="write the failures (and refusals) as JSON here")
    a = p.parse_args(argv)
    names = frozenset(x for x in a.exclude.split(",") if x)
    if names - ALL_FEATURES:
        sys.exit(f"unknown features: {sorted(names - ALL_FEATURES)}; known: {sorted(ALL_FEATURES)}")
    features = DEFAULT_FEATURES - names - (ALIAS_FEATURES | NEW_FEATURES if a.only_classic else frozenset())
    mode = "interpreted" if os.environ.get("NUMBA_DISABLE_JIT", "0") not in ("", "0") else "compiled"
    t0 = time.time()
    stats, failures, notes, features_used, refusals = run_campaign(
        a.programs, a.seed, a.points, max_statements=a.max_statements, depth=a.depth, features=features,
        progress=lambda s: print(f"  {s['generated']} programs, {s['passed']} passed, {s['refused']} refused, "
                                 f"{s['mismatches']} mismatches, {s['errors']} errors, {time.time() - t0:.0f} s",
                                 flush=True))
    for fl in failures:
        print(f"\n[{fl['kind']}] (argnums {fl['argnums']}) {fl['detail']}\n{fl['program']}")
    print(f"\nmode {mode}, seed {a.seed}, programs {a.programs}, max statements {a.max_statements}, "
          f"depth {a.depth}, {time.time() - t0:.1f} s")
    print("stats:", dict(sorted(stats.items())))
    print("features:", dict(sorted(features_used.items())))
    kinds = collections.Counter(fl["kind"] for fl in failures)
    print("failures by kind:", dict(kinds.most_common()) if kinds else "none")
    rate = refusal_rate(stats)
    print(f"refused: {stats['refused']} of {stats['generated'] - stats['duplicates']} distinct programs ({100 * rate:.1f}%; "
          f"bound {100 * a.max_refusal_rate:.0f}%)")
    for key, n in refusals.most_common():
        print(f"  {n:5d}  {key}")
    if stats["gg_points"] or stats["gg_refused"]:
        print(f"grad(grad(f)) in s: {stats['gg_checked']} points checked, {stats['gg_skipped']} not smooth, "
              f"{stats['gg_refused']} programs refused (a clear error; transformations compose now, so expected 0)")
    if stats["jac_points"]:
        print(f"jacfwd/jacrev/hessian: {stats['jac_points']} points, {stats['jac_checked']} Jacobians and "
              f"{stats['hess_checked']} Hessians checked, {stats['jac_fd_checked']} columns against finite "
              f"differences ({stats['jac_fd_skipped']} not smooth), {stats['jac_refused']} objects refused")
    if notes:
        print("tape refusals:", collections.Counter(n.split("\n")[0] for n in notes).most_common(10))
    if a.failures_json:
        import json
        with open(a.failures_json, "w") as fh:
            json.dump({"stats": stats, "refusals": refusals, "features": features_used,
                       "failures": [dict(fl, points=[[v.tolist() if hasattr(v, "tolist") else v for v in pt]
                                                     for pt in fl["points"]]) for fl in failures]}, fh)
    too_many = rate > a.max_refusal_rate
    if too_many:
        print(f"FAILED: the refusal rate {100 * rate:.1f}% is above {100 * a.max_refusal_rate:.0f}%")
    return 1 if failures or too_many else 0


if __name__ == "__main__":
    sys.exit(main())
