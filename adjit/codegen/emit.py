"""IR -> Python `ast` -> source (``ast.unparse``).

The generated function is plain Python that Numba compiles: one assignment per
operation, structured if/for/while, and names taken from the user's source (``s``,
``s_1``...).  Constants and single-use temporaries are folded into the expression
that uses them, so the output reads like code a person would write.
"""
import ast
import builtins
import keyword

from ..ir.core import count_uses
from ..ir.primitives import PRIMITIVES, reads_memory
from ..ir.types import is_array
from ..passes.fuse import fuse

_RESERVED = set(keyword.kwlist) | set(dir(builtins)) | {"np", "math", "_rt", "numba"}


class _Namer:
    def __init__(self):
        self.names = {}
        self.taken = set(_RESERVED)

    def fresh(self, base):
        base = base or "t"
        base = "".join(c if c.isalnum() or c == "_" else "_" for c in base)
        if base[0].isdigit():
            base = "v" + base
        n, name = 0, base
        while name in self.taken:
            n += 1
            name = f"{base}_{n}"
        self.taken.add(name)
        return name

    def __call__(self, v):
        if v not in self.names:
            self.names[v] = self.fresh(v.hint)
        return self.names[v]

    def alias(self, v, name):
        self.names[v] = name


def function_source(fn, name=None):
    """Python source of IR function `fn`, as a string (its array chains fused into loops
    first: `adjit.passes.fuse`, on a copy; `fn` itself is unchanged)."""
    return ast.unparse(function_ast(fuse(fn), name))


def function_ast(fn, name=None):
    emitter = _Emitter(fn)
    params = [emitter.name(p) for p in fn.params]
    body = emitter.block(fn.body)
    ret = emitter.return_stmt(fn)
    if ret is not None:
        body.append(ret)
    node = ast.FunctionDef(
        name=name or fn.name,
        args=ast.arguments(posonlyargs=[], args=[ast.arg(arg=p) for p in params], kwonlyargs=[],
                           kw_defaults=[], defaults=[]),
        body=body or [ast.Pass()], decorator_list=[], returns=None, type_params=[])
    return ast.fix_missing_locations(node)


def _stmt(src):
    return ast.parse(src).body[0]


class _Emitter:
    def __init__(self, fn):
        self.name = _Namer()
        for p in fn.params:
            self.name(p)
        self.inline = {}  # Value -> Python expression source used in place of a name
        self.uses = count_uses(fn.body)

    def src(self, v):
        if v in self.inline:
            return self.inline[v]
        return self.name(v)

    def block(self, block):
        out = []
        local_users = _single_local_use(block, self.uses)
        for op in block.ops:
            method = getattr(self, "op_" + op.prim, None)
            if method is not None:
                out.extend(method(op))
                continue
            prim = PRIMITIVES[op.prim]
            args = [_paren(self.src(a)) for a in op.args]
            expr = prim.source(args, op.attrs, [a.type for a in op.args])
            if not op.results:
                out.append(_stmt(expr))
                continue
            r = op.result
            inlinable = prim.effect == "pure" or _is_load(op)
            if op.prim in ("const", "undef") or (inlinable and r.hint is None and r in local_users):
                self.inline[r] = expr
                continue
            out.append(_stmt(f"{self.name(r)} = {expr}"))
        return out

    def _assign(self, names, values):
        pairs = [(n, v) for n, v in zip(names, values) if n != v]
        if not pairs:
            return []
        if len(pairs) == 1:
            return [_stmt(f"{pairs[0][0]} = {pairs[0][1]}")]
        return [_stmt(f"{', '.join(n for n, _ in pairs)} = {', '.join(v for _, v in pairs)}")]

    def op_if(self, op):
        names = [self.name(r) for r in op.results]
        branches = []
        for b in op.blocks:
            defined_here = {r for o in b.ops if o.prim not in ("const", "undef") for r in o.results}
            for name, y in zip(names, b.yields):
                # a value computed in the branch only to be its result takes the result's name
                if y in defined_here and self.uses.get(y) == 1 and y not in self.name.names:
                    self.name.alias(y, name)
            stmts = self.block(b)
            stmts += self._assign(names, [self.src(y) for y in b.yields])
            branches.append(stmts or [ast.Pass()])
        test = ast.parse(self.src(op.args[0]), mode="eval").body
        orelse = branches[1] if not (len(branches[1]) == 1 and isinstance(branches[1][0], ast.Pass)) else []
        return [ast.If(test=test, body=branches[0], orelse=orelse)]

    def _carry(self, op, params, inits):
        out = []
        names = []
        for p, init in zip(params, inits):
            n = self.name(p)
            names.append(n)
            out += self._assign([n], [self.src(init)])
        for r, n in zip(op.results, names):
            self.name.alias(r, n)
        return out, names

    def op_for(self, op):
        body = op.blocks[0]
        iv, carried = body.params[0], body.params[1:]
        pre, names = self._carry(op, carried, op.args[3:])
        start, stop, step = (self.src(a) for a in op.args[:3])
        rng = f"range({stop})" if start == "0" and step == "1" else \
            f"range({start}, {stop})" if step == "1" else f"range({start}, {stop}, {step})"
        stmts = self.block(body)
        stmts += self._assign(names, [self.src(y) for y in body.yields])
        loop = ast.For(target=ast.Name(self.name(iv), ast.Store()), iter=ast.parse(rng, mode="eval").body,
                       body=stmts or [ast.Pass()], orelse=[])
        return pre + [loop]

    def op_while(self, op):
        cond, body = op.blocks
        pre, names = self._carry(op, cond.params, op.args)
        cond_stmts = self.block(cond)
        test = self.src(cond.yields[0])
        stmts = self.block(body)
        stmts += self._assign(names, [self.src(y) for y in body.yields])
        if not cond_stmts:
            return pre + [ast.While(test=ast.parse(test, mode="eval").body, body=stmts or [ast.Pass()], orelse=[])]
        stop = _stmt(f"if not ({test}):\n    break")
        return pre + [ast.While(test=ast.Constant(True), body=cond_stmts + [stop] + stmts, orelse=[])]

    def return_stmt(self, fn):
        ys = [self.src(v) for v in fn.body.yields]
        if not ys:
            return None
        if len(ys) == 1 and not fn.returns_tuple:
            return _stmt(f"return {ys[0]}")
        return _stmt(f"return ({', '.join(ys)}{',' if len(ys) == 1 else ''})")


def _paren(src):
    return src if src.isidentifier() else f"({src})"


def _single_local_use(block, uses):
    """Values that can be written inline: used exactly once, by a later primitive op of this
    same block or as the condition of an `if` in it.  A load qualifies only if nothing that
    may write memory runs between it and its use."""
    out = set()
    position = {}
    reads = set()       # values whose expression reads memory: a load, or computed from one
    barrier_after = []  # positions of ops that may write memory (stores, calls into loops...)
    for k, op in enumerate(block.ops):
        args = op.args[:1] if op.prim == "if" else ([] if op.prim in ("for", "while") else op.args)
        for a in args:
            if uses.get(a) == 1 and a in position:
                start = position[a]
                if not (a in reads and any(start < b < k for b in barrier_after)):
                    out.add(a)
        for r in op.results:
            position[r] = k
            # an expression over an array reads its memory as much as a load does
            if _is_load(op) or any(a in reads or is_array(a.type) for a in op.args):
                reads.add(r)
        if op.blocks or (op.prim in PRIMITIVES and PRIMITIVES[op.prim].effect == "write"):
            barrier_after.append(k)
    return out


def _is_load(op):
    return reads_memory(op.prim)
