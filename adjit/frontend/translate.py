"""Python AST -> typed structured SSA IR.

The walk keeps a map from Python names to SSA values (the builder's variables).
Names assigned inside a branch become `if` results and names a loop body changes
become loop-carried values (see adjit.ir.builder).  ``break``, ``continue`` and
``return`` are lowered here into boolean flags and guards, and a ``for`` that can
break becomes a ``while``, so every later pass sees only if/for/while.

Anything outside the supported subset raises an `AdjitError` subclass naming the
file, the line, the offending source and what to write instead.
"""
import ast
import math

import numpy as np

from ..errors import (AdjitError, AdjitNameError, AdjitTypeError, RecursionRefusedError,
                      UnsupportedSyntaxError, describe_type, dtype_name)
from ..ir.builder import Builder, Unbound
from ..ir.core import Function, Value
from ..ir.types import BOOL, F64, I64, is_array
from . import arrays, calls
from .lowering import always_returns, falls_off_at, has_break, may_exit, tailify
from .source import parse_function


class Tup:
    """A tuple known at compile time: its elements are IR values (or nested Tups)."""
    __slots__ = ("items",)

    def __init__(self, items):
        self.items = list(items)


class _TupVar:
    """Marks a variable holding a tuple; its elements live in variables ``name#k``."""
    _by_len = {}

    def __new__(cls, n):
        if n not in cls._by_len:
            obj = super().__new__(cls)
            obj.n = n
            cls._by_len[n] = obj
        return cls._by_len[n]


class Ref:
    """A compile-time object an expression may name: a module or a Python function."""
    __slots__ = ("obj", "path")

    def __init__(self, obj, path):
        self.obj, self.path = obj, path


_BINOPS = {ast.Add: "add", ast.Sub: "sub", ast.Mult: "mul", ast.Div: "div",
           ast.FloorDiv: "floordiv", ast.Mod: "mod", ast.Pow: "pow"}
_CMPOPS = {ast.Lt: "lt", ast.LtE: "le", ast.Gt: "gt", ast.GtE: "ge", ast.Eq: "eq", ast.NotEq: "ne"}

_MAX_UNROLL = 256  # a loop unrolled to index a tuple runs over the tuple's length, not over data

