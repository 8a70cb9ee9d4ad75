"""The structured SSA IR: values, operations, blocks and functions.

A `Function` has parameters and a body `Block`.  A block is a list of operations and
ends by yielding values.  Every `Value` is defined once, by an operation or as a block
parameter, and has a type.  Control flow is structured, as in MLIR's `scf` dialect:

* ``if``    args ``[cond]``, blocks ``[then, else]``; each block yields the results.
* ``for``   args ``[start, stop, step, *inits]``, blocks ``[body]``; the body's params are
  ``[iv, *carried]`` and it yields the next carried values; results are the last ones.
* ``while`` args ``[*inits]``, blocks ``[cond, body]``; the carried values are the cond
  block's params, visible in both blocks; cond yields one bool, body yields the next
  carried values.

Every other operation is a primitive from `adjit.ir.primitives.PRIMITIVES`.
"""
import itertools

_ids = itertools.count()


class Value:
    __slots__ = ("type", "hint", "id", "const")

    def __init__(self, type, hint=None):
        self.type = type
        self.hint = hint  # a name from the user's source, used by the printer and codegen
        self.id = next(_ids)
        self.const = None  # (python_value,) when defined by a `const` op: lets builders fold

    def __repr__(self):
        return f"%{self.hint or 'v'}.{self.id}:{self.type}"


class Op:
    __slots__ = ("prim", "args", "attrs", "results", "blocks", "loc")

    def __init__(self, prim, args, results, attrs=None, blocks=(), loc=None):
        self.prim = prim
        self.args = list(args)
        self.results = list(results)
        self.attrs = dict(attrs or {})
        self.blocks = list(blocks)
        self.loc = loc  # (filename, lineno, source line) of the user code it came from

    @property
    def result(self):
        return self.results[0]

    def __repr__(self):
        return f"<Op {self.prim} {self.args} -> {self.results}>"


class Block:
    __slots__ = ("params", "ops", "yields")

    def __init__(self, params=()):
        self.params = list(params)
        self.ops = []
        self.yields = []


class Function:
    """A typed function: params, a body block whose yields are the returned values."""

    def __init__(self, name, params, body, filename=None, returns_tuple=False):
        self.name = name
        self.params = params
        self.body = body
        self.filename = filename
        self.returns_tuple = returns_tuple  # the Python function returns a tuple of yields

    @property
    def result_types(self):
        return [v.type for v in self.body.yields]


def loop_parts(op):
    """(carried params, inits, yields) of a for/while op, aligned with its results."""
    if op.prim == "for":
        body = op.blocks[0]
        return body.params[1:], op.args[3:], body.yields
    cond, body = op.blocks
    return cond.params, op.args, body.yields


def walk_ops(block):
    """Every op of a block and of the blocks nested in it, in program order."""
    for op in block.ops:
        yield op
        for b in op.blocks:
            yield from walk_ops(b)


def nested_ops(op):
    """Every op inside the blocks of `op`, in program order."""
    for b in op.blocks:
        yield from walk_ops(b)


def count_uses(block):
    """How many times each value is used (as an operand or a yield) in `block`, nested blocks included."""
    uses = {}
    for v in _uses(block):
        uses[v] = uses.get(v, 0) + 1
    return uses


def _uses(block):
    for op in walk_ops(block):
        yield from op.args
        for b in op.blocks:
            yield from b.yields
    yield from block.yields


def replace_uses(block, mapping):
    """Replace, in place, every use of a key of `mapping` by its value (recursively)."""
    for op in block.ops:
        op.args = [mapping.get(a, a) for a in op.args]
        for b in op.blocks:
            replace_uses(b, mapping)
    block.yields = [mapping.get(v, v) for v in block.yields]
