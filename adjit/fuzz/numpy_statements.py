"""Statements of the array generator that use issue 14's NumPy functions (a mixin of
array_programs._Builder; each kind is one feature, see NUMPY_STATEMENTS).

Every statement binds new names of a known shape and leaves them in the scope, so that later
statements and the ``return`` read them whole.  The domains are chosen so that Python runs the
program at every point and the derivative exists there:

* linear algebra sees well-conditioned matrices only: ``S = B @ B.T + n * I`` with ``B``
  bounded (SPD, eigenvalues in [n, n + n * m]) for cholesky, solve, inv, slogdet; a bounded
  ``B + (n + 1) * I`` (strictly diagonally dominant) for the non-symmetric solve and inv;
* ``np.std`` and ``np.sort`` see bounded values plus a ladder ``np.arange(n)`` (unit steps),
  so the variance is never zero and sorted values are distinct (a tie would make the
  permutation, so the gradient, depend on the engine's tie-break);
* ``np.cumprod`` and ``np.kron`` see bounded values, so products stay small;
* index arrays are constants in bounds for every drawn shape (with repeats and negative
  indices); masks are only read inside a ``np.sum`` (the selection's size is data-dependent);
* ``np.squeeze`` always names its axis (without one adjit refuses: it needs the rank when it
  compiles);
* writes go into new arrays (``fresh_array``) or views of them, never into read-only views
  (``np.diagonal``) or into the arguments.

The memory model meets these functions in two kinds (features np_view_write, np_fancy):
views made by them (transpose, swapaxes, moveaxis, flip, expand_dims, squeeze, ``[:, None]``,
slices of a cumsum) written through while the base is read later, copies made by them (fancy
reads, sort, tril) written without touching the base, and index arrays and masks changed
after they were used.
"""
from hypothesis import strategies as st

# (feature, statement kind): one feature each, so that --exclude can switch them off
NUMPY_STATEMENTS = (
    ("np_stats", "np_stats"),          # np.var / np.std (axis, ddof, keepdims), np.average with weights
    ("np_ufunc", "np_ufunc"),          # np.add, np.hypot, np.logaddexp, np.reciprocal, np.sinc ...
    ("np_build", "np_build"),          # np.array([e, e, e]), arange, linspace, eye, identity, full_like
    ("np_newaxis", "np_newaxis"),      # u[:, None] - w[None, :], M[..., 0], 3-D products summed
    ("np_fancy", "np_fancy"),          # u[idx], M[np.arange(r), lab], np.sum(u[u > c]), w[idx] = e; idx changed
    ("np_shape", "np_shape"),          # transpose(axes), swapaxes, moveaxis, flip, roll, pad, repeat, tile, stacks
    ("np_scan", "np_scan"),            # cumsum, cumprod, diff, sort, argsort, argmax
    ("np_struct", "np_struct"),        # tril, triu, diag, diagonal, trace(offset=)
    ("np_linalg", "np_linalg"),        # solve, inv, det, slogdet, cholesky of well-conditioned matrices
    ("np_contract", "np_contract"),    # einsum, tensordot, kron, cross, inner, batched matmul
    ("np_view_write", "np_view_write"),  # views made by these functions written through; their copies written
)
NUMPY_FEATURES = frozenset(f for f, _ in NUMPY_STATEMENTS)
# adjit.tape (the oracle) has no rule for these array methods (AttributeError on a TapeArray),
# so the generator writes the np.* function instead; adjit compiles both spellings
TAPE_GAPS = (".cumprod()", ".repeat()", ".diagonal()")


def diag_len(r, c, k):
    """The length of diagonal k of an (r, c) matrix."""
    return max(0, min(r, c - k)) if k >= 0 else max(0, min(r + k, c))


