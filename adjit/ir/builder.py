"""Building structured SSA from imperative code.

The frontend and the AD passes both write code the way one writes Python: they assign
*variables* (``b.vars[name] = value``) and open ``if``/``for``/``while`` regions.  The
builder turns that into SSA: a variable assigned differently in two branches becomes
an ``if`` result, and a variable a loop body changes becomes a loop-carried value.

Loops are built speculatively: every variable is offered to the body as a carried
parameter, and afterwards the ones the body left unchanged are pruned (their uses
replaced by the value from before the loop).  When a body assigns a variable a wider
type (int, then float) or creates a variable that must outlive the loop, the body is
built again with that knowledge; `body` callbacks must therefore be re-runnable.

What happens to a variable assigned on one path only is the caller's policy
(`missing`): the frontend marks user names as possibly unbound (an error on use),
the AD passes fill in a zero or a placeholder.
"""
from .core import Block, Op, Value, replace_uses
from .primitives import PRIMITIVES
from .types import BOOL, F64, I64, Array, unify


class Unbound:
    """A variable that may be unbound here; reading it is the caller's error to raise."""
    __slots__ = ("name", "why")

    def __init__(self, name, why):
        self.name = name
        self.why = why


class Builder:
    def __init__(self, missing=None, on_type_clash=None):
        self.blocks = [Block()]
        self.vars = {}
        self.loc = None
        # missing(name, type) -> Value emitted in the current block, or an Unbound
        self.missing = missing or (lambda name, t: Unbound(name, "assigned on some paths only"))
        # on_type_clash(name, type_a, type_b) raises a clear error
        self.on_type_clash = on_type_clash or (lambda name, a, b: _clash(name, a, b))
        self.loop_carries_new = lambda name: isinstance(name, str) and name.startswith("$")
        self.hints = {}  # readable names for variables whose own name is not (e.g. tuple keys)
        # Loads already emitted in a block, reused while nothing may have written memory:
        # `c[i] * a + c[i] * b` reads c[i] once (and its adjoint is accumulated once).
        self._loads = {}

    # ---- straight-line code -------------------------------------------------------------
    @property
    def block(self):
        return self.blocks[-1]

    def emit(self, prim, args, attrs=None):
        """Append primitive `prim` to the current block; return its result (or None)."""
        p = PRIMITIVES[prim]
        attrs = attrs or {}
        wanted = p.args([a.type for a in args], attrs)
        args = [self.cast(a, t) for a, t in zip(args, wanted)]
        rtype = p.result([a.type for a in args], attrs)
        if prim == "pow":
            lowered = self._integer_power(args, rtype)
            if lowered is not None:
                return lowered
        folded = _fold(prim, args, rtype)
        if folded is not None:
            return folded if isinstance(folded, Value) else self.const(folded[0], rtype)
        if prim == "load":
            key = (self.block, *args)
            if key in self._loads:
                return self._loads[key]
        results = [] if rtype is None else [Value(rtype)]
        if prim == "const":
            results[0].const = (attrs["value"],)
        self.block.ops.append(Op(prim, args, results, attrs, loc=self.loc))
        if prim == "load":
            self._loads[key] = results[0]
        elif p.effect == "write":
            self._loads.clear()
        return results[0] if results else None

    # Strength reduction of integer powers, done here so that every producer of `pow` (the
    # frontend's `x ** 2`, `math.pow`, the AD rules) gets it: a float raised to a constant
    # integer n with 1 <= |n| <= 8, or to the float 2.0, becomes products, in the order Numba's own integer power unrolls them (square and
    # multiply: x**3 = x * (x*x), x**4 = (x*x) * (x*x)), so jit results are unchanged to the
    # bit (docs/limitations.md: these can differ from Python's pow in the last bit; LLVM
    # already turns pow(x, 2.0) into x*x).  A negative n is 1.0 / x**|n|, as Numba does.
    # The derivative then comes from `mul` (x**2: d_x += g * (2.0 * x), no pow_dbase helper,
    # nothing taped in loops: products are recomputed), and forward mode needs no new rule.
    # x**0 stays a pow (1.0, even for nan).  Arrays keep their pow: Numba fuses ``a ** 2``
    # into the array expression around it, where ``t = a; t * t`` needs a temporary array
    # (measured: the primal of vectorised Rosenbrock went from 0.75 to 2.2 ms); their
    # derivative avoids the helper by pow's own rule (a constant exponent: c * a ** (c - 1)).
    _MAX_UNROLLED_POWER = 8

    def _integer_power(self, args, rtype):
        base, exp = args
        if exp.const is None or rtype != F64 or base.type != F64:
            return None
        n = exp.const[0]
        if isinstance(n, float):
            if n != 2.0:
                return None
            n = 2
        if isinstance(n, bool) or not 1 <= abs(n) <= self._MAX_UNROLLED_POWER:
            return None
        result, square, k = None, base, abs(n)
        while k:
            if k & 1:
                result = square if result is None else self.emit("mul", [result, square])
            k >>= 1
            if k:
                square = self.emit("mul", [square, square])
        if n < 0:
            result = self.emit("div", [self.const(1.0), result])
        return result

    def const(self, value, type=None):
        if type is None:
            type = BOOL if isinstance(value, bool) else I64 if isinstance(value, int) else F64
        value = {BOOL: bool, I64: int, F64: float}[type](value)
        return self.emit("const", [], {"value": value, "type": type})

    def cast(self, v, t):
        if v.type == t or t is None:
            return v
        if _const_value(v) is not None:
            return self.const(_const_value(v), t)
        if isinstance(t, Array) and isinstance(v.type, Array) and t.ndim == v.type.ndim:
            t = t.dtype  # an array of another dtype: the elementwise cast
        prim = {F64: "f64", I64: "i64", BOOL: "truth"}.get(t)
        if prim is None:
            raise TypeError(f"cannot convert {v.type} to {t}")
        return self.emit(prim, [v])

    # ---- variables ------------------------------------------------------------------------
    def set(self, name, value):
        if isinstance(value, Value) and value.hint is None and isinstance(name, str):
            value.hint = _hint(name)
        self.vars[name] = value

    # ---- structured control flow ----------------------------------------------------------
    def if_(self, cond, then, orelse=None):
        """Build ``if cond: then() else: orelse()``.

        The callbacks assign variables and may return a list of values, which become
        extra results of the `if` (returned here); both must return the same number.
        """
        folded = _const_value(cond)
        if folded is not None:  # a constant condition: inline the branch that runs
            out = (then if folded else (orelse or (lambda: None)))()
            return list(out or [])
        before = self.vars
        sides = []
        for fn in (then, orelse or (lambda: None)):
            blk = Block()
            self.blocks.append(blk)
            self.vars = dict(before)
            out = list(fn() or [])
            sides.append((blk, self.vars, out))
            self.blocks.pop()
        self.vars = before
        (tb, tv, tout), (eb, ev, eout) = sides
        results = []
        for a, b in zip(tout, eout):
            results.append(self._join(None, tb, a, eb, b))
        names = [n for n in dict.fromkeys(list(tv) + list(ev)) if tv.get(n) is not ev.get(n)]
        var_results = {}
        for n in names:
            a, b = tv.get(n), ev.get(n)
            a = self._fill(n, tb, a, b)
            b = self._fill(n, eb, b, a)
            if isinstance(a, Unbound) or isinstance(b, Unbound):
                var_results[n] = a if isinstance(a, Unbound) else b
                continue
            if not isinstance(a, Value) or not isinstance(b, Value):
                var_results[n] = a if a is b else Unbound(n, "it holds different kinds of values on different paths")
                continue
            var_results[n] = self._join(n, tb, a, eb, b)
        values = [r for r in results] + [r for r in var_results.values() if isinstance(r, _Pending)]
        outs = []
        for r in values:
            r.value = Value(r.type, r.hint)
            outs.append(r.value)
        tb.yields = [r.then for r in values]
        eb.yields = [r.orelse for r in values]
        op = Op("if", [self.cast(cond, BOOL)], outs, blocks=[tb, eb], loc=self.loc)
        if outs or tb.ops or eb.ops:
            self.block.ops.append(op)
            self._loads.clear()  # the branches may have written memory
        for n, r in var_results.items():
            self.vars[n] = r.value if isinstance(r, _Pending) else r
        for n, v in tv.items():  # assigned the same value on both paths
            if ev.get(n) is v and before.get(n) is not v:
                self.vars[n] = v
        return [r.value for r in results]

    def _fill(self, name, blk, mine, other):
        """The value of `name` in branch `blk` where it was never assigned."""
        if mine is not None or other is None or isinstance(other, Unbound):
            return mine
        if not isinstance(other, Value):  # a caller's marker object (e.g. a tuple's): kept as is
            return other
        self.blocks.append(blk)
        try:
            return self.missing(name, other.type)
        finally:
            self.blocks.pop()

    def _join(self, name, tb, a, eb, b):
        t = unify(a.type, b.type)
        if t is None:
            self.on_type_clash(name, a.type, b.type)
        for blk, v in ((tb, a), (eb, b)):
            if v.type != t:
                self.blocks.append(blk)
                v = self.cast(v, t)
                self.blocks.pop()
            if blk is tb:
                a = v
            else:
                b = v
        hint = _hint(name) if isinstance(name, str) else None
        return _Pending(t, a, b, hint)

    def for_(self, start, stop, step, body, iv_hint="i"):
        """Build ``for iv in range(start, stop, step): body(iv)``."""
        start, stop, step = (self.cast(v, I64) for v in (start, stop, step))

        def make_params():
            iv = Value(I64, iv_hint)
            return [iv], lambda: body(iv)
        op = self._loop("for", [start, stop, step], make_params, None)
        return op

    def while_(self, cond, body):
        """Build ``while cond(): body()``; `cond` returns a bool value."""
        return self._loop("while", [], lambda: ([], body), cond)

    def _loop(self, kind, head_args, make_params, cond):
        widened = {}      # name -> type the carried variable must have
        new_vars = {}     # name -> type of a variable first assigned in the body that must outlive it
        inits_cache = {}
        for _attempt in range(20):
            before = self.vars
            names = [n for n, v in before.items() if isinstance(v, Value)] + [n for n in new_vars if n not in before]
            inits = []
            for n in names:
                if n in before and isinstance(before[n], Value):
                    init = before[n]
                    t = widened.get(n, init.type)
                    if init.type != t:
                        key = (n, t)
                        if key not in inits_cache:
                            inits_cache[key] = self.cast(init, t)
                        init = inits_cache[key]
                else:
                    key = (n, new_vars[n])
                    if key not in inits_cache:
                        inits_cache[key] = self.missing(n, new_vars[n])
                    init = inits_cache[key]
                inits.append(init)
            params = [Value(v.type, _hint(n) if isinstance(n, str) else self.hints.get(n, v.hint))
                      for n, v in zip(names, inits)]
            lead, run_body = make_params()
            carried_scope = dict(before)
            carried_scope.update(zip(names, params))
            cond_blk = None
            if cond is not None:
                cond_blk = Block(params)
                self.blocks.append(cond_blk)
                self.vars = dict(carried_scope)
                cond_blk.yields = [self.cast(cond(), BOOL)]
                self.blocks.pop()
            body_blk = Block(lead + params if cond is None else [])
            self.blocks.append(body_blk)
            self.vars = dict(carried_scope)
            run_body()
            after = self.vars
            self.blocks.pop()
            self.vars = before
            retry = False
            for n, p in zip(names, params):
                y = after.get(n)
                if not isinstance(y, Value):
                    continue
                if y.type != p.type:
                    t = unify(y.type, p.type)
                    if t is None:
                        self.on_type_clash(n, p.type, y.type)
                    if t != p.type:
                        widened[n] = t
                        if n in new_vars:
                            new_vars[n] = t
                        retry = True
            for n, v in after.items():
                if n not in carried_scope and isinstance(v, Value) and self.loop_carries_new(n):
                    if n not in new_vars:
                        new_vars[n] = v.type
                        retry = True
            if retry:
                continue
            break
        else:  # pragma: no cover - a type that widens forever cannot happen with three scalar types
            raise RuntimeError("loop typing did not converge")
        # Prune carried values the body never changed.
        keep, subst = [], {}
        for n, p, init in zip(names, params, inits):
            y = after.get(n)
            if y is p or not isinstance(y, Value):
                subst[p] = init
            else:
                y = self._cast_in(body_blk, y, p.type)
                keep.append((n, p, init, y))
        body_blk.yields = [y for *_, y in keep]
        for blk in ([cond_blk] if cond_blk else []) + [body_blk]:
            replace_uses(blk, subst)
        kept_params = [p for _, p, _, _ in keep]
        results = [Value(p.type, p.hint) for p in kept_params]
        args = head_args + [init for _, _, init, _ in keep]
        if cond is None:
            body_blk.params = lead + kept_params
            blocks = [body_blk]
        else:
            cond_blk.params = kept_params
            blocks = [cond_blk, body_blk]
        op = Op(kind, args, results, blocks=blocks, loc=self.loc)
        self.block.ops.append(op)
        self._loads.clear()  # the body may have written memory
        for (n, _, _, _), r in zip(keep, results):
            self.vars[n] = r
        # Variables first assigned inside the body are unbound after it (it may run 0 times).
        for n, v in after.items():
            if n not in self.vars and isinstance(v, Value):
                self.vars[n] = Unbound(n, "assigned only inside a loop, which may run zero times")
            elif n not in self.vars and not isinstance(v, Unbound) and self.loop_carries_new(n):
                self.vars[n] = v  # a caller's marker object whose parts are carried
        return op

    def _cast_in(self, blk, v, t):
        if v.type == t:
            return v
        self.blocks.append(blk)
        try:
            return self.cast(v, t)
        finally:
            self.blocks.pop()