_INT_OPS = {"floordiv": lambda a, b: a // b, "mod": lambda a, b: a % b, "pow": lambda a, b: a ** b}
_CMP_FOLD = {"lt": lambda a, b: a < b, "le": lambda a, b: a <= b, "gt": lambda a, b: a > b,
             "ge": lambda a, b: a >= b, "eq": lambda a, b: a == b, "ne": lambda a, b: a != b}

_REFUSED_STMTS = {
    ast.Try: "try/except", ast.With: "with", ast.FunctionDef: "a nested def", ast.AsyncFunctionDef: "async def",
    ast.ClassDef: "a class definition", ast.Global: "global", ast.Nonlocal: "nonlocal", ast.Import: "import",
    ast.ImportFrom: "import", ast.Delete: "del", ast.Raise: "raise",
    ast.AsyncFor: "async for", ast.AsyncWith: "async with",
}
_HINTS = {
    "try/except": "compute without exceptions; check conditions with if",
    "a nested def": "define the helper at module level; adjit inlines module-level helpers",
    "global": "pass the value as an argument", "nonlocal": "pass the value as an argument",
    "import": "import at module level", "del": "just stop using the variable",
    "raise": "return a sentinel value (e.g. math.nan) instead",
}


class _Context:
    """Per-function state of the translation (the entry function or an inlined helper)."""

    def __init__(self, parsed):
        self.parsed = parsed
        self.globals = parsed.func.__globals__
        self.closure = _closure_vars(parsed.func)
        self.loops = []          # (break flag name, continue flag name) of enclosing loops
        self.return_lines = []   # lines of `return` statements, for error messages
        self.returns_value = None


class Translator:
    def __init__(self, func, arg_types, name=None):
        self.b = Builder(missing=self._missing, on_type_clash=self._type_clash)
        self.func = func
        self.arg_types = arg_types
        self.stack = []          # functions being translated, for recursion detection
        self.ctx = None
        self.loop_count = 0
        self._constructs = []
        self._nonneg = set()      # int values known to be >= 0 (see nonnegative)
        self._int_powers = {}     # float value of an int ** int of unknown sign -> (base, exponent)

    # ---- entry point ------------------------------------------------------------------------
    def translate(self):
        parsed = parse_function(self.func)
        tree = parsed.tree
        self._check_signature(parsed, tree, len(self.arg_types))
        params = []
        ctx = _Context(parsed)
        self.ctx = ctx
        for a, t in zip(tree.args.args, self.arg_types):
            self.assign(a.arg, _parameter(t, a.arg, params), tree)
        self.b.block.params = params
        self.stack.append(self.func)
        result = self._function_body(ctx, tree)
        self.stack.pop()
        items = result.items if isinstance(result, Tup) else ([] if result is None else [result])
        for v in items:
            if not isinstance(v, Value):
                raise self.error(UnsupportedSyntaxError, tree, "returning a nested tuple is not supported")
        self.b.block.yields = items
        fn = Function(tree.name, params, self.b.block, parsed.filename, returns_tuple=isinstance(result, Tup))
        fn.return_lines = ctx.return_lines
        fn.returns_none = result is None
        return fn

    def _function_body(self, ctx, tree):
        body = tailify(list(tree.body))
        if body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant) \
                and isinstance(body[0].value.value, str):
            body = body[1:]  # the docstring
        self.stmts(body)
        if not ctx.returns_value:  # no return, or only bare `return`: the function returns None
            return None
        if not always_returns(body):
            last = falls_off_at(body) if body else tree
            raise self.error(UnsupportedSyntaxError, last,
                             "this function may reach its end without returning a value (Python would return None)",
                             hint="end the function with a return statement")
        return self.read("$retval", tree)

    def _check_signature(self, parsed, tree, nargs, helper=False):
        if isinstance(tree, ast.AsyncFunctionDef):
            raise self.error(UnsupportedSyntaxError, tree, "async functions cannot be compiled",
                             hint="use a plain def", parsed=parsed)
        a = tree.args
        if a.vararg or a.kwarg or (a.kwonlyargs and not helper) or a.posonlyargs:
            raise self.error(UnsupportedSyntaxError, tree, "*args, **kwargs and keyword-only parameters are not supported",
                             hint="use plain positional parameters", parsed=parsed)

    # ---- errors ----------------------------------------------------------------------------------
    def error(self, cls, node, message, hint=None, parsed=None):
        parsed = parsed or self.ctx.parsed
        filename, lineno, text = parsed.where(node)
        if hint is None:
            hint = _HINTS.get(message)
        return cls(message, filename=filename, lineno=lineno, source_line=text, hint=hint)

    def _missing(self, name, t):
        if isinstance(name, str) and name.startswith("$"):
            if name.startswith(("$brk", "$cont", "$ret")) and not name.startswith("$retval"):
                return self.b.const(False)
            return self.b.emit("undef", [], {"type": t})
        return Unbound(name, "it is assigned on some paths only")

    def _type_clash(self, name, a, b):
        node = self._constructs[-1] if self._constructs else self._node
        where = self.ctx.parsed.where(node) if node is not None else (None, None, None)
        base = name.split("#")[0] if isinstance(name, str) else name  # x#1: an item of tuple x
        who = f"variable {base!r}" if isinstance(base, str) and not base.startswith("$") else "a value"
        if base == "$retval":
            who = "the returned value"
        raise AdjitTypeError(f"{who} is {describe_type(a)} on one path and {describe_type(b)} on another",
                             filename=where[0], lineno=where[1], source_line=where[2],
                             hint="give the variable one kind of value (numbers of any kind mix; arrays do not)")

    _node = None

    # ---- variables ------------------------------------------------------------------------------
    def assign(self, name, value, node):
        if isinstance(value, Tup):
            self.b.set(name, _TupVar(len(value.items)))
            for k, item in enumerate(value.items):
                self.assign(f"{name}#{k}", item, node)
        elif isinstance(value, Ref):
            raise self.error(UnsupportedSyntaxError, node, f"cannot store {value.path} in a variable",
                             hint="call it directly")
        else:
            self.b.set(name, value)

    def read(self, name, node):
        v = self.b.vars.get(name)
        if isinstance(v, _TupVar):
            return Tup([self.read(f"{name}#{k}", node) for k in range(v.n)])
        if isinstance(v, Unbound):
            raise self.error(AdjitNameError, node, f"variable {name.split('#')[0]!r} may be unbound here: {v.why}",
                             hint="assign it a value before the if/loop, so that it is defined on every path")
        return v

    # ---- statements ------------------------------------------------------------------------------
    def stmts(self, body):
        for k, s in enumerate(body):
            self.stmt(s)
            rest = body[k + 1:]
            if rest and may_exit(s, in_loop=bool(self.ctx.loops)):
                flag = self.exit_flag()
                if flag.const is not None:
                    if flag.const[0]:
                        return  # the rest is unreachable
                    continue
                self.b.if_(self.b.emit("not_", [flag]), lambda rest=rest: self.stmts(rest))
                return

    def exit_flag(self):
        names = ["$ret"] + (list(self.ctx.loops[-1]) if self.ctx.loops else [])
        flags = [self.b.vars[n] for n in names if isinstance(self.b.vars.get(n), Value)]
        if any(f.const == (True,) for f in flags):
            return self.b.const(True)
        flags = [f for f in flags if f.const != (False,)]
        if not flags:
            return self.b.const(False)
        out = flags[0]
        for f in flags[1:]:
            out = self.b.emit("or_", [out, f])
        return out

    def stmt(self, s):
        self._node = s
        self.b.loc = self.ctx.parsed.where(s)
        kind = type(s)
        if kind in _REFUSED_STMTS:
            what = _REFUSED_STMTS[kind]
            raise self.error(UnsupportedSyntaxError, s, f"{what} is not supported inside a compiled function",
                             hint=_HINTS.get(what))
        method = getattr(self, "stmt_" + kind.__name__, None)
        if method is None:
            raise self.error(UnsupportedSyntaxError, s, f"the statement {kind.__name__} is not supported")
        merges = kind in (ast.If, ast.For, ast.While)
        if merges:  # where variables from its branches/iterations meet: the place to blame for clashes
            self._constructs.append(s)
        try:
            method(s)
        finally:
            if merges:
                self._constructs.pop()

    def stmt_Pass(self, s):
        pass

    def stmt_Assert(self, s):
        """``assert cond, "message"``: checked at run time, raising AssertionError as Python
        does.  Compiled code always checks (``python -O`` does not remove it: the function
        is compiled once for every caller); a condition true when compiling costs nothing."""
        message = None
        if s.msg is not None:
            if not (isinstance(s.msg, ast.Constant) and isinstance(s.msg.value, str)):
                raise self.error(UnsupportedSyntaxError, s.msg, "the message of an assert must be a string constant",
                                 hint='write assert cond, "what went wrong" (values cannot be formatted into it)')
            message = s.msg.value
        cond = self.condition(s.test)
        if cond.const != (True,):
            self.b.emit("check", [cond], {"exception": "AssertionError", "message": message})

    def stmt_Expr(self, s):
        if isinstance(s.value, ast.Constant) and isinstance(s.value.value, str):
            return  # a string used as a comment
        self.expr(s.value)

    def stmt_Assign(self, s):
        value = self.expr(s.value)
        for target in s.targets:
            self.assign_target(target, value, s)

    def stmt_AnnAssign(self, s):
        if s.value is None:
            return
        self.assign_target(s.target, self.expr(s.value), s)

    def assign_target(self, target, value, node):
        if isinstance(target, ast.Name):
            self.assign(target.id, value, node)
        elif isinstance(target, (ast.Tuple, ast.List)):
            if not isinstance(value, Tup):
                raise self.error(UnsupportedSyntaxError, node, "only tuples can be unpacked",
                                 hint="unpack a tuple such as `a, b = b, a` or `n, m = x.shape`")
            if len(value.items) != len(target.elts) or any(isinstance(e, ast.Starred) for e in target.elts):
                raise self.error(UnsupportedSyntaxError, node,
                                 f"cannot unpack {len(value.items)} values into {len(target.elts)} names")
            for t, v in zip(target.elts, value.items):
                self.assign_target(t, v, node)
        elif isinstance(target, ast.Subscript):
            if isinstance(target.value, ast.Name) and isinstance(self.b.vars.get(target.value.id), _TupVar):
                raise self.error(UnsupportedSyntaxError, node, f"cannot assign to an item of the tuple (or list) "
                                 f"{target.value.id!r}: compiled code does not change tuples or lists",
                                 hint=f"build a new tuple, e.g. {target.value.id} = (x, {target.value.id}[1])")
            from . import numpy_index  # integer-array and mask indexing (issue 14)
            if numpy_index.write(self, target, value, node):
                return
            newaxes = []
            arr, idx, spec = self.subscript_parts(target, newaxes)
            arrays.check_write_newaxes(self, newaxes, spec, value, node)
            self.store(arr, idx, spec, value, node)
        else:
            raise self.error(UnsupportedSyntaxError, node, f"cannot assign to {ast.unparse(target)}",
                             hint="assign to a name or to an array element a[i]")

    def store(self, arr, idx, spec, value, node):
        if not isinstance(value, Value):
            raise self.error(UnsupportedSyntaxError, node, f"cannot store {_kind(value)} into an array")
        dtype = value.type.dtype if is_array(value.type) else value.type
        if arr.type.dtype != F64 and dtype == F64:
            raise self.error(AdjitTypeError, node, f"storing a float into an array of {dtype_name(arr.type.dtype)}",
                             hint="use a float64 array")
        if spec is None:
            if is_array(value.type):
                raise self.error(AdjitTypeError, node, "cannot store an array into one array element")
            self.b.emit("store", [arr] + idx + [value])
            return
        if is_array(value.type) and value.type.ndim > arrays.view_ndim(spec):
            raise self.error(AdjitTypeError, node, f"cannot store a {value.type.ndim}-d array into a "
                             f"{arrays.view_ndim(spec)}-d slice")
        self.b.emit("view_store", [arr] + idx + [value], {"spec": spec})

    def stmt_AugAssign(self, s):
        op = _BINOPS.get(type(s.op))
        if op is None:
            raise self.error(UnsupportedSyntaxError, s, f"the operator {type(s.op).__name__}= is not supported")
        if isinstance(s.target, ast.Name):
            old = self.read_name(s.target)
            new = self.binop(op, old, self.expr(s.value), s)
            if isinstance(old, Value) and is_array(old.type):
                # `a += v` on an array writes into it, as NumPy does (other names of it see the change)
                full = tuple(arrays.FULL_SLICE for _ in range(old.type.ndim))
                self.store(old, [], full, new, s)
            else:
                self.assign(s.target.id, new, s)
        elif isinstance(s.target, ast.Subscript):
            from . import numpy_index  # integer-array and mask indexing (issue 14)
            if numpy_index.augassign(self, s.target, op, s.value, s):
                return
            newaxes = []
            arr, idx, spec = self.subscript_parts(s.target, newaxes)
            rhs = self.expr(s.value)
            arrays.check_write_newaxes(self, newaxes, spec, rhs, s)
            old = self.b.emit("load", [arr] + idx) if spec is None else self.b.emit("view", [arr] + idx, {"spec": spec})
            self.store(arr, idx, spec, self.binop(op, old, rhs, s), s)
        else:
            raise self.error(UnsupportedSyntaxError, s, f"cannot update {ast.unparse(s.target)}")

    def stmt_If(self, s):
        cond = self.condition(s.test)
        self.b.if_(cond, lambda: self.stmts(s.body), lambda: self.stmts(s.orelse))

    def stmt_Return(self, s):
        ctx = self.ctx
        ctx.return_lines.append(ctx.parsed.where(s)[1])
        has_value = s.value is not None
        if ctx.returns_value is not None and ctx.returns_value != has_value:
            raise self.error(UnsupportedSyntaxError, s, "some return statements return a value and some do not")
        ctx.returns_value = has_value
        if has_value:
            value = self.expr(s.value)
            if isinstance(value, Tup) and not all(isinstance(v, Value) for v in value.items):
                raise self.error(UnsupportedSyntaxError, s, "returning a nested tuple is not supported")
            self.assign("$retval", value, s)
        self.b.set("$ret", self.b.const(True))
        for brk, _ in ctx.loops:
            self.b.set(brk, self.b.const(True))

    def stmt_Break(self, s):
        if not self.ctx.loops:
            raise self.error(UnsupportedSyntaxError, s, "break outside a loop")
        self.b.set(self.ctx.loops[-1][0], self.b.const(True))

    def stmt_Continue(self, s):
        if not self.ctx.loops:
            raise self.error(UnsupportedSyntaxError, s, "continue outside a loop")
        self.b.set(self.ctx.loops[-1][1], self.b.const(True))

    # ---- loops --------------------------------------------------------------------------------------
    def _new_loop_flags(self):
        self.loop_count += 1
        return f"$brk{self.loop_count}", f"$cont{self.loop_count}"

    def _loop_body(self, flags, body, before_body=None):
        brk, cont = flags
        if before_body:
            before_body()
        self.b.set(cont, self.b.const(False))
        self.ctx.loops.append(flags)
        try:
            self.stmts(body)
        finally:
            self.ctx.loops.pop()
        self.b.vars.pop(cont, None)

    def stmt_For(self, s):
        items = self._tuple_items(s.iter)
        if items is None:
            items = self._counter_over_tuple(s)
        if items is not None:
            return self._for_over_tuple(s, items)
        if not isinstance(s.target, ast.Name):
            raise self.error(UnsupportedSyntaxError, s, "the loop variable must be a single name",
                             hint="write `for i in range(n):` and unpack inside the body")
        it = s.iter
        if isinstance(it, ast.Call) and isinstance(it.func, ast.Name) and it.func.id == "range" \
                and self.lookup_global("range", it) is range:
            if it.keywords or not 1 <= len(it.args) <= 3:
                raise self.error(UnsupportedSyntaxError, s, "range() takes 1 to 3 positional arguments")
            bounds = [self.int_value(a, "range() arguments must be integers") for a in it.args]
            if len(bounds) == 1:
                bounds = [self.b.const(0)] + bounds
            if len(bounds) == 2:
                bounds.append(self.b.const(1))
            start, stop, step = bounds
            if step.const == (0,):
                raise self.error(AdjitError, s, "range() step must not be zero")
            element = None
        else:
            seq = self.expr(it)
            if not (isinstance(seq, Value) and is_array(seq.type) and seq.type.ndim == 1):
                raise self.error(UnsupportedSyntaxError, s,
                                 "a for loop must run over range(...) or over a 1-D array",
                                 hint="write `for i in range(len(a)):` and index")
            start, stop, step = self.b.const(0), self.b.emit("shape", [seq], {"dim": 0}), self.b.const(1)
            element = seq
        name = s.target.id
        flags = self._new_loop_flags()
        brk = flags[0]

        def bind(iv):
            if element is None and self.nonnegative(start) and step.const is not None and step.const[0] > 0:
                self._nonneg.add(iv)
            self.assign(name, iv if element is None else self.b.emit("load", [element, iv]), s)

        if not has_break(s):
            self.b.for_(start, stop, step, lambda iv: self._loop_body(flags, s.body, lambda: bind(iv)),
                        iv_hint=name if element is None else "k")
            self.stmts(s.orelse)
            return
        # A loop that can break is a while loop over an explicit counter.
        counter = f"$i{self.loop_count}"
        self.b.set(counter, start)
        self.b.set(brk, self.b.const(False))

        def cond():
            i = self.b.vars[counter]
            if step.const is not None:
                more = self.b.emit("lt" if step.const[0] > 0 else "gt", [i, stop])
            else:
                up = self.b.emit("and_", [self.b.emit("gt", [step, self.b.const(0)]), self.b.emit("lt", [i, stop])])
                down = self.b.emit("and_", [self.b.emit("lt", [step, self.b.const(0)]), self.b.emit("gt", [i, stop])])
                more = self.b.emit("or_", [up, down])
            return self.b.emit("and_", [self.b.emit("not_", [self.b.vars[brk]]), more])

        def body():
            i = self.b.vars[counter]
            self._loop_body(flags, s.body, lambda: bind(i))
            self.b.set(counter, self.b.emit("add", [i, step]))

        self.b.while_(cond, body)
        self.b.vars.pop(counter, None)  # loop-local: must not become a carried value of an outer loop
        self._after_breakable_loop(s, brk)

    def _tuple_items(self, it):
        """The items a for loop over a tuple runs over (`for p in params`, over enumerate(t) or
        zip(t, u) of tuples too), or None if `it` is not such an iterable."""
        if isinstance(it, ast.Call) and isinstance(it.func, ast.Name) and it.func.id in ("enumerate", "zip") \
                and it.func.id not in self.b.vars and not it.keywords and it.args \
                and self.lookup_global(it.func.id, it) in (enumerate, zip):
            seqs = [self.expr(a) for a in it.args]
            if not all(isinstance(q, Tup) for q in seqs):
                return None if it.func.id == "enumerate" and len(seqs) == 1 and isinstance(seqs[0], Value) else \
                    self._refuse_iterable(it)
            if it.func.id == "enumerate":
                if len(seqs) != 1:
                    raise self.error(UnsupportedSyntaxError, it, "enumerate() of a tuple takes one argument here")
                return [Tup([self.b.const(k), v]) for k, v in enumerate(seqs[0].items)]
            return [Tup(list(group)) for group in zip(*(q.items for q in seqs))]
        if isinstance(it, (ast.Name, ast.Tuple, ast.Subscript, ast.Attribute)):
            if isinstance(it, ast.Name) and it.id not in self.b.vars:
                return None
            seq = self.expr(it)
            return list(seq.items) if isinstance(seq, Tup) else None
        return None

    def _counter_over_tuple(self, s):
        """`for i in range(len(params))` whose body indexes a tuple with i (params[i], params[2*i+1]):
        the counter's values, to unroll the loop (each a constant), or None for an ordinary loop."""
        it = s.iter
        if not (isinstance(s.target, ast.Name) and isinstance(it, ast.Call) and isinstance(it.func, ast.Name)
                and it.func.id == "range" and it.func.id not in self.b.vars and not it.keywords
                and 1 <= len(it.args) <= 3 and self.lookup_global("range", it) is range):
            return None
        i = s.target.id
        if not any(isinstance(n, ast.Subscript) and isinstance(n.value, ast.Name)
                   and isinstance(self.b.vars.get(n.value.id), _TupVar)
                   and any(isinstance(m, ast.Name) and m.id == i for m in ast.walk(n.slice))
                   for stmt in s.body for n in ast.walk(stmt)):
            return None
        bounds = [self.int_value(a, "range() arguments must be integers") for a in it.args]
        if any(v.const is None for v in bounds):
            raise self.error(UnsupportedSyntaxError, it, f"this loop indexes a tuple with {i!r}, so it is unrolled, "
                             "and needs range() bounds known when compiling",
                             hint="loop over range(len(t)), or over the tuple itself: for p in t")
        counts = range(*(v.const[0] for v in bounds))
        if len(counts) > _MAX_UNROLL:
            raise self.error(UnsupportedSyntaxError, it, f"this loop indexes a tuple with {i!r}, so it is unrolled, "
                             f"and it runs {len(counts)} times (more than {_MAX_UNROLL})",
                             hint="index the tuple outside the loop, or loop over the tuple itself: for p in t")
        return [self.b.const(k) for k in counts]

    def _refuse_iterable(self, it):
        raise self.error(UnsupportedSyntaxError, it, "enumerate() and zip() are supported over tuples only",
                         hint="write `for i in range(len(a)):` and index the arrays")

    def _for_over_tuple(self, s, items):
        """A for loop over a tuple's items, unrolled: each item may be of its own kind (the
        arrays of a parameter tuple).  break and return skip the remaining items."""
        if has_break(s) and len({_shape_of(v) for v in items}) > 1:
            # the items after a break are skipped by an if, whose two paths would give the loop
            # variable (and what the body computes from it) different kinds of values
            raise self.error(UnsupportedSyntaxError, s, "break or return in a for loop over a tuple whose items "
                             "are of different kinds (arrays of different dimensions, numbers and arrays)",
                             hint="write the loop without break/return (e.g. accumulate a flag), or unpack the tuple")
        flags = self._new_loop_flags()
        brk = flags[0]
        self.b.set(brk, self.b.const(False))

        def run(k):
            if k == len(items):
                return
            self._loop_body(flags, s.body, lambda: self.assign_target(s.target, items[k], s))
            stops = [self.b.vars.get(n) for n in ("$ret", brk)]
            stops = [f for f in stops if isinstance(f, Value) and f.const != (False,)]
            if not stops:
                return run(k + 1)
            if any(f.const == (True,) for f in stops):
                return None
            stop = stops[0] if len(stops) == 1 else self.b.emit("or_", stops)
            self.b.if_(self.b.emit("not_", [stop]), lambda: run(k + 1))

        run(0)
        self._after_breakable_loop(s, brk)

    def _after_breakable_loop(self, s, brk):
        if s.orelse:
            self.b.if_(self.b.emit("not_", [self.b.vars[brk]]), lambda: self.stmts(s.orelse))
        self.b.vars.pop(brk, None)

    def stmt_While(self, s):
        flags = self._new_loop_flags()
        brk = flags[0]
        breaks = has_break(s)
        if breaks:
            self.b.set(brk, self.b.const(False))

        def cond():
            if not breaks:
                return self.condition(s.test)
            go = self.b.emit("not_", [self.b.vars[brk]])
            return self.b.if_(go, lambda: [self.condition(s.test)], lambda: [self.b.const(False)])[0]

        self.b.while_(cond, lambda: self._loop_body(flags, s.body))
        if breaks:
            self._after_breakable_loop(s, brk)
        else:
            self.stmts(s.orelse)

    # ---- expressions ------------------------------------------------------------------------------
    def expr(self, e):
        method = getattr(self, "expr_" + type(e).__name__, None)
        if method is None:
            raise self.error(UnsupportedSyntaxError, e, _describe_expr(e) + " is not supported",
                             hint=_expr_hint(e))
        return method(e)

    def value(self, e, what="a number or an array"):
        v = self.expr(e)
        if not isinstance(v, Value):
            raise self.error(UnsupportedSyntaxError, e, f"expected {what} here, got {_kind(v)}")
        return v

    def scalar(self, e, what="a number"):
        v = self.value(e, what)
        if is_array(v.type):
            raise self.error(UnsupportedSyntaxError, e, f"expected {what} here, got an array",
                             hint="whole-array arithmetic is not supported yet; loop over the elements")
        return v

    def int_value(self, e, message):
        v = self.scalar(e)
        out = self.as_int(v, e) if v.type != BOOL else None
        if out is None:
            raise self.error(AdjitTypeError, e, message, hint="convert with int(...)")
        return out

    def condition(self, e):
        v = self.value(e, "a condition")
        if is_array(v.type):
            raise self.error(AdjitTypeError, e, "the truth value of an array is ambiguous",
                             hint="reduce it first: np.any / np.all are not supported, compare np.max(...) or np.sum(...)")
        return v if v.type == BOOL else self.b.emit("truth", [v])

    def expr_Constant(self, e):
        v = e.value
        if isinstance(v, (bool, int, float)) and not isinstance(v, complex):
            if isinstance(v, int) and not isinstance(v, bool) and not -2**63 <= v < 2**63:
                raise self.error(AdjitTypeError, e, "integer constant does not fit in 64 bits")
            return self.b.const(v)
        raise self.error(UnsupportedSyntaxError, e, f"constants of type {type(v).__name__} are not supported",
                         hint="use numbers only")

    def read_name(self, e):
        return self.expr_Name(e)

    def expr_Name(self, e):
        if e.id in self.b.vars:
            return self.read(e.id, e)
        obj = self.lookup_global(e.id, e)
        return self.from_python(obj, e.id, e)

    def lookup_global(self, name, node):
        ctx = self.ctx
        if name in ctx.closure:
            return ctx.closure[name]
        if name in ctx.globals:
            return ctx.globals[name]
        builtins = ctx.globals.get("__builtins__", {})
        builtins = builtins if isinstance(builtins, dict) else builtins.__dict__
        if name in builtins:
            return builtins[name]
        raise self.error(AdjitNameError, node, f"name {name!r} is not defined")

    def from_python(self, obj, path, node):
        """A compile-time Python object named in the code: a number, a module, a function."""
        if isinstance(obj, (bool, int, float, np.bool_, np.integer, np.floating)) and not isinstance(obj, np.float32):
            return self.b.const(obj.item() if hasattr(obj, "item") else obj)
        if isinstance(obj, tuple) and all(isinstance(x, (int, float, bool)) for x in obj):
            return Tup([self.b.const(x) for x in obj])
        if obj is math or obj is np or callable(obj) or isinstance(obj, type(math)):
            return Ref(obj, path)
        if isinstance(obj, np.ndarray):  # frozen when compiled, as a number (adjit.frontend.numpy_build)
            from .numpy_build import frozen
            return frozen(self, obj, path, node)
        from .numpy_unsupported import refusal
        refused = refusal(obj, path)  # np.r_, np.c_...: named as NumPy's, with what to write instead
        if refused is not None:
            raise self.error(UnsupportedSyntaxError, node, refused[0], hint=refused[1])
        raise self.error(UnsupportedSyntaxError, node, f"{path!r} is a {type(obj).__name__}, which compiled code cannot use",
                         hint="pass numbers and arrays as arguments")

    def expr_Attribute(self, e):
        base = self.expr(e.value)
        if isinstance(base, Ref):
            try:
                obj = getattr(base.obj, e.attr)
            except AttributeError:
                raise self.error(AdjitNameError, e, f"{base.path}.{e.attr} does not exist") from None
            return self.from_python(obj, f"{base.path}.{e.attr}", e)
        if isinstance(base, Value) and is_array(base.type):
            if e.attr == "T":
                return arrays.transpose(self, base, e)
            if e.attr == "shape":
                dims = [self.b.emit("shape", [base], {"dim": k}) for k in range(base.type.ndim)]
                self._nonneg.update(dims)
                return Tup(dims)
            if e.attr == "ndim":
                return self.b.const(base.type.ndim)
            if e.attr == "size":
                out = self.b.const(1)
                for k in range(base.type.ndim):
                    out = self.b.emit("mul", [out, self.b.emit("shape", [base], {"dim": k})])
                self._nonneg.add(out)
                return out
        raise self.error(UnsupportedSyntaxError, e, f"the attribute .{e.attr} is not supported here",
                         hint="arrays support .shape, .ndim, .size, .T and methods such as .sum(), .copy()")

    def expr_Tuple(self, e):
        return Tup([self.expr(x) for x in e.elts])

    def expr_GeneratorExp(self, e):
        """``(np.sum(p ** 2) for p in params)`` and the list form, over a tuple's items: a tuple
        of the results, known when compiling (for sum(), max(), unpacking...).  The loop
        variables stay local to it, as in Python."""
        gen = e.generators[0] if len(e.generators) == 1 else None
        items = None if gen is None or gen.ifs or gen.is_async else self._tuple_items(gen.iter)
        if items is None:
            raise self.error(UnsupportedSyntaxError, e, _describe_expr(e) + " is supported only over a tuple "
                             "(for p in params), without if", hint=_expr_hint(e))
        names = {n.id for n in ast.walk(gen.target) if isinstance(n, ast.Name)}
        saved = {n: self.b.vars[n] for n in names if n in self.b.vars}
        out = []
        try:
            for item in items:
                self.assign_target(gen.target, item, e)
                out.append(self.expr(e.elt))
        finally:
            for n in names:
                self.b.vars.pop(n, None)
                for k in [k for k in self.b.vars if isinstance(k, str) and k.startswith(n + "#")]:
                    self.b.vars.pop(k)  # the items of a tuple loop variable
            self.b.vars.update(saved)
        return Tup(out)

    expr_ListComp = expr_GeneratorExp

    def expr_BinOp(self, e):
        if isinstance(e.op, ast.MatMult):
            return arrays.matmul(self, self.expr(e.left), self.expr(e.right), e, "@")
        op = _BINOPS.get(type(e.op))
        if op is None:
            raise self.error(UnsupportedSyntaxError, e, f"the operator {_OPNAMES.get(type(e.op), type(e.op).__name__)} is not supported")
        return self.binop(op, self.expr(e.left), self.expr(e.right), e)

    def binop(self, op, a, b, node):
        if isinstance(a, Value) and isinstance(b, Value) and (is_array(a.type) or is_array(b.type)):
            return arrays.elementwise(self, op, [a, b], node)
        for v in (a, b):
            if not isinstance(v, Value):
                raise self.error(UnsupportedSyntaxError, node, f"arithmetic on {_kind(v)} is not supported",
                                 hint="index the array (a[i]) or loop over its elements")
        if op in ("div", "floordiv", "mod") and b.const in ((0,), (0.0,)):
            raise self.error(AdjitError, node, "division by the constant zero")
        if op == "pow" and a.type != F64 and b.type != F64 and not self.nonnegative(b):
            # Python's int ** int is an int for an exponent >= 0 and a float otherwise.  With an
            # exponent not known to be >= 0 here it is the float (exact below 2**53), and an int
            # context (range(), a shape) takes it back as the int after a run-time test (int_value)
            out = self.b.emit("pow", [self.b.cast(a, F64), b])
            self._int_powers[out] = (a, b)
            return out
        if op in ("floordiv", "mod", "pow") and a.type == I64 == b.type and a.const is not None \
                and b.const is not None and (op != "pow" or b.const[0] <= 64) and -2**63 <= _INT_OPS[op](a.const[0], b.const[0]) < 2**63:
            return self.b.const(_INT_OPS[op](a.const[0], b.const[0]))  # len(params) // 2: known when compiling
        out = self.b.emit(op, [a, b])
        if op in ("add", "mul", "floordiv", "pow") and out.type == I64 and self.nonnegative(a) and self.nonnegative(b):
            self._nonneg.add(out)
        return out

    def nonnegative(self, v):
        """Is int `v` known to be >= 0 when compiling: a constant, a size, a range() counter
        counting up from >= 0, or sums, products, quotients and powers of those?"""
        return v.type in (I64, BOOL) and ((v.const is not None and v.const[0] >= 0) or v in self._nonneg)

    def as_int(self, v, node):
        """`v` as an int where Python needs one, or None.  An int ** int of unknown sign (a
        float, see binop) is the int power, raising Python's TypeError at run time if the
        exponent is negative (Python gets the float there, and range() of it fails so)."""
        if v.type in (I64, BOOL):
            return self.b.cast(v, I64)
        parts = self._int_powers.get(v)
        if parts is None:
            return None
        base, exp = parts
        self.b.emit("check", [self.b.emit("ge", [exp, self.b.const(0)])],
                    {"exception": "TypeError", "message": "'float' object cannot be interpreted as an integer "
                     "(int ** int with a negative exponent is a float)"})
        return self.b.emit("pow", [self.b.cast(base, I64), exp])

    def expr_UnaryOp(self, e):
        if isinstance(e.op, ast.Not):
            return self.b.emit("not_", [self.condition(e.operand)])
        v = self.value(e.operand)
        if is_array(v.type):
            return arrays.unary(self, e.op, v, e)
        if isinstance(e.op, ast.USub):
            if v.const is not None:
                return self.b.const(-v.const[0], v.type if v.type != BOOL else I64)
            return self.b.emit("neg", [v])
        if isinstance(e.op, ast.UAdd):
            return self.b.cast(v, I64) if v.type == BOOL else v
        raise self.error(UnsupportedSyntaxError, e, "the operator ~ is not supported")

    def expr_BoolOp(self, e):
        is_and = isinstance(e.op, ast.And)

        def chain(values):
            first = self.scalar(values[0], "a condition")
            if first.type != BOOL:
                raise self.error(UnsupportedSyntaxError, values[0],
                                 "and/or operands must be booleans (comparisons, True/False or not ...)",
                                 hint="write an explicit comparison, e.g. `n != 0 and x > 0`")
            if len(values) == 1:
                return first
            rest = lambda: [chain(values[1:])]
            short = lambda: [self.b.const(not is_and)]
            return self.b.if_(first, rest, short)[0] if is_and else self.b.if_(first, short, rest)[0]

        for v in e.values:
            if isinstance(v, ast.Constant) and not isinstance(v.value, bool):
                raise self.error(UnsupportedSyntaxError, e, "and/or on non-boolean constants is not supported")
        return chain(e.values)

    def expr_Compare(self, e):
        left = self.value(e.left)
        if len(e.ops) == 1:  # no short-circuit to keep: both sides are evaluated
            right = self.value(e.comparators[0])
            name = _CMPOPS.get(type(e.ops[0]))
            if name is None:
                raise self.error(UnsupportedSyntaxError, e, f"the comparison {type(e.ops[0]).__name__} is not supported",
                                 hint="use < <= > >= == !=")
            if is_array(left.type) or is_array(right.type):
                return arrays.elementwise(self, name, [left, right], e)
            if left.const is not None and right.const is not None:  # x.ndim == 2: known when compiling
                return self.b.const(bool(_CMP_FOLD[name](left.const[0], right.const[0])))
            return self.b.emit(name, [left, right])
        if is_array(left.type):
            raise self.error(UnsupportedSyntaxError, e, "chained comparisons of arrays are not supported")

        def chain(left, ops, rights):
            right = self.scalar(rights[0])
            name = _CMPOPS.get(type(ops[0]))
            if name is None:
                raise self.error(UnsupportedSyntaxError, e, f"the comparison {type(ops[0]).__name__} is not supported",
                                 hint="use < <= > >= == !=")
            here = self.b.emit(name, [left, right])
            if len(ops) == 1:
                return here
            return self.b.if_(here, lambda: [chain(right, ops[1:], rights[1:])], lambda: [self.b.const(False)])[0]

        return chain(left, e.ops, e.comparators)

    def expr_IfExp(self, e):
        cond = self.condition(e.test)
        return self.b.if_(cond, lambda: [self.value(e.body)], lambda: [self.value(e.orelse)])[0]

    def subscript_parts(self, e, newaxes=None):
        """(array, index operands, view spec): spec is None for one element, else a view
        (see adjit.ir.array_primitives) covering every dimension.  (None axes of a read: see
        arrays.index.)"""
        arr = self.expr(e.value)
        if not (isinstance(arr, Value) and is_array(arr.type)):
            raise self.error(UnsupportedSyntaxError, e, f"cannot index {_kind(arr)}")
        return (arr,) + arrays.index(self, arr, e, newaxes)

    def expr_Subscript(self, e):
        base = self.expr(e.value)
        if isinstance(base, Tup):
            if isinstance(e.slice, ast.Slice):  # params[1:], params[::2]: a tuple of its items
                bounds = [None if x is None else self.expr(x) for x in (e.slice.lower, e.slice.upper, e.slice.step)]
                if not all(v is None or (isinstance(v, Value) and v.const is not None and v.type == I64)
                           for v in bounds):
                    raise self.error(UnsupportedSyntaxError, e, "a tuple can only be sliced by constant integers")
                return Tup(base.items[slice(*(None if v is None else v.const[0] for v in bounds))])
            k = self.expr(e.slice)
            if not (isinstance(k, Value) and k.const is not None and k.type == I64):
                raise self.error(UnsupportedSyntaxError, e, "a tuple can only be indexed by a constant integer")
            try:
                return base.items[k.const[0]]
            except IndexError:
                raise self.error(AdjitError, e, "tuple index out of range") from None
        from . import numpy_index  # integer-array and mask indexing (issue 14)
        gathered = numpy_index.read(self, e)
        if gathered is not None:
            return gathered
        newaxes = []
        arr, idx, spec = self.subscript_parts(e, newaxes)
        if spec is None:
            out = self.b.emit("load", [arr] + idx)
        else:
            out = self.b.emit("view", [arr] + idx, {"spec": spec})
        return arrays.insert_newaxes(self, out, newaxes) if newaxes else out

    def expr_Call(self, e):
        if any(isinstance(a, ast.Starred) for a in e.args) or any(k.arg is None for k in e.keywords):
            raise self.error(UnsupportedSyntaxError, e, "*args and **kwargs in calls are not supported")
        # method calls on arrays: a.copy()
        if isinstance(e.func, ast.Attribute):
            owner = self.expr(e.func.value)
            if isinstance(owner, Value):
                return calls.method(self, owner, e.func.attr, e)
            if isinstance(owner, Ref):
                target = getattr(owner.obj, e.func.attr, None)
                if target is None:
                    raise self.error(AdjitNameError, e, f"{owner.path}.{e.func.attr} does not exist")
                return calls.call(self, target, f"{owner.path}.{e.func.attr}", e)
            raise self.error(UnsupportedSyntaxError, e, f"cannot call a method of {_kind(owner)}")
        if isinstance(e.func, ast.Name):
            if e.func.id in self.b.vars:
                raise self.error(UnsupportedSyntaxError, e, f"{e.func.id!r} is a value, not a function")
            return calls.call(self, self.lookup_global(e.func.id, e.func), e.func.id, e)
        raise self.error(UnsupportedSyntaxError, e, "calls on arbitrary expressions are not supported",
                         hint="call math/numpy functions or module-level helper functions by name")

    # ---- inlining helper functions --------------------------------------------------------------------
    def inline(self, func, args, node, kwargs=None):
        """Inline a call of helper `func` with positional `args` and keyword `kwargs` (name -> value)."""
        kwargs = kwargs or {}
        if func in self.stack:
            chain = " -> ".join(f.__name__ for f in self.stack + [func])
            raise self.error(RecursionRefusedError, node, f"recursion is not supported ({chain})",
                             hint="rewrite the recursion as a loop")
        parsed = parse_function(func)
        tree = parsed.tree
        self._check_signature(parsed, tree, len(args), helper=True)
        positional = [a.arg for a in tree.args.args]
        kwonly = [a.arg for a in tree.args.kwonlyargs]
        params = positional + kwonly
        defaults = tree.args.defaults
        if len(args) > len(positional):
            raise self.error(AdjitTypeError, node, f"{func.__name__}() takes {len(positional)} positional arguments, "
                             f"got {len(args)}")
        caller_vars, caller_ctx, caller_loc, caller_node = self.b.vars, self.ctx, self.b.loc, self._node
        ctx = _Context(parsed)
        bound = dict(zip(positional, args))
        for k, v in kwargs.items():
            if k not in params:
                raise self.error(AdjitTypeError, node, f"{func.__name__}() got an unexpected keyword argument {k!r}")
            if k in bound:
                raise self.error(AdjitTypeError, node, f"{func.__name__}() got multiple values for the argument {k!r}")
            bound[k] = v
        missing = [p for p in params if p not in bound]
        self.ctx = caller_ctx
        default_nodes = dict(zip(positional[len(positional) - len(defaults):], defaults))
        default_nodes.update({a.arg: d for a, d in zip(tree.args.kwonlyargs, tree.args.kw_defaults) if d is not None})
        for p in missing:
            if p not in default_nodes:
                raise self.error(AdjitTypeError, node, f"{func.__name__}() is missing the argument {p!r}")
        self.ctx = ctx
        for p in missing:
            bound[p] = self.expr(default_nodes[p])
        self.b.vars = {}
        for p, v in bound.items():
            self.assign(p, v, node)
        self.stack.append(func)
        try:
            result = self._function_body(ctx, tree)
        finally:
            self.stack.pop()
            self.b.vars, self.ctx, self.b.loc, self._node = caller_vars, caller_ctx, caller_loc, caller_node
        return self.b.const(0) if result is None else result


