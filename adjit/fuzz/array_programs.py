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

from .generator import Program, load
from .oracles import MISMATCH_KINDS, FuzzFailure, check_function

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

ALL_FEATURES = frozenset({
    "broadcast", "unary", "minmax", "where", "clip", "reduce", "matmul", "slice", "reshape",
    "join", "element", "write", "loop", "if",
})


class ArrayProgram(Program):
    def __init__(self, source, used, shapes):
        super().__init__(source, used, params=("x", "A", "s"))
        self.shapes = shapes          # {"x": (nx,), "A": (r, c)}

    def point(self, seed):
        """The arguments (x, A, s) at a random point: uniform in [-1.5, 1.5], generic."""
        rng = np.random.default_rng(seed)
        return (rng.uniform(-1.5, 1.5, self.shapes["x"]), rng.uniform(-1.5, 1.5, self.shapes["A"]),
                float(rng.uniform(-1.5, 1.5)))


class _Builder:
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
        kind = self.pick(kinds)
        d = depth - 1
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

    def statement(self, indent, scope):
        kinds = ["assign"]
        if self.has("write"):
            kinds.append("write")
        if self.has("loop"):
            kinds.append("loop")
        if self.has("if"):
            kinds.append("if")
        kind = self.pick(kinds)
        getattr(self, "st_" + kind)(indent, scope)

    def program(self):
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
        terms.append(f"{self.const()} * {self.expr(self.top, (), 1)}")
        self.emit(1, "return " + " + ".join(terms))
        return "\n".join(self.lines) + "\n"


@st.composite
def array_programs(draw, features=ALL_FEATURES, max_statements=9, depth=2):
    """A hypothesis strategy: an ArrayProgram (see the module docstring) of 1..max_statements
    top-level statements, expressions nested up to `depth` (at most 2) operations deep."""
    b = _Builder(draw, frozenset(features), max_statements, depth)
    src = b.program()
    return ArrayProgram(src, b.used, {"x": (b.nx,), "A": (b.r, b.c)})


def cases(npoints=2, max_statements=9, depth=2):
    """(program, [arguments at each point]): the points are seeded random values."""
    return st.tuples(array_programs(ALL_FEATURES, max_statements, depth), st.lists(st.integers(0, 2**32 - 1), min_size=npoints,
                                                 max_size=npoints)).map(
        lambda t: (t[0], [t[0].point(seed) for seed in t[1]]))


# -- oracles -------------------------------------------------------------------------------------
JIT_RTOL, JIT_ATOL = 1e-10, 1e-10
TAPE_RTOL, TAPE_ATOL = 1e-8, 1e-10
ARGNUMS = (0, 1, 2)


def check_array_function(f, pts, stats=None, tape_notes=None):
    """The oracles of the array campaign for `f(x, A, s)` at the points `pts` (argument
    tuples): adjit.fuzz.oracles.check_function with argnums (0, 1, 2) and this campaign's
    policy; raises a FuzzFailure subclass (adjit.fuzz.oracles.KINDS).

    1. adjit.jit(f) == f (rtol 1e-10, atol 1e-10), the arguments unchanged as in Python;
    2. adjit.value_and_grad(f, argnums=(0, 1, 2)): the value == f, the arguments unchanged,
       the gradient == adjit.tape's (rtol 1e-8, atol 1e-10).  If the tape raises an
       AdjitError the comparison is skipped and the reason is appended to `tape_notes`;
    3. the gradient == central differences (oracles.fd_smooth: two step sizes, so kinks
       and branch switches within 1e-4 of the point are detected and skipped).
    """
    check_function(f, pts, ARGNUMS, stats, value_tol=(JIT_RTOL, JIT_ATOL), effect_tol=None,
                   tape_tol=(TAPE_RTOL, TAPE_ATOL), require_float=True, skip_tape_refusals=True,
                   tape_notes=tape_notes)


def check_array_program(program, pts, stats=None, tape_notes=None):
    return check_array_function(load(program), pts, stats, tape_notes)


# -- a campaign ------------------------------------------------------------------------------------
def run_campaign(count, seed, npoints=2, progress=None, max_statements=9, depth=2):
    """`count` programs drawn by hypothesis with `seed`, each checked; failures are recorded
    (not shrunk, the campaign goes on).  Returns (stats Counter, failures list, tape notes,
    feature Counter)."""
    from hypothesis import HealthCheck, Phase, given, settings
    from hypothesis import seed as hypothesis_seed

    stats, failures, notes, features = collections.Counter(), [], [], collections.Counter()

    @hypothesis_seed(seed)
    @settings(max_examples=count, deadline=None, database=None, phases=[Phase.generate],
              suppress_health_check=list(HealthCheck))
    @given(cases(npoints, max_statements, depth))
    def one(case):
        program, pts = case
        stats["generated"] += 1
        features.update(program.used)
        try:
            check_array_program(program, pts, stats, notes)
        except FuzzFailure as e:
            stats["mismatches" if e.kind in MISMATCH_KINDS else "errors"] += 1
            failures.append({"kind": e.kind, "detail": e.detail, "program": program.module_text,
                             "points": pts})
        else:
            stats["passed"] += 1
        if progress and stats["generated"] % 25 == 0:
            progress(stats)

    one()
    return stats, failures, notes, features


def main(argv=None):
    p = argparse.ArgumentParser(prog="python -m adjit.fuzz.array_programs",
                                description="a campaign of generated NumPy-array programs")
    p.add_argument("--programs", type=int, default=100)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--points", type=int, default=2)
    p.add_argument("--max-statements", type=int, default=9, help="top-level statements (default 9)")
    p.add_argument("--depth", type=int, default=2, help="expression nesting, 1 or 2 (default 2)")
    a = p.parse_args(argv)
    mode = "interpreted" if os.environ.get("NUMBA_DISABLE_JIT", "0") not in ("", "0") else "compiled"
    t0 = time.time()
    stats, failures, notes, features = run_campaign(
        a.programs, a.seed, a.points, max_statements=a.max_statements, depth=a.depth,
        progress=lambda s: print(f"  {s['generated']} programs, {time.time() - t0:.0f} s", flush=True))
    for fl in failures:
        print(f"\n[{fl['kind']}] {fl['detail']}\n{fl['program']}")
    print(f"\nmode {mode}, seed {a.seed}, programs {a.programs}, max statements {a.max_statements}, "
          f"depth {a.depth}, {time.time() - t0:.1f} s")
    print("stats:", dict(sorted(stats.items())))
    print("features:", dict(sorted(features.items())))
    if notes:
        print("tape refusals:", collections.Counter(n.split("\n")[0] for n in notes).most_common(10))
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
