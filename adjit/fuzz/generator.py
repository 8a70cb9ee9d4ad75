"""A hypothesis strategy for random programs in adjit's supported Python subset
(used by ``python -m adjit.fuzz`` and by tests/fuzz).

Every program is a module-level function ``def f(x, a, n):`` (``x`` a float, ``a`` a
float64 1-D array of length 4..6, ``n`` a small non-negative int) that returns a float;
features "float_arg2" and "matrix" may add a float ``y`` and a float64 2-D array ``m``
(2..3 rows, 2..4 columns): ``def f(x, a, n, y, m):``.  ``Program.params`` lists them.
The generator only writes programs that Python itself runs without error:

* every name is bound before it is read: the float locals ``s t u c`` and the local array
  ``b = np.zeros(len(a))`` are created before any loop; loop indices and ``while`` counters
  are read only inside their loop;
* every index is in bounds whatever ``len(a)`` is (4..6): constants 0..3 and -1..-2, loop
  indices of ranges that stay inside ``[0, len(a))``, ``k % len(a)`` for any non-negative
  int ``k``, and ``int(abs(e) * 2.0) % len(a)`` for a data-dependent index;
* math functions only see their safe domains (``log(1.0 + e*e)``, ``sqrt(1.0 + e*e)``,
  ``exp(tanh(e))``, divisions by ``1.0 + e*e`` ...);
* values stay bounded: inside loops every update of a float variable or an array element
  is contractive (``v = 0.5 * v + 0.5 * tanh(e)``) or adds a small bounded increment;
* every ``while`` loop has an iteration cap counter, incremented first in its body (so a
  ``continue`` cannot skip it);
* ``break``/``continue``/``return`` are always the last statement of their block.

Choices are ordered simplest first, so that hypothesis shrinks towards small programs.
The ``features`` argument switches constructs on and off (see ``ALL_FEATURES``).
"""
import hashlib
import importlib
import os
import sys
import tempfile

from hypothesis import strategies as st

from .custom_helpers import SCALAR_CUSTOM, custom_text, plain_text

ALL_FEATURES = frozenset({
    "if",            # if / else on float comparisons
    "elif",          # elif chains
    "for",           # for i in range(...)
    "neg_step",      # range(..., ..., -1) and -2
    "nested",        # loops inside loops, ranges that depend on an outer index
    "while",         # while loops with a data-dependent condition and a cap counter
    "break",         # if c: break
    "continue",      # if c: continue
    "return",        # early return (inside loops and branches)
    "loop_else",     # for ... else / while ... else
    "store",         # a[idx] = ...
    "recurrence",    # a[i] = g(a[i - 1])
    "local_array",   # b = np.zeros(len(a)) and its loads/stores
    "minmax",        # max, min, abs
    "int_mix",       # int loop indices / n / int() / floor in float arithmetic
    "data_index",    # a[int(abs(e) * 2.0) % len(a)]
    "neg_index",     # a[-1], a[-2]
    "ternary",       # e1 if c else e2
    "boolops",       # and / or / not / chained comparisons in conditions
    "pow",           # e ** 2, e ** 3, (1 + e*e) ** 0.5, 2.0 ** tanh(e)
    "floatmod",      # e % 1.5 (a sawtooth: derivative 1 almost everywhere)
    "int_cond",      # conditions on ints: i % 2 == 0, n > 2, i != j
    "rebind",        # assignments to the parameters x and n
    "swap",          # tuple assignment: s, t = t, s
    "array_init",    # b = np.ones / np.zeros_like / np.full
    "array_copy",    # b = a.copy() / np.copy(a)
    "while_true",    # while True: with a cap check first and a conditional break last
    "for_each",      # for e in a: / for e in b:
    "helper",        # calls to module-level helper functions (inlined by adjit)
    "epilogue",      # a final loop that reads every a[i] (and b[i]) into s
    "float_arg2",    # a second float argument y: def f(x, a, n, y, ...)
    "matrix",        # a 2-D float argument m (2..3 x 2..4): loads, stores, loops over its rows and columns
    # alias-heavy constructs (docs/testing.md): writes through views, int arrays changed after use,
    # helpers writing into slices, adjit objects called inside f, adjit.grad(adjit.grad(f))
    "view_alias",    # v = a[1:] / b[::2] / a[:]; v[k] = ... (then a, b read as usual)
    "helper_view",   # h_write(a[1:], k, e): a helper writing into a slice of an argument
    "int_array",     # ci = np.zeros(len(a), dtype=np.int64): read in float arithmetic, then ci[k] += 1
    "adjit_nested",  # g_smooth = adjit.grad(h_smooth), j_branch = adjit.jit(h_branch) called inside f
    "grad_of_grad",  # the campaign also checks adjit.grad(adjit.grad(f)) in x
    "custom_rule",   # helpers with user rules: cv_softplus(e), cv_mix(e, e), cj_wave(e, e), cv_energy(a, e)
    "jacobians",     # one program in four: jacfwd/jacrev/hessian of f in a (adjit/fuzz/jacobians.py)
})