def _shape_of(v):
    """The kind of a value, for comparing tuple items: its type, a tuple's kinds, or the object."""
    if isinstance(v, Tup):
        return tuple(_shape_of(x) for x in v.items)
    return v.type if isinstance(v, Value) else id(v)


def _parameter(t, name, params):
    """The frontend's value of a parameter of type `t`: a Value, or for a tuple or list
    argument (adjit.signature.Sequence; custom rules pass plain tuples of types) a Tup of
    its items, each leaf a parameter of its own, appended to `params` in order."""
    from ..signature import Sequence
    if isinstance(t, (tuple, Sequence)):
        items = t.items if isinstance(t, Sequence) else t
        return Tup([_parameter(ti, f"{name}_{k}", params) for k, ti in enumerate(items)])
    v = Value(t, name)
    params.append(v)
    return v


_OPNAMES = {ast.MatMult: "@", ast.BitAnd: "&", ast.BitOr: "|", ast.BitXor: "^", ast.LShift: "<<", ast.RShift: ">>"}


def describe(v):
    """What the frontend holds, in the user's words (never an internal class or type name)."""
    if isinstance(v, Tup):
        return f"a tuple of {len(v.items)}"
    if isinstance(v, Ref):
        return f"{v.path}"
    if isinstance(v, Value):
        return describe_type(v.type)
    return "a compile-time object"


