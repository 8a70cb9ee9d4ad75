"""The structured SSA IR: types, operations, the primitive table, builder, printer, verifier."""
from .core import Block, Function, Op, Value, walk_ops  # noqa: F401
from .printer import format_function  # noqa: F401
from .verify import verify, VerifyError  # noqa: F401