# Features left out of the default campaign (and of long runs unless ADJIT_FUZZ_ALL=1)
# because they trigger known adjit bugs:
#   array_copy: `b = a.copy(); b[0] = 2.0 * b[0]; return a[1]` -- adjit.grad(f, argnums=1)
#               raises KeyError ('D', 3) in adjit/ad/reverse.py array_adj (the copy is dead).
KNOWN_BUG_FEATURES = frozenset()  # none: the dead-copy crash is fixed
DEFAULT_FEATURES = ALL_FEATURES if os.environ.get("ADJIT_FUZZ_ALL") == "1" else ALL_FEATURES - KNOWN_BUG_FEATURES

FLOAT_VARS = ("s", "t", "u", "c")

# Module-level helpers (feature "helper").  Their local names deliberately clash with the
# caller's (s, i, t): inlining must keep them apart.
HELPERS = {
    "h_smooth": """def h_smooth(v, w):
    return math.tanh(v * w) + 0.5 * math.sin(v)
""",
    "h_branch": """def h_branch(v):
    if v > 0.0:
        return math.log(1.0 + v)
    t = -v
    return -0.5 * math.log(1.0 + t)
""",
    "h_loop": """def h_loop(arr, v):
    s = 0.0
    for i in range(len(arr)):
        s += math.tanh(arr[i] * v)
        if s > 1.5:
            return s / len(arr)
    return s / len(arr)
""",
    "h_write": """def h_write(arr, i, v):
    arr[i] = 0.5 * arr[i] + 0.5 * math.tanh(v)
""",
    "h_pair": """def h_pair(v, w):
    return math.tanh(v + w), math.sin(v - w)
""",
}
CONSTS = ("0.5", "1.5", "-0.25", "2.0", "0.1", "-1.0", "3")
# adjit objects of helpers, made at module level and called inside f (feature adjit_nested)
NESTED_OBJECTS = "g_smooth = adjit.grad(h_smooth)\nj_branch = adjit.jit(h_branch)\n\n\n"

# One-argument functions that are safe on any finite argument; {} is the argument.
SAFE_FUNCS = (
    "math.sin({})", "math.tanh({})", "math.cos({})", "math.atan({})",
    "math.exp(math.tanh({}))", "math.log(1.0 + {0} * {0})", "math.sqrt(1.0 + {0} * {0})",
    "math.exp(-({0}) * ({0}))", "math.log1p({0} * {0})", "math.expm1(math.sin({}))",
    "math.erf({})", "np.tanh({})", "math.hypot({}, 1.0)", "math.asinh({})",
)
# Bounded functions (|g| <= 1.6), used to keep updates contractive.
BOUNDED = ("math.tanh({})", "math.sin({})", "math.cos({})", "math.atan({})",
           "{0} / (1.0 + {0} * {0})", "math.erf({})")