class NumpyStatements:
    """The st_np_* statements; the host provides expr, small, fresh_array, length, emit, pick,
    coin, draw, fresh, used, r, c, nx (array_programs._Builder)."""

    def _k(self, feature):
        self.used.add(feature)
        return self.fresh()[1:]

    def _e(self, scope, shape):
        """An expression of `shape`, one operation deep, bracketed."""
        return f"({self.expr(scope, shape, 1)})"

    def _ladder(self, shape):
        """Unit steps along every element: distinct, bounded values stay distinct after adding it."""
        if len(shape) == 1:
            return f"np.arange({shape[0]})"
        return f"np.arange({shape[0] * shape[1]}).reshape({shape[0]}, {shape[1]})"

    def _ints(self, n, count):
        """`count` constant indices into an axis of length n (repeats and negatives allowed)."""
        return [self.draw(st.integers(-n, n - 1)) for _ in range(count)]

    # -- inside expressions: shape-preserving forms, so that these functions also meet loops,
    # branches, carried state and the other constructs wherever an expression is drawn --------
    NP_EXPR = {   # feature -> the shapes ("1", "2": any 1-D / 2-D, "0": a number) it has forms for
        "np_scan": "12", "np_shape": "12", "np_fancy": "12", "np_struct": "20", "np_stats": "0",
        "np_ufunc": "012", "np_linalg": "0", "np_contract": "0", "np_newaxis": "2",
    }

    def np_expr_features(self, shape):
        return [f for f, dims in self.NP_EXPR.items() if self.has(f) and str(len(shape)) in dims]

    def np_expr(self, scope, shape, d):
        """An expression of exactly `shape` made with one of issue 14's functions."""
        feature = self.pick(self.np_expr_features(shape))
        self.used.add(feature)
        e = f"({self.expr(scope, shape, d)})" if shape != () else None
        if feature == "np_scan":
            if len(shape) == 1:
                return self.pick([f"np.cumsum({e})", f"np.diff(np.pad({e}, (1, 0)))",
                                  f"np.sort({self.small(scope, shape)} + 3.0 * np.arange({shape[0]}))"])
            return f"np.cumsum({e}, axis={self.pick([0, 1, -1])})"
        if feature == "np_shape":
            if len(shape) == 1:
                return self.pick([f"np.flip({e})", f"np.roll({e}, {self.draw(st.integers(-2, 2))})",
                                  f"np.squeeze(np.expand_dims({e}, 0), axis=0)"])
            return self.pick([f"np.flip({e}, axis={self.pick([0, 1])})", f"np.roll({e}, 1, axis={self.pick([0, 1])})",
                              f"np.swapaxes({self._e(scope, shape[::-1])}, 0, 1)", f"np.flipud({e})"])
        if feature == "np_fancy":   # a permutation or a repeating index: the same shape
            n = shape[0]
            idx = self.draw(st.permutations(list(range(n)))) if self.coin() else self._ints(n, n)
            return f"{e}[np.array({list(idx)})]"   # rows of a 2-D e
        if feature == "np_struct":
            if len(shape) == 2:
                return self.pick([f"np.tril({e})", f"np.triu({e}, {self.draw(st.integers(-1, 1))})"])
            return f"np.trace({self._e(scope, (self.r, self.c))}, offset={self.draw(st.integers(-1, 1))})"
        if feature == "np_stats":
            n = self.length()
            return self.pick([f"np.var({self._e(scope, (n,))})",
                              f"np.std({self.small(scope, (n,))} + np.arange({n}))",
                              f"np.average({self._e(scope, (n,))}, weights=np.exp(np.tanh({self._e(scope, (n,))})))"])
        if feature == "np_ufunc":
            b = self._e(scope, self.pick(self.sub_shapes(shape)))
            a = e if e is not None else self._e(scope, ())
            return self.pick([f"np.logaddexp({a}, {b})", f"np.hypot(1.0 + {a} * {a}, {b})", f"np.square({a})",
                              f"np.multiply({a}, {b})", f"np.fmax({a}, {b})"])
        if feature == "np_linalg":
            n = self.length()
            B = self.small(scope, (n, n))
            return self.pick([f"np.linalg.slogdet(({B}) @ ({B}).T + {float(n)} * np.eye({n}))[1]",
                              f"np.linalg.det(({B}) + {float(n + 1)} * np.eye({n}))",
                              f"np.sum(np.linalg.solve(({B}) + {float(n + 1)} * np.eye({n}), {self._e(scope, (n,))}))"])
        if feature == "np_contract":
            n = self.length()
            return self.pick([f"np.einsum('i,i->', {self._e(scope, (n,))}, {self._e(scope, (n,))})",
                              f"np.inner({self._e(scope, (n,))}, {self._e(scope, (n,))})",
                              f"np.tensordot({self._e(scope, (self.r, self.c))}, {self._e(scope, (self.r, self.c))})"])
        # np_newaxis, 2-D
        return f"{self._e(scope, (shape[0],))}[:, None] * {self._e(scope, (shape[1],))}[None, :]"

    def _bind(self, indent, scope, name, text, shape):
        self.emit(indent, f"{name} = {text}")
        scope[name] = shape

    # -- statistics ---------------------------------------------------------------------
    def st_np_stats(self, indent, scope):
        k = self._k("np_stats")
        r, c = self.r, self.c
        v = f"st{k}"
        form = self.pick(["var", "std", "average", "method"])
        sh = self.pick([(self.length(),), (r, c)])
        arg = f"({self.small(scope, sh)} + {self._ladder(sh)})"
        ddof = self.pick(["", ", ddof=1"])
        if form in ("var", "std"):
            if len(sh) == 1:
                axis, out = self.pick([("", ()), (", axis=0", ()), (", axis=0, keepdims=True", (1,))])
            else:
                axis, out = self.pick([("", ()), (", axis=0", (c,)), (", axis=1", (r,)), (", axis=-1", (r,)),
                                       (", axis=1, keepdims=True", (r, 1)), (", axis=0, keepdims=True", (1, c))])
            self._bind(indent, scope, v, f"np.{form}({arg}{axis}{ddof})", out)
        elif form == "average":
            w = self.pick([f"np.exp(np.tanh{self._e(scope, sh)})", f"(1.0 + {self._ladder(sh)})"])
            if len(sh) == 2 and self.coin():
                axis, out = self.pick([(", axis=0", (c,)), (", axis=1", (r,))])
            else:
                axis, out = "", ()
            self._bind(indent, scope, v, f"np.average({self._e(scope, sh)}, weights={w}{axis})", out)
        else:
            meth = self.pick(["var", "std", "mean"])
            if len(sh) == 2 and self.coin():
                axis, out = self.pick([("axis=0", (c,)), ("axis=1", (r,))])
            else:
                axis, out = "", ()
            extra = ddof[2:] if meth != "mean" and ddof else ""
            sep = ", " if axis and extra else ""
            self._bind(indent, scope, v, f"{arg}.{meth}({axis}{sep}{extra})", out)

    # -- ufunc spellings ------------------------------------------------------------------
    def st_np_ufunc(self, indent, scope):
        k = self._k("np_ufunc")
        sh = self.pick([(self.length(),), (self.r, self.c), ()])
        a, b = self._e(scope, sh), self._e(scope, self.pick(self.sub_shapes(sh)))
        form = self.pick([
            f"np.add({a}, {b})", f"np.subtract({a}, {b})", f"np.multiply({a}, {b})",
            f"np.divide({a}, 1.0 + {b} * {b})", f"np.true_divide({b}, 2.0 + np.sin({a}))",
            f"np.negative({a})", f"np.reciprocal(2.0 + np.sin({a}))", f"np.square({a})",
            f"np.power(1.0 + {a} * {a}, 1.5)", f"np.exp2(np.tanh({a}))", f"np.logaddexp({a}, {b})",
            f"np.logaddexp2({a}, {b})", f"np.deg2rad({a})", f"np.rad2deg(np.tanh({a}))", f"np.fmax({a}, {b})",
            f"np.fmin({a}, {b})", f"np.sinc(np.tanh({a}))", f"np.hypot(1.0 + {a} * {a}, {b})",
            f"np.arctan2({a}, 2.0 + np.cos({b}))", f"np.remainder({a}, 1.5)", f"np.positive({a})",
        ])
        self._bind(indent, scope, f"uf{k}", form, sh)

    # -- arrays built from numbers and ranges ---------------------------------------------------
    def st_np_build(self, indent, scope):
        k = self._k("np_build")
        v = f"bd{k}"
        n = self.length()
        form = self.pick(["list", "arange", "linspace", "eye", "nested", "full_like", "zeros2", "arange_f"])
        if form == "list":
            items = [self.expr(scope, (), 1) for _ in range(self.draw(st.integers(2, 4)))]
            self._bind(indent, scope, v, f"np.array([{', '.join(items)}])", (len(items),))
        elif form == "nested":
            e = [self.expr(scope, (), 1) for _ in range(4)]
            self._bind(indent, scope, v, f"np.array([[{e[0]}, {e[1]}], [{e[2]}, {e[3]}]])", (2, 2))
        elif form == "arange":
            self._bind(indent, scope, v, f"np.arange({n}) * {self._e(scope, ())} + {self._e(scope, (n,))}", (n,))
        elif form == "arange_f":
            start, step, count = self.pick([("0.0", "0.25", 4), ("-1.0", "0.5", 5), ("0.5", "1.0", 3)])
            stop = float(start) + float(step) * count - float(step) / 2
            self._bind(indent, scope, v, f"np.arange({start}, {stop}, {step}) * {self._e(scope, ())}", (count,))
        elif form == "linspace":
            stop = self.pick(["1.0", f"1.0 + {self.small(scope)}"])   # a computed end point: differentiated
            self._bind(indent, scope, v, f"np.linspace(-1.0, {stop}, {n}) * {self._e(scope, (n,))}", (n,))
        elif form == "eye":
            fn = self.pick([f"np.eye({n})", f"np.identity({n})", f"np.eye({self.r}, {self.c})"])
            sh = (self.r, self.c) if "," in fn else (n, n)
            self._bind(indent, scope, v, f"{fn} * {self._e(scope, ())} + {self._e(scope, sh)}", sh)
        elif form == "full_like":
            sh = self.pick([(n,), (self.r, self.c)])
            self._bind(indent, scope, v, f"np.full_like({self._e(scope, sh)}, {self.expr(scope, (), 1)})", sh)
        else:
            self.emit(indent, f"{v} = np.zeros(({self.r}, {self.c}))")
            self.emit(indent, f"{v}[{self.draw(st.integers(0, self.r - 1))}] = {self._e(scope, (self.c,))}")
            scope[v] = (self.r, self.c)

    # -- None / np.newaxis / ... indexing ------------------------------------------------------------
    def st_np_newaxis(self, indent, scope):
        k = self._k("np_newaxis")
        v = f"na{k}"
        r, c = self.r, self.c
        n, m = self.length(), self.length()
        form = self.pick(["outer", "col", "row", "ellipsis", "3d"])
        if form == "outer":
            none = self.pick(["None", "np.newaxis"])
            self._bind(indent, scope, v, f"{self._e(scope, (n,))}[:, {none}] - {self._e(scope, (m,))}[{none}, :]",
                       (n, m))
        elif form == "col":
            self._bind(indent, scope, v, f"{self._e(scope, (r,))}[:, None] * {self._e(scope, (r, c))}", (r, c))
        elif form == "row":
            self._bind(indent, scope, v, f"{self._e(scope, (c,))}[None] + {self._e(scope, (r, c))}", (r, c))
        elif form == "ellipsis":
            j = self.draw(st.integers(0, c - 1))
            self._bind(indent, scope, v, f"{self._e(scope, (r, c))}[..., {j}]", (r,))
        else:   # a 3-D broadcast product, reduced: a matrix product spelled with newaxis
            self._bind(indent, scope, v, f"np.sum({self._e(scope, (r, c))}[:, :, None] * "
                       f"{self._e(scope, (c, n))}[None, :, :], axis=1)", (r, n))

    # -- integer-array and mask indexing ----------------------------------------------------------
    def st_np_fancy(self, indent, scope):
        k = self._k("np_fancy")
        r, c = self.r, self.c
        n = self.length()
        idx, v, w = f"ix{k}", f"fa{k}", f"fb{k}"
        form = self.pick(["read", "rows", "pairs", "mask", "write", "changed", "mask_write", "argsort"])
        L = self.draw(st.integers(1, 4))
        if form == "read":
            self.emit(indent, f"{idx} = np.array({self._ints(n, L)})")
            self._bind(indent, scope, v, f"{self._e(scope, (n,))}[{idx}]", (L,))
        elif form == "rows":
            if self.coin():
                self._bind(indent, scope, v, f"{self._e(scope, (r, c))}[np.array({self._ints(r, L)})]", (L, c))
            else:
                self._bind(indent, scope, v, f"{self._e(scope, (r, c))}[:, np.array({self._ints(c, L)})]", (r, L))
        elif form == "pairs":
            lab = [self.draw(st.integers(0, c - 1)) for _ in range(r)]
            self._bind(indent, scope, v, f"{self._e(scope, (r, c))}[np.arange({r}), np.array({lab})]", (r,))
        elif form == "mask":
            sh = self.pick([(n,), (r, c)])
            e = f"m{k}"
            self.emit(indent, f"{e} = {self._e(scope, sh)}")
            scope[e] = sh
            self._bind(indent, scope, v, f"np.sum({e}[{e} > {self.const()}] ** 2)", ())
        elif form == "write":
            self.emit(indent, f"{w} = {self.fresh_array(scope, (n,))}")
            self.emit(indent, f"{idx} = np.array({self._ints(n, L)})")
            op = self.pick(["=", "+=", "*="])
            rhs = self.small(scope, self.pick([(), (L,)]))
            self.emit(indent, f"{w}[{idx}] {op} {rhs}")
            scope[w] = (n,)
        elif form == "changed":   # an index array changed after use, then used again
            self.emit(indent, f"{idx} = np.array({self._ints(n, L)})")
            self.emit(indent, f"{v} = {self._e(scope, (n,))}[{idx}]")
            self.emit(indent, f"{idx}[{self.draw(st.integers(-L, L - 1))}] = {self.draw(st.integers(-n, n - 1))}")
            self.emit(indent, f"{w} = {self._e(scope, (n,))}[{idx}] * {v}")
            scope[v], scope[w] = (L,), (L,)
        elif form == "mask_write":
            sh = self.pick([(n,), (r, c)])
            self.emit(indent, f"{w} = {self.fresh_array(scope, sh)}")
            self.emit(indent, f"{w}[{w} > {self.const()}] {self.pick(['=', '*='])} {self.small(scope)}")
            scope[w] = sh
        else:   # an index array computed by argsort / argmax, used, changed, used again
            self.emit(indent, f"{idx} = np.argsort({self.small(scope, (n,))} + np.arange({n})[::-1])")
            self.emit(indent, f"{v} = {self._e(scope, (n,))}[{idx}]")
            if self.coin():
                self.emit(indent, f"{idx}[0] = {idx}[-1]")
                self.emit(indent, f"{w} = {v} + {self._e(scope, (n,))}[{idx}]")
                scope[w] = (n,)
            scope[v] = (n,)
            self._bind(indent, scope, f"am{k}", f"{self._e(scope, (n,))}[np.argmax({self.small(scope, (n,))})]", ())

    # -- shapes ----------------------------------------------------------------------------------
    def st_np_shape(self, indent, scope):
        k = self._k("np_shape")
        v = f"sh{k}"
        r, c = self.r, self.c
        n, m = self.length(), self.length()
        M = self._e(scope, (r, c))
        u = self._e(scope, (n,))
        roll = self.draw(st.integers(-3, 3))
        forms = [
            (f"np.transpose({M})", (c, r)), (f"{M}.T", (c, r)), (f"np.swapaxes({M}, 0, 1)", (c, r)),
            (f"np.moveaxis({M}, 0, -1)", (c, r)), (f"{M}.transpose(1, 0)", (c, r)),
            (f"np.flip({M})", (r, c)), (f"np.flip({M}, axis={self.pick([0, 1, -1])})", (r, c)),
            (f"np.fliplr({M})", (r, c)), (f"np.flipud({M})", (r, c)), (f"np.flip({u})", (n,)),
            (f"np.roll({u}, {roll})", (n,)), (f"np.roll({M}, {roll}, axis={self.pick([0, 1])})", (r, c)),
            (f"np.roll({M}, {roll})", (r, c)),
            (f"np.repeat({u}, 2)", (2 * n,)), (f"np.repeat({M}, 2, axis=0)", (2 * r, c)),
            (f"np.tile({u}, 2)", (2 * n,)), (f"np.tile({M}, (2, 1))", (2 * r, c)),
            (f"np.pad({u}, 1)", (n + 2,)),
            (f"np.pad({M}, ((0, 1), (2, 0)), constant_values={self.pick(['0.5', '-1.0'])})", (r + 1, c + 2)),
            (f"np.vstack(({u}, {self._e(scope, (n,))}))", (2, n)),
            (f"np.vstack(({M}, {self._e(scope, (1, c))}))", (r + 1, c)),
            (f"np.hstack(({u}, {self._e(scope, (m,))}))", (n + m,)),
            (f"np.column_stack(({u}, {self._e(scope, (n,))}))", (n, 2)),
            (f"np.concatenate(({M}, {self._e(scope, (r, 1))}), 1)", (r, c + 1)),
            (f"np.stack(({u}, {self._e(scope, (n,))}), -1)", (n, 2)),
            (f"np.expand_dims({u}, {self.pick([0, 1])})", None),
            (f"np.squeeze({M}[:, 1:2], axis=1)", (r,)), (f"np.squeeze({M}[None], axis=0)", (r, c)),
            (f"np.atleast_2d({u})", (1, n)), (f"np.atleast_1d({u})", (n,)),
            (f"np.sum(np.transpose(np.stack(({M}, {self._e(scope, (r, c))})), (1, 2, 0)) * np.arange(1.0, 3.0), "
             f"axis=-1)", (r, c)),
            (f"np.sum(np.moveaxis(np.stack(({M}, {self._e(scope, (r, c))})), 0, -1), axis=2)", (r, c)),
        ]
        text, sh = self.pick(forms)
        if sh is None:
            sh = (1, n) if text.endswith("0)") else (n, 1)
        self._bind(indent, scope, v, text, sh)

    # -- scans and order -----------------------------------------------------------------------------
    def st_np_scan(self, indent, scope):
        k = self._k("np_scan")
        v = f"sc{k}"
        r, c = self.r, self.c
        n = self.length()
        form = self.pick(["cumsum", "cumprod", "diff", "sort", "sort2", "argsort", "method"])
        if form == "cumsum":
            text, sh = self.pick([(f"np.cumsum({self._e(scope, (n,))})", (n,)),
                                  (f"np.cumsum({self._e(scope, (r, c))}, axis={self.pick([0, 1, -1])})", (r, c)),
                                  (f"np.cumsum({self._e(scope, (r, c))})", (r * c,))])
        elif form == "cumprod":
            text, sh = self.pick([(f"np.cumprod({self.small(scope, (n,))})", (n,)),
                                  (f"np.cumprod({self.small(scope, (r, c))}, axis={self.pick([0, 1])})", (r, c))])
        elif form == "diff":
            text, sh = self.pick([(f"np.diff({self._e(scope, (n,))})", (n - 1,)),
                                  (f"np.diff({self._e(scope, (n,))}, n=2)", (n - 2,)),
                                  (f"np.diff({self._e(scope, (r, c))}, axis=0)", (r - 1, c)),
                                  (f"np.diff({self._e(scope, (r, c))})", (r, c - 1))])
        elif form == "sort":   # distinct values: bounded plus a shuffled ladder
            perm = self.draw(st.permutations(list(range(n))))
            text, sh = f"np.sort({self.small(scope, (n,))} + 3.0 * np.array({[float(p) for p in perm]}))", (n,)
        elif form == "sort2":
            axis = self.pick([0, 1, -1])
            text, sh = f"np.sort({self.small(scope, (r, c))} + 3.0 * np.arange({r * c}).reshape({r}, {c})[::-1], " \
                       f"axis={axis})", (r, c)
        elif form == "argsort":
            text, sh = f"{self._e(scope, (n,))}[np.argsort({self.small(scope, (n,))} + {self._ladder((n,))})]", (n,)
        else:   # methods; not .cumprod(), .repeat(), .diagonal(): adjit.tape's TapeArray lacks them (TAPE_GAPS)
            text, sh = f"{self._e(scope, (r, c))}.cumsum(axis={self.pick([0, 1])})", (r, c)
        self._bind(indent, scope, v, text, sh)

    # -- matrix structure ------------------------------------------------------------------------------
    def st_np_struct(self, indent, scope):
        k = self._k("np_struct")
        v = f"ms{k}"
        r, c = self.r, self.c
        n = self.length()
        off = self.draw(st.integers(-1, 1))
        M = self._e(scope, (r, c))
        forms = [(f"np.tril({M})", (r, c)), (f"np.triu({M}, {off})", (r, c)), (f"np.tril({M}, k={off})", (r, c)),
                 (f"np.diag({self._e(scope, (n,))})", (n, n)), (f"np.diag({self._e(scope, (n,))}, 1)", (n + 1, n + 1)),
                 (f"np.diag({M})", (min(r, c),)), (f"np.diagonal({M}, {off})", (diag_len(r, c, off),)),
                 (f"np.trace({M}, offset={off})", ()),
                 (f"np.trace({M}, {off})", ())]
        text, sh = self.pick(forms)
        self._bind(indent, scope, v, text, sh)

    # -- linear algebra ----------------------------------------------------------------------------------
    def st_np_linalg(self, indent, scope):
        k = self._k("np_linalg")
        n = self.length()
        m = self.length()
        S, v = f"S{k}", f"la{k}"
        if self.coin():   # symmetric positive definite, eigenvalues in [n, n + n * m]
            B = f"B{k}"
            self.emit(indent, f"{B} = {self.small(scope, (n, m))}")
            self.emit(indent, f"{S} = {B} @ {B}.T + {float(n)} * np.eye({n})")
            form = self.pick(["chol", "solve", "solve2", "inv", "det", "slogdet"])
        else:             # strictly diagonally dominant: every off-diagonal |entry| <= 1
            self.emit(indent, f"{S} = {self.small(scope, (n, n))} + {float(n + 1)} * np.eye({n})")
            form = self.pick(["solve", "solve2", "inv", "det"])
        scope[S] = (n, n)
        if form == "chol":
            self._bind(indent, scope, v, f"np.linalg.cholesky({S})", (n, n))
        elif form == "solve":
            self._bind(indent, scope, v, f"np.linalg.solve({S}, {self._e(scope, (n,))})", (n,))
        elif form == "solve2":
            self._bind(indent, scope, v, f"np.linalg.solve({S}, {self._e(scope, (n, m))})", (n, m))
        elif form == "inv":
            self._bind(indent, scope, v, f"np.linalg.inv({S})", (n, n))
        elif form == "det":
            self._bind(indent, scope, v, f"np.linalg.det({S} / {float(n)})", ())
        else:
            sg = f"sg{k}"
            self.emit(indent, f"{sg}, {v} = np.linalg.slogdet({S})")
            scope[sg], scope[v] = (), ()

    # -- contractions ------------------------------------------------------------------------------------
    def st_np_contract(self, indent, scope):
        k = self._k("np_contract")
        v = f"ct{k}"
        r, c = self.r, self.c
        n, m = self.length(), self.length()
        M = self._e(scope, (r, c))
        forms = [
            (f"np.einsum('ij,jk->ik', {M}, {self._e(scope, (c, n))})", (r, n)),
            (f"np.einsum('ij->j', {M})", (c,)), (f"np.einsum('ij,ij->', {M}, {self._e(scope, (r, c))})", ()),
            (f"np.einsum('i,i->', {self._e(scope, (n,))}, {self._e(scope, (n,))})", ()),
            (f"np.einsum('ij,j->i', {M}, {self._e(scope, (c,))})", (r,)), (f"np.einsum('ij->ji', {M})", (c, r)),
            (f"np.einsum('i,j->ij', {self._e(scope, (n,))}, {self._e(scope, (m,))})", (n, m)),
            (f"np.tensordot({M}, {self._e(scope, (c, n))}, axes=1)", (r, n)),
            (f"np.tensordot({M}, {self._e(scope, (r, c))})", ()),
            (f"np.tensordot({M}, {self._e(scope, (r, n))}, axes=([0], [0]))", (c, n)),
            (f"np.kron({self.small(scope, (n,))}, {self.small(scope, (2,))})", (2 * n,)),
            (f"np.kron({self.small(scope, (2, 2))}, {self.small(scope, (r, c))})", (2 * r, 2 * c)),
            (f"np.cross({self._e(scope, (n,))}[:3], {self._e(scope, (m,))}[-3:])", (3,)),
            (f"np.cross({M}[:, :3], {self._e(scope, (r, c))}[:, -3:])", (r, 3)),
            (f"np.inner({self._e(scope, (n,))}, {self._e(scope, (n,))})", ()),
            (f"np.inner({M}, {self._e(scope, (n, c))})", (r, n)),
            (f"np.sum(np.stack(({M}, {self._e(scope, (r, c))})) @ {self._e(scope, (c, n))}, axis=0)", (r, n)),
            (f"np.sum(np.matmul(np.stack(({M}, {self._e(scope, (r, c))})), {self._e(scope, (c,))}), axis=0)", (r,)),
            (f"np.dot(np.stack(({M}, {self._e(scope, (r, c))})), {self._e(scope, (c,))})[1]", (r,)),
        ]
        text, sh = self.pick(forms)
        self._bind(indent, scope, v, text, sh)

    # -- the memory model: views made by these functions written through, their copies written -----------
    def st_np_view_write(self, indent, scope):
        k = self._k("np_view_write")
        r, c = self.r, self.c
        P, V = f"P{k}", f"W{k}"
        form = self.pick(["view2", "view1", "copy", "scan_view"])
        if form == "view2":   # a 2-D view of a new (r, c) array, written, the base read later
            self.emit(indent, f"{P} = {self.fresh_array(scope, (r, c))}")
            view, sh = self.pick([(f"np.transpose({P})", (c, r)), (f"np.swapaxes({P}, 0, 1)", (c, r)),
                                  (f"np.moveaxis({P}, 1, 0)", (c, r)), (f"np.flip({P}, axis=1)", (r, c)),
                                  (f"np.flipud({P})", (r, c)), (f"np.flip({P})", (r, c)),
                                  (f"{P}[:, None][:, 0]", (r, c)), (f"np.expand_dims({P}[0], 1)", (c, 1)),
                                  (f"np.atleast_2d({P}[1])", (1, c))])
            self.emit(indent, f"{V} = {view}")
            w = self.pick(["elem", "row", "iadd"])
            if w == "elem":
                self.emit(indent, f"{V}[{self.draw(st.integers(0, sh[0] - 1))}, "
                                  f"{self.draw(st.integers(0, sh[1] - 1))}] = {self.expr(scope, (), 1)}")
            elif w == "row":
                self.emit(indent, f"{V}[{self.draw(st.integers(0, sh[0] - 1))}] = "
                                  f"{self.expr(scope, self.pick([(), (sh[1],)]), 1)}")
            else:
                self.emit(indent, f"{V} += {self.small(scope, self.pick(self.sub_shapes(sh)))}")
            scope[P] = (r, c)
            if self.coin():
                scope[V] = sh
        elif form == "view1":   # 1-D views: squeeze, [..., j], flip, a None-indexed row
            self.emit(indent, f"{P} = {self.fresh_array(scope, (r, c))}")
            view, m = self.pick([(f"np.squeeze({P}[:, 1:2], axis=-1)", r), (f"{P}[..., {c - 1}]", r),
                                 (f"np.flip({P}[0])", c), (f"{P}[None][0, 1]", c)])
            self.emit(indent, f"{V} = {view}")
            self.write_1d(indent, scope, V, m)
            scope[P] = (r, c)
        elif form == "copy":    # copies made by these functions, written: the source is unchanged
            n = self.length()
            self.emit(indent, f"{P} = {self.fresh_array(scope, (n,))}")
            src, m = self.pick([(f"{P}[np.array({self._ints(n, 3)})]", 3), (f"np.sort({P})", n),
                                (f"np.cumsum({P})", n), (f"np.repeat({P}, 2)", 2 * n), (f"np.roll({P}, 1)", n),
                                (f"np.pad({P}, 1)", n + 2), (f"np.diff({P})", n - 1)])
            self.emit(indent, f"{V} = {src}")
            self.write_1d(indent, scope, V, m)
            scope[P], scope[V] = (n,), (m,)
        else:                   # a slice of a cumsum's result written through
            n = self.length()
            C, q = f"C{k}", f"q{k}"
            self.emit(indent, f"{C} = np.cumsum({self.small(scope, (n,))})")
            view, m = self.view_of(C, n)
            self.emit(indent, f"{q} = {view}")
            self.write_1d(indent, scope, q, m)
            scope[C] = (n,)
