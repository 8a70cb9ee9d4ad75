"""A hypothesis strategy for random programs in adjit's supported Python subset.

Every program is a module-level function ``def f(x, a, n):`` (``x`` a float, ``a`` a
float64 1-D array of length 4..6, ``n`` a small non-negative int) that returns a float.
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
})

# Features left out of the default campaign because they trigger known adjit bugs
# (see the report in tests/fuzz/README.md).  Empty: nothing is excluded by default.
KNOWN_BUG_FEATURES = frozenset()
DEFAULT_FEATURES = ALL_FEATURES - KNOWN_BUG_FEATURES

FLOAT_VARS = ("s", "t", "u", "c")
CONSTS = ("0.5", "1.5", "-0.25", "2.0", "0.1", "-1.0", "3")

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
        self.budget = draw(st.integers(2, 12))   # statements still allowed
        self.used = set()                        # features that occurred

    # -- helpers -----------------------------------------------------------------------
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

    # -- float expressions -------------------------------------------------------------
    def atom(self, scope):
        opts = ["x", "s", "t", "u", "a", "x", "a", "c", "const"]
        if self.has("local_array"):
            opts.append("b")
        if self.has("int_mix"):
            opts += ["int"] * 2 + ["intfn"]
        kind = self.pick(opts)
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
        if self.has("boolops"):
            kinds += ["and", "or", "not", "chain"]
        kind = self.pick(kinds)
        if kind == "cmp":
            op = self.pick(["<", ">", "<=", ">="])
            rhs = self.pick(["const", "expr"])
            rhs = self.pick(CONSTS[:4]) if rhs == "const" else self.fexpr(scope, 1)
            return f"{self.fexpr(scope, 1)} {op} {rhs}"
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
        nest_ok = scope["depth"] < 3 and self.budget > 0
        if nest_ok:
            if self.has("if"):
                kinds.append("if")
            if self.has("for") and (scope["depth"] == 0 or self.has("nested")):
                kinds.append("for")
            if self.has("while") and (scope["depth"] == 0 or self.has("nested")):
                kinds.append("while")
        if scope["in_loop"]:
            if self.has("recurrence") and any(s and g for _, s, g in scope["ints"]):
                kinds.append("recurrence")
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
        name = self.pick([v for v, s, g in scope["ints"] if s and g])
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
        return self.guarded(indent, scope, f"return {self.ret_expr(scope)}")

    def ret_expr(self, scope):
        terms = ["s", "t", "u", "c", "x"]
        extra = self.fexpr(scope, 2)
        k = self.draw(st.integers(1, len(terms)))
        body = " + ".join(terms[:k])
        if self.has("local_array") and self.coin():
            body += " + b[1]"
        return f"{body} + {extra}"

    # -- the function ------------------------------------------------------------------
    def program(self):
        top = {"depth": 0, "in_loop": False, "ints": []}
        self.emit(0, "def f(x, a, n):")
        self.emit(1, "s = 0.0")
        self.emit(1, f"t = {self.pick(['x', '0.5 * x + a[0]', 'math.sin(x)'])}")
        self.emit(1, f"u = {self.pick(['a[1]', '1.0', 'x * a[2]'])}")
        self.emit(1, "c = 0" if self.has("int_mix") else "c = 0.0")
        if self.has("local_array"):
            self.emit(1, "b = np.zeros(len(a))")
        while True:
            self.budget -= 1
            if self.statement(1, top):
                break  # an unconditional top-level return ended the function
            if self.budget <= 0:
                self.emit(1, f"return {self.ret_expr(top)}")
                break
        return "\n".join(self.lines) + "\n"


HEADER = "import math\n\nimport numpy as np\n\n\n"


class Program:
    def __init__(self, source, used):
        self.source = source            # the text of f (without the imports)
        self.used = frozenset(used)     # features that occur in it

    @property
    def module_text(self):
        return HEADER + self.source

    def __repr__(self):
        return "Program:\n" + self.module_text


@st.composite
def programs(draw, features=DEFAULT_FEATURES):
    b = _Builder(draw, frozenset(features))
    src = b.program()
    return Program(src, b.used)


# -- loading a program as a real module (adjit needs inspect.getsource) ----------------

_DIR = None


def program_dir():
    global _DIR
    if _DIR is None:
        _DIR = tempfile.mkdtemp(prefix="adjit_fuzz_programs_")
        sys.path.insert(0, _DIR)
    return _DIR


def load(program):
    """Write the program to a .py file, import it as a unique module, return its f."""
    text = program.module_text
    name = "adjit_fuzz_" + hashlib.sha256(text.encode()).hexdigest()[:16]
    mod = sys.modules.get(name)
    if mod is None:
        path = os.path.join(program_dir(), name + ".py")
        with open(path, "w") as fh:
            fh.write(text)
        importlib.invalidate_caches()
        mod = importlib.import_module(name)
    return mod.f