class _Pending:
    """An `if` result being assembled: its type and the value each branch yields."""
    __slots__ = ("type", "then", "orelse", "hint", "value")

    def __init__(self, type, then, orelse, hint):
        self.type, self.then, self.orelse, self.hint, self.value = type, then, orelse, hint, None


def _const_value(v):
    """The Python value of a constant, or None."""
    return None if v.const is None else v.const[0]


def _clash(name, a, b):
    raise TypeError(f"variable {name!r} is assigned both {a} and {b}")


def _hint(name):
    """The readable part of a variable name: "$brk3" -> "brk", "x#0" -> "x_0"."""
    if name.startswith("$"):
        return name[1:].rstrip("0123456789").replace("#", "_") or None
    return name.replace("#", "_")


_FOLD = {"add": lambda a, b: a + b, "sub": lambda a, b: a - b, "mul": lambda a, b: a * b,
         "neg": lambda a: -a, "not_": lambda a: not a}


def _fold(prim, args, rtype):
    """Constant-fold integer bookkeeping and drop identities (x + 0, x * 1) at build time.

    Returns a Value to use instead, a 1-tuple holding a constant, or None.
    """
    if prim not in _FOLD:
        return None
    consts = [a.const for a in args]
    if all(c is not None for c in consts) and rtype in (I64, BOOL, F64):
        # (floats too: Python's float arithmetic is the IEEE double arithmetic of the compiled
        # code, so 2.0 * 1.0 folded here is the value Numba would compute)
        return (_FOLD[prim](*(c[0] for c in consts)),)
    if len(args) == 2 and not isinstance(rtype, Array):  # x * 1.0 on an array is a new array, not x
        a, b = args
        if prim in ("add", "sub") and b.const is not None and b.const[0] == 0 and a.type == rtype:
            return a
        if prim == "add" and a.const is not None and a.const[0] == 0 and b.type == rtype:
            return b
        if prim == "mul" and b.const is not None and b.const[0] == 1 and a.type == rtype:
            return a
        if prim == "mul" and a.const is not None and a.const[0] == 1 and b.type == rtype:
            return b
    return None