_kind = describe


def _describe_expr(e):
    names = {ast.List: "a list", ast.Dict: "a dict", ast.Set: "a set", ast.ListComp: "a list comprehension",
             ast.DictComp: "a dict comprehension", ast.SetComp: "a set comprehension",
             ast.GeneratorExp: "a generator expression", ast.Lambda: "lambda", ast.Yield: "yield",
             ast.YieldFrom: "yield from", ast.Await: "await", ast.JoinedStr: "an f-string",
             ast.NamedExpr: "the := operator", ast.Starred: "*unpacking", ast.Slice: "a slice"}
    return names.get(type(e), f"the expression {type(e).__name__}")


def _expr_hint(e):
    if isinstance(e, ast.List):
        return ("write a tuple (a, b), or np.array([...]) for an array; as an index (fancy indexing, x[[0, 2]]) "
                "write x[np.array([0, 2])]")
    if isinstance(e, (ast.ListComp, ast.GeneratorExp)):
        return "allocate an array with np.zeros(n) and fill it in a loop"
    if isinstance(e, ast.Lambda):
        return "define a module-level function with def"
    if isinstance(e, (ast.Yield, ast.YieldFrom)):
        return "generators are not supported; return an array"
    return None


def _closure_vars(func):
    if not func.__closure__:
        return {}
    out = {}
    for name, cell in zip(func.__code__.co_freevars, func.__closure__):
        try:
            out[name] = cell.cell_contents
        except ValueError:
            pass
    return out


def translate(func, arg_types):
    """The typed IR `Function` of Python function `func` for argument types `arg_types`."""
    fn = Translator(func, arg_types).translate()
    _refuse_ambiguous_reshapes(fn)
    from .numpy_build import refuse_frozen_writes
    refuse_frozen_writes(fn)
    return fn


def _refuse_ambiguous_reshapes(fn):
    """A reshape of a view that may not be contiguous is a view in NumPy for some strides and a
    copy for others; if its memory is written, the answer depends on which: refuse."""
    from ..ir.alias import MemoryModel
    for op in MemoryModel(fn).ambiguous_reshapes():
        filename, lineno, text = op.loc if op.loc else (fn.filename, None, None)
        raise UnsupportedSyntaxError(
            "a reshape (or ravel) of a view, in memory that is written: NumPy makes it a view or a copy "
            "depending on the view's strides, so whether the write reaches it cannot be known here",
            filename=filename, lineno=lineno, source_line=text,
            hint="reshape the original array, or copy the view first: v.copy().reshape(...)")