class _Builder:
    def __init__(self, draw, features):
        self.draw = draw
        self.feat = features
        self.lines = []
        self.nwhile = 0
        self.budget = draw(st.integers(3, 14))   # statements still allowed
        self.used = set()                        # features that occurred
        self.helpers = set()                     # helper functions called
        self.views = 0                           # views made (feature view_alias)
        self.nested_ok = False                   # adjit objects may be called (feature adjit_nested)
        self.grad_of_grad = False
        self.jacobians = False
        self.custom = set()                      # helpers with user rules called (custom_helpers.py)
        self.custom_ok = False                   # they may be called (feature custom_rule)

    # -- helpers -----------------------------------------------------------------------
    def helper(self, names):
        name = self.pick(names)
        self.used.add("helper")
        self.helpers.add(name)
        return name

    def has(self, name):
        return name in self.feat

    def pick(self, options):
        return self.draw(st.sampled_from(options))

    def coin(self, p_true_index=1):
        """A boolean that shrinks to False."""
        return self.draw(st.integers(0, p_true_index)) == p_true_index

    def emit(self, indent, text):
        self.lines.append("    " * indent + text)

    # -- int and index expressions -----------------------------------------------------
    def int_vars(self, scope):
        return [v for v, _, _ in scope["ints"]]

    def index(self, scope, arr="a"):
        safe = [name for name, ok, _ in scope["ints"] if ok]
        if safe and self.coin():   # in loops, mostly the loop index: a[i] touches every element
            return self.pick(safe[::-1])
        opts = ["0", "1", "2", "3"]
        for name, safe, ge1 in scope["ints"]:
            if safe:
                opts.append(name)
                opts.append(f"len({arr}) - 1 - {name}")
                if ge1:
                    opts.append(f"{name} - 1")
            opts.append(f"{name} % len({arr})")
            opts.append(f"({name} + 1) % len({arr})")
        ints = self.int_vars(scope)
        if len(ints) >= 2:
            opts.append(f"({ints[-1]} + {ints[-2]}) % len({arr})")
        opts.append(f"(n + 1) % len({arr})")
        if self.has("neg_index"):
            opts += ["-1", "-2"]
        if self.has("data_index"):
            opts.append(None)
        choice = self.pick(opts)
        if choice is None:
            self.used.add("data_index")
            return f"int(abs({self.fexpr(scope, 1)}) * 2.0) % len({arr})"
        if choice.startswith("-"):
            self.used.add("neg_index")
        return choice

    def index2(self, scope, dim):
        """An index of dimension `dim` of m (2..3 rows, 2..4 columns)."""
        own = [v for v, d in scope.get("mints", ()) if d == dim]
        if own and self.coin():
            return self.pick(own[::-1])
        opts = ["0", "1", "-1", f"m.shape[{dim}] - 1", f"(n + 1) % m.shape[{dim}]"]
        opts += [f"{v} % m.shape[{dim}]" for v in self.int_vars(scope)]
        return self.pick(opts)

    # -- float expressions -------------------------------------------------------------
    def atom(self, scope):
        opts = ["x", "s", "t", "u", "a", "x", "a", "c", "const"]
        if self.has("local_array"):
            opts.append("b")
        if self.has("int_mix"):
            opts += ["int", "intfn"]
        if scope["fvals"]:
            opts += ["fval"] * 2
        if self.has("helper"):
            opts.append("helper")
        if self.has("float_arg2"):
            opts.append("y")
        if self.has("matrix"):
            opts += ["m", "m"]
        if self.has("int_array"):
            opts.append("ci")
        if self.nested_ok:
            opts.append("nested")
        if self.custom_ok:
            opts.append("custom")
        kind = self.pick(opts)
        if kind == "custom":
            self.used.add("custom_rule")
            name = self.pick(SCALAR_CUSTOM + ("cv_energy",))
            self.custom.add(name)
            if name == "cv_softplus":
                return f"cv_softplus({self.fexpr(scope, 1)})"
            if name == "cv_energy":   # an array argument: a, or the local b
                arr = self.pick(["a", "b"]) if self.has("local_array") else "a"
                return f"cv_energy({arr}, {self.fexpr(scope, 1)})"
            return f"{name}({self.fexpr(scope, 1)}, {self.atom(scope)})"
        if kind == "ci":
            self.used.add("int_array")
            return f"(0.25 * ci[{self.index(scope)}])"
        if kind == "nested":
            self.used.add("adjit_nested")
            if self.coin():
                # adjit.grad needs a float for the differentiated argument (1.0 * n is one)
                return f"g_smooth(1.0 * ({self.fexpr(scope, 1)}), {self.atom(scope)})"
            return f"j_branch({self.fexpr(scope, 1)})"
        if kind == "m":
            return f"m[{self.index2(scope, 0)}, {self.index2(scope, 1)}]"
        if kind == "fval":
            return self.pick(scope["fvals"])
        if kind == "helper":
            name = self.helper(["h_smooth", "h_branch", "h_loop"])
            if name == "h_smooth":
                return f"h_smooth({self.fexpr(scope, 1)}, {self.atom(scope)})"
            if name == "h_branch":
                return f"h_branch({self.fexpr(scope, 1)})"
            arr = self.pick(["a", "b"]) if self.has("local_array") else "a"
            return f"h_loop({arr}, {self.fexpr(scope, 1)})"
        if kind in ("a", "b"):
            return f"{kind}[{self.index(scope, kind)}]"
        if kind == "const":
            return self.pick(CONSTS)
        if kind == "int":
            self.used.add("int_mix")
            name = self.pick(["n"] + self.int_vars(scope))
            return self.pick([f"0.1 * {name}", name, f"{name} / 4"])
        if kind == "intfn":
            self.used.add("int_mix")
            return self.pick([f"math.floor(2.0 * {self.atom(scope)})", f"int(3.0 * math.tanh({self.atom(scope)}))"])
        return kind

    def fexpr(self, scope, depth=2):
        if depth <= 0:
            return self.atom(scope)
        kinds = ["atom", "binop", "func", "atom", "binop", "func", "binop", "func", "neg", "div"]
        if self.has("minmax"):
            kinds += ["minmax", "abs", "minmax"]
        if self.has("ternary"):
            kinds.append("ternary")
        if self.has("pow"):
            kinds.append("pow")
        if self.has("floatmod"):
            kinds.append("mod")
        kind = self.pick(kinds)
        d = depth - 1
        if kind == "atom":
            return self.atom(scope)
        if kind == "binop":
            op = self.pick(["+", "-", "*"])
            return f"({self.fexpr(scope, d)} {op} {self.fexpr(scope, d)})"
        if kind == "func":
            return self.pick(SAFE_FUNCS).format(self.fexpr(scope, d))
        if kind == "neg":
            return f"-{self.fexpr(scope, d)}"
        if kind == "div":
            den = self.pick(["(1.0 + {0} * {0})", "(2.0 + math.sin({}))", "(1.5 + math.tanh({}))"])
            return f"({self.fexpr(scope, d)} / {den.format(self.fexpr(scope, d))})"
        if kind == "minmax":
            self.used.add("minmax")
            fn = self.pick(["max", "min", "np.maximum", "np.minimum"])
            args = [self.fexpr(scope, d) for _ in range(2 + self.coin(3))]
            if fn.startswith("np."):
                args = args[:2]
            return f"{fn}({', '.join(args)})"
        if kind == "abs":
            self.used.add("minmax")
            return self.pick(["abs({})", "math.fabs({})"]).format(self.fexpr(scope, d))
        if kind == "ternary":
            self.used.add("ternary")
            return f"({self.fexpr(scope, d)} if {self.cond(scope)} else {self.fexpr(scope, d)})"
        if kind == "pow":
            self.used.add("pow")
            e = self.fexpr(scope, d)
            return self.pick(["({}) ** 2", "({}) ** 3", "(1.0 + ({0}) * ({0})) ** 0.5",
                              "2.0 ** math.tanh({})", "(1.5 + math.sin({})) ** 1.5"]).format(e)
        if kind == "mod":
            self.used.add("floatmod")
            return f"(({self.fexpr(scope, d)}) % 1.5)"
        raise AssertionError(kind)

    def cond(self, scope):
        kinds = ["cmp"]
        if self.has("int_cond"):
            kinds.append("int")
        if self.has("boolops"):
            kinds += ["and", "or", "not", "chain"]
        kind = self.pick(kinds)
        if kind == "cmp":
            op = self.pick(["<", ">", "<=", ">="])
            rhs = self.pick(["const", "expr"])
            rhs = self.pick(CONSTS[:4]) if rhs == "const" else self.fexpr(scope, 1)
            return f"{self.fexpr(scope, 1)} {op} {rhs}"
        if kind == "int":
            self.used.add("int_cond")
            ints = ["n"] + self.int_vars(scope)
            v = self.pick(ints)
            form = self.pick(["{v} % 2 == 0", "{v} > 2", "{v} != {w}", "{v} <= {w}", "{v} == 1"])
            return form.format(v=v, w=self.pick(ints))
        self.used.add("boolops")
        if kind == "and":
            return f"({self.cond_simple(scope)} and {self.cond_simple(scope)})"
        if kind == "or":
            return f"({self.cond_simple(scope)} or {self.cond_simple(scope)})"
        if kind == "not":
            return f"not ({self.cond_simple(scope)})"
        return f"-0.5 < {self.fexpr(scope, 1)} < 0.75"

    def cond_simple(self, scope):
        return f"{self.fexpr(scope, 1)} {self.pick(['<', '>'])} {self.pick(CONSTS[:4])}"

    # -- bounded updates ---------------------------------------------------------------
    def bounded(self, scope):
        return self.pick(BOUNDED).format(self.fexpr(scope, 2))

    def update_rhs(self, target, scope):
        """A value for `target` (a name or an element) that keeps it bounded in loops."""
        form = self.pick(["tanh", "mix", "inc"])
        if form == "tanh":
            return "=", self.bounded(scope)
        if form == "mix":
            c1 = self.pick(["0.5", "0.9", "-0.5", "0.25"])
            c2 = self.pick(["0.5", "1.0", "0.3"])
            return "=", f"{c1} * {target} + {c2} * {self.bounded(scope)}"
        op = self.pick(["+=", "-=", "*="])
        if op == "*=":
            return op, self.pick(["0.9", "0.5", "-0.75", f"math.tanh({self.fexpr(scope, 1)})"])
        return op, f"{self.pick(['0.1', '0.25'])} * {self.bounded(scope)}"

    # -- statements --------------------------------------------------------------------
    def block(self, indent, scope, min_stmts=1):
        """At least `min_stmts` statements; returns True if the block ended in a jump."""
        count = self.draw(st.integers(min_stmts, 3))
        for k in range(count):
            if k >= min_stmts and self.budget <= 0:
                break
            self.budget -= 1
            if self.statement(indent, scope):
                return True
        return False

    def statement(self, indent, scope):
        kinds = ["assign", "assign"]
        if self.has("store"):
            kinds.append("store")
        if self.has("local_array"):
            kinds.append("store_b")
        if self.has("int_mix"):
            kinds.append("intmix")
        if self.has("rebind"):
            kinds.append("rebind")
        if self.has("swap"):
            kinds.append("swap")
        if self.has("helper"):
            kinds.append("helper_stmt")
        if self.has("matrix"):
            kinds.append("store_m")
        if self.has("view_alias"):
            kinds.append("view_alias")
        if self.has("helper_view"):
            kinds.append("helper_view")
        if self.has("int_array"):
            kinds.append("store_ci")
        nest_ok = scope["depth"] < 3 and self.budget > 0
        if nest_ok:
            if self.has("if"):
                kinds += ["if"] * 2
            if self.has("for") and (scope["depth"] == 0 or self.has("nested")):
                kinds += ["for"] * 3
            if self.has("while") and (scope["depth"] == 0 or self.has("nested")):
                kinds += ["while"] * 2
            if self.has("while_true") and (scope["depth"] == 0 or self.has("nested")):
                kinds.append("while_true")
            if self.has("for_each") and (scope["depth"] == 0 or self.has("nested")):
                kinds.append("for_each")
            if self.has("matrix") and scope["depth"] < 2 and (scope["depth"] == 0 or self.has("nested")):
                kinds += ["mloop"] * 2
        if scope["in_loop"]:
            if self.has("store"):
                kinds.append("store")
            if self.has("recurrence") and any(s for _, s, _ in scope["ints"]):
                kinds += ["recurrence"] * 4
            if self.has("break"):
                kinds.append("break")
            if self.has("continue"):
                kinds.append("continue")
        if self.has("return"):
            kinds.append("return")
        kind = self.pick(kinds)
        return getattr(self, "st_" + kind)(indent, scope)

    def st_assign(self, indent, scope):
        v = self.pick(FLOAT_VARS)
        if scope["in_loop"]:
            op, rhs = self.update_rhs(v, scope)
        else:  # straight-line code runs once: a plain (shallow) expression is safe
            op, rhs = self.pick([lambda: self.update_rhs(v, scope), lambda: ("=", self.fexpr(scope, 2))])()
        self.emit(indent, f"{v} {op} {rhs}")

    def st_store(self, indent, scope, arr="a"):
        self.used.add("store" if arr == "a" else "local_array")
        target = f"{arr}[{self.index(scope, arr)}]"
        op, rhs = self.update_rhs(target, scope)
        self.emit(indent, f"{target} {op} {rhs}")

    def st_rebind(self, indent, scope):
        self.used.add("rebind")
        if self.coin(2):
            self.emit(indent, f"n = max(n - 1, 0)" if self.coin() else "n = (n + 1) % 7")
        else:
            op, rhs = self.update_rhs("x", scope)
            self.emit(indent, f"x {op} {rhs}")

    def st_swap(self, indent, scope):
        self.used.add("swap")
        v, w = self.pick([("s", "t"), ("t", "u"), ("u", "c"), ("c", "s")])
        if self.coin():
            self.emit(indent, f"{v}, {w} = {w}, {v}")
        else:
            self.emit(indent, f"{v}, {w} = 0.5 * {w}, {self.bounded(scope)}")

    def st_helper_stmt(self, indent, scope):
        name = self.helper(["h_write", "h_pair"])
        if name == "h_write":
            arr = self.pick(["a", "b"]) if self.has("local_array") else "a"
            self.emit(indent, f"h_write({arr}, {self.index(scope, arr)}, {self.fexpr(scope, 2)})")
        else:
            v, w = self.pick([("s", "t"), ("u", "c"), ("t", "u")])
            self.emit(indent, f"{v}, {w} = h_pair({self.fexpr(scope, 1)}, {self.fexpr(scope, 1)})")

    def st_while_true(self, indent, scope):
        self.used.add("while_true")
        if scope["depth"] > 0:
            self.used.add("nested")
        self.nwhile += 1
        w = f"w{self.nwhile}"
        self.emit(indent, f"{w} = 0")
        self.emit(indent, "while True:")
        self.emit(indent + 1, f"{w} += 1")
        self.emit(indent + 1, f"if {w} > {self.pick(['3', '5', 'len(a)'])}:")
        self.emit(indent + 2, "break")
        inner = dict(scope, depth=scope["depth"] + 1, in_loop=True, ints=scope["ints"] + [(w, False, True)])
        if self.block(indent + 1, inner, min_stmts=0):
            return False
        self.emit(indent + 1, f"if {self.cond(scope)}:")
        self.emit(indent + 2, "break")
        return False

    def st_for_each(self, indent, scope):
        self.used.add("for_each")
        if scope["depth"] > 0:
            self.used.add("nested")
        e = "e" + str(len(scope["fvals"]))
        arr = self.pick(["a", "b"]) if self.has("local_array") else "a"
        self.emit(indent, f"for {e} in {arr}:")
        inner = dict(scope, depth=scope["depth"] + 1, in_loop=True, fvals=scope["fvals"] + [e])
        self.block(indent + 1, inner)
        self.loop_else(indent, scope)
        return False

    def st_store_m(self, indent, scope):
        target = f"m[{self.index2(scope, 0)}, {self.index2(scope, 1)}]"
        op, rhs = self.update_rhs(target, scope)
        self.emit(indent, f"{target} {op} {rhs}")

    def st_mloop(self, indent, scope):
        """for r in range(m.shape[0]): for q in range(m.shape[1]): ... (or one of the two)"""
        if scope["depth"] > 0:
            self.used.add("nested")
        r, q = f"r{scope['depth']}", f"q{scope['depth']}"
        form = self.pick(["both", "rows", "cols"])
        ints, mints = list(scope["ints"]), list(scope.get("mints", ()))
        if form in ("both", "rows"):
            self.emit(indent, f"for {r} in range(m.shape[0]):")
            indent += 1
            ints.append((r, False, False))
            mints.append((r, 0))
        if form in ("both", "cols"):
            self.emit(indent, f"for {q} in range({self.pick(['m.shape[1]', 'm.shape[1] - 1, -1, -1'])}):")
            indent += 1
            ints.append((q, False, False))
            mints.append((q, 1))
        inner = dict(scope, depth=scope["depth"] + 1 + (form == "both"), in_loop=True, ints=ints, mints=tuple(mints))
        self.block(indent, inner)
        return False

    def st_view_alias(self, indent, scope):
        """A view of a (or b), written through the view; the base is read as usual later."""
        self.used.add("view_alias")
        arrs = ["a", "b"] if self.has("local_array") else ["a"]
        base = self.pick(arrs)
        # (view, an in-bounds index of it for every len(a) in 4..6)
        view, k = self.pick([(f"{base}[1:]", self.pick(["0", "1", "2", "-1"])),
                             (f"{base}[:]", self.pick(["0", "3", "-1"])),
                             (f"{base}[::2]", self.pick(["0", "1", "-1"])),
                             (f"{base}[::-1]", self.pick(["0", "1", "3"])),
                             (f"{base}[1:-1]", self.pick(["0", "1", "-1"]))])
        self.views += 1
        v = f"v{self.views}"
        self.emit(indent, f"{v} = {view}")
        op, rhs = self.update_rhs(f"{v}[{k}]", scope)
        self.emit(indent, f"{v}[{k}] {op} {rhs}")

    def st_helper_view(self, indent, scope):
        """h_write on a slice or row of an argument (or of b)."""
        self.used.add("helper_view")
        self.used.add("helper")
        self.helpers.add("h_write")
        opts = ["a[1:]", "a[::-1]"] + (["b[1:]", "b[::2]"] if self.has("local_array") else [])
        if self.has("matrix") and "m" in self.params:
            opts.append(f"m[{self.index2(scope, 0)}]")
        target = self.pick(opts)
        k = self.pick(["0", "1", "-1"])
        self.emit(indent, f"h_write({target}, {k}, {self.fexpr(scope, 2)})")

    def st_store_ci(self, indent, scope):
        self.used.add("int_array")
        self.emit(indent, f"ci[{self.index(scope)}] {self.pick(['+=', '=', '-='])} {self.pick(['1', '2', '3'])}")

    def st_store_b(self, indent, scope):
        self.st_store(indent, scope, "b")

    def st_intmix(self, indent, scope):
        self.used.add("int_mix")
        v = self.pick(FLOAT_VARS)
        name = self.pick(["n"] + self.int_vars(scope))
        form = self.pick([f"{v} += 0.05 * {name}", f"{v} = 0.5 * {v} + 0.1 * ({name} % 3)",
                          f"{v} += {name} * {self.bounded(scope)} / 8",
                          f"{v} = 0.5 * {v} + 0.25 * int(2.0 * {self.bounded(scope)})"])
        self.emit(indent, form)

    def st_recurrence(self, indent, scope):
        self.used.add("recurrence")
        # i - 1 is -1 when i == 0: Python reads the last element then, and so must adjit
        name = self.pick([v for v, s, _ in scope["ints"] if s])
        arr = self.pick(["a", "b"]) if self.has("local_array") else "a"
        form = self.pick([
            "{A}[{i}] = 0.5 * math.sin({A}[{i} - 1]) + 0.5 * {B}",
            "{A}[{i}] = math.tanh({A}[{i} - 1] * {A}[{i}] + {E})",
            "{A}[{i}] = 0.9 * {A}[{i} - 1] + 0.1 * {B}",
            "{A}[{i} - 1] = 0.5 * ({A}[{i}] + {A}[{i} - 1])",
        ])
        self.emit(indent, form.format(A=arr, i=name, B=self.bounded(scope), E=self.fexpr(scope, 1)))

    def st_if(self, indent, scope):
        inner = dict(scope, depth=scope["depth"] + 1)
        self.emit(indent, f"if {self.cond(scope)}:")
        self.block(indent + 1, inner)
        nelif = self.draw(st.integers(0, 2)) if self.has("elif") else 0
        for _ in range(nelif):
            self.used.add("elif")
            self.emit(indent, f"elif {self.cond(scope)}:")
            self.block(indent + 1, inner)
        if self.coin():
            self.emit(indent, "else:")
            self.block(indent + 1, inner)
        return False

    def loop_var(self, scope):
        return "ijk"[sum(1 for v in self.int_vars(scope) if v in "ijk")]

    def st_for(self, indent, scope):
        self.used.add("for")
        i = self.loop_var(scope)
        # (range text, index always in [0, len(a)), index always >= 1)
        opts = [("range(len(a))", True, False), ("range(n)", False, False),
                ("range(1, len(a))", True, True), ("range(2, n + 2)", False, True),
                ("range(0, len(a), 2)", True, False), ("range(3)", True, False)]
        if self.has("neg_step"):
            opts += [("range(len(a) - 1, -1, -1)", True, False), ("range(len(a) - 1, 0, -1)", True, True),
                     ("range(n, 0, -1)", False, True), ("range(len(a) - 1, -1, -2)", True, False)]
        for o, safe, _ in scope["ints"]:
            if o in "ijk" and self.has("nested"):
                opts += [(f"range({o})", safe, False), (f"range({o}, len(a))", True, False),
                         (f"range({o} + 1)", safe, False)]
                if self.has("neg_step"):
                    opts.append((f"range({o}, -1, -1)", safe, False))
        rng, safe, ge1 = self.pick(opts)
        if "-1)" in rng or ", -2)" in rng:
            self.used.add("neg_step")
        if scope["depth"] > 0:
            self.used.add("nested")
        inner = dict(scope, depth=scope["depth"] + 1, in_loop=True, ints=scope["ints"] + [(i, safe, ge1)])
        self.emit(indent, f"for {i} in {rng}:")
        self.block(indent + 1, inner)
        self.loop_else(indent, scope)
        return False

    def loop_else(self, indent, scope):
        if self.has("loop_else") and self.coin(3):
            self.used.add("loop_else")
            self.emit(indent, "else:")
            self.emit(indent + 1, f"{self.pick(FLOAT_VARS)} += 0.5 * {self.bounded(scope)}")

    def st_while(self, indent, scope):
        self.used.add("while")
        if scope["depth"] > 0:
            self.used.add("nested")
        self.nwhile += 1
        w = f"w{self.nwhile}"
        cap = self.pick(["3", "5", "8", "len(a)"])
        v = self.pick(FLOAT_VARS[:3])
        cond = self.pick([f"{v} < {self.pick(CONSTS[:4])}", f"abs({v}) < 1.0", "None"])
        if cond == "None":
            cond = self.cond(scope)
        self.emit(indent, f"{w} = 0")
        self.emit(indent, f"while {cond} and {w} < {cap}:")
        self.emit(indent + 1, f"{w} += 1")
        inner = dict(scope, depth=scope["depth"] + 1, in_loop=True, ints=scope["ints"] + [(w, False, True)])
        # make the condition data-dependent: drift the tested variable
        self.emit(indent + 1, f"{v} += {self.pick(['0.3', '0.5', '0.2'])} + 0.1 * {self.bounded(scope)}")
        self.block(indent + 1, inner, min_stmts=0)
        self.loop_else(indent, scope)
        return False

    def guarded(self, indent, scope, jump):
        if self.coin(2):
            self.emit(indent, f"if {self.cond(scope)}:")
            self.emit(indent + 1, jump)
            return False
        self.emit(indent, jump)
        return True

    def st_break(self, indent, scope):
        self.used.add("break")
        return self.guarded(indent, scope, "break")

    def st_continue(self, indent, scope):
        self.used.add("continue")
        return self.guarded(indent, scope, "continue")

    def st_return(self, indent, scope):
        self.used.add("return")
        if scope["depth"] == 0:  # an unconditional return here would end the program
            self.emit(indent, f"if {self.cond(scope)}:")
            self.emit(indent + 1, f"return {self.ret_expr(scope)}")
            return False
        return self.guarded(indent, scope, f"return {self.ret_expr(scope)}")

    def ret_expr(self, scope):
        terms = ["s", "t", "u", "c", "x"] + (["y"] if self.has("float_arg2") else [])
        extra = self.fexpr(scope, 2)
        k = self.draw(st.integers(1, len(terms)))
        body = " + ".join(terms[:k])
        if self.has("local_array") and self.coin():
            body += " + b[1]"
        return f"{body} + {extra}"

    # -- the function ------------------------------------------------------------------
    def program(self):
        top = {"depth": 0, "in_loop": False, "ints": [], "fvals": []}
        self.params = ["x", "a", "n"]
        for feature, name in (("float_arg2", "y"), ("matrix", "m")):
            if self.has(feature) and self.coin():
                self.params.append(name)
                self.used.add(feature)
            else:
                self.feat = self.feat - {feature}
        # adjit objects called inside f (their transformed IR is inlined) make a program
        # costlier to check, so only one program in five may call them
        self.nested_ok = self.has("adjit_nested") and self.draw(st.integers(0, 4)) == 4
        # helpers with user rules: one program in three (an atom may be one in every expression)
        self.custom_ok = self.has("custom_rule") and self.draw(st.integers(0, 2)) == 2
        self.emit(0, f"def f({', '.join(self.params)}):")
        self.emit(1, "s = 0.0")
        self.emit(1, f"t = {self.pick(['x', '0.5 * x + a[0]', 'math.sin(x)'])}")
        self.emit(1, f"u = {self.pick(['a[1]', '1.0', 'x * a[2]'])}")
        self.emit(1, "c = 0" if self.has("int_mix") else "c = 0.0")
        if self.has("local_array"):
            init = "np.zeros(len(a))"
            inits = (["np.ones(len(a))", "np.zeros_like(a)", "np.full(len(a), 0.5)"] if self.has("array_init") else []) + \
                (["a.copy()", "np.copy(a)"] if self.has("array_copy") else [])
            if inits and self.coin():
                init = self.pick(inits)
                self.used.add("array_copy" if "copy" in init else "array_init")
            self.emit(1, f"b = {init}")
        if self.has("int_array"):
            self.emit(1, f"ci = np.{self.pick(['zeros', 'ones'])}(len(a), dtype=np.int64)")
        while True:
            self.budget -= 1
            if self.statement(1, top):
                break  # an unconditional top-level return ended the function
            if self.budget <= 0:
                if self.has("epilogue") and self.coin():
                    # read every element at the end, so that gradients flow back through all
                    # the earlier stores, overwrites and recurrences
                    self.used.add("epilogue")
                    self.emit(1, "for i in range(len(a)):")
                    tail = " * (1.0 + 0.5 * b[i])" if self.has("local_array") else ""
                    self.emit(2, f"s += 0.2 * {self.pick(['math.sin', 'math.tanh', ''])}(a[i]){tail}")
                    if self.has("matrix"):
                        self.emit(1, "for i in range(m.shape[0]):")
                        self.emit(2, "for j in range(m.shape[1]):")
                        self.emit(3, f"s += 0.1 * {self.pick(['math.sin', 'math.tanh', ''])}(m[i, j])")
                self.emit(1, f"return {self.ret_expr(top)}")
                break
        if "adjit_nested" in self.used:
            self.helpers |= {"h_smooth", "h_branch"}
        if self.has("grad_of_grad") and self.draw(st.integers(0, 3)) == 3:
            self.used.add("grad_of_grad")
            self.grad_of_grad = True
        if self.has("jacobians") and self.draw(st.integers(0, 3)) == 3:
            self.used.add("jacobians")
            self.jacobians = True
        helpers = "".join(HELPERS[h] + "\n\n" for h in sorted(self.helpers)) + custom_text(self.custom)
        if "adjit_nested" in self.used:
            helpers += NESTED_OBJECTS
        return helpers + "\n".join(self.lines) + "\n"


HEADER = "import math\n\nimport numpy as np\n\n\n"
ADJIT_HEADER = "import math\n\nimport numpy as np\n\nimport adjit\n\n\n"   # programs with adjit objects


class Program:
    def __init__(self, source, used, params=("x", "a", "n"), header=None, grad_of_grad=False, jacobians=False):
        self.source = source            # the text of f (without the imports)
        self.grad_of_grad = grad_of_grad  # also check adjit.grad(adjit.grad(f)) in the first parameter
        self.jacobians = jacobians      # also check jacfwd/jacrev/hessian of f in the array a
        self.used = frozenset(used)     # features that occur in it
        self.params = tuple(params)     # f's parameters: x, a, n and perhaps y, m
        self.header = header if header is not None else (
            ADJIT_HEADER if self.used & {"adjit_nested", "custom_rule"} else HEADER)

    @property
    def module_text(self):
        return self.header + self.source

    def __repr__(self):
        return "Program:\n" + self.module_text


@st.composite
def programs(draw, features=DEFAULT_FEATURES):
    b = _Builder(draw, frozenset(features))
    src = b.program()
    return Program(src, b.used, b.params, grad_of_grad=b.grad_of_grad, jacobians=b.jacobians)


# -- loading a program as a real module (adjit needs inspect.getsource) ----------------

_DIR = None


def program_dir():
    global _DIR
    if _DIR is None:
        _DIR = tempfile.mkdtemp(prefix="adjit_fuzz_programs_")
        sys.path.insert(0, _DIR)
    return _DIR


def load(program, plain=False):
    """Write the program to a .py file, import it as a unique module, return its f.  With
    `plain`, the module without the custom-rule decorators (custom_helpers.plain_text): what
    adjit.tape runs, since it cannot trace into an adjit.custom_vjp/custom_jvp object."""
    text = program.module_text
    if plain:
        text = plain_text(text)
    name = "adjit_fuzz_" + hashlib.sha256(text.encode()).hexdigest()[:16]
    mod = sys.modules.get(name)
    if mod is None:
        path = os.path.join(program_dir(), name + ".py")
        with open(path, "w") as fh:
            fh.write(text)
        importlib.invalidate_caches()
        mod = importlib.import_module(name)
    return mod.f
