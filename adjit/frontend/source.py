"""Reading a Python function's source: the AST, its file and its line numbers."""
import ast
import inspect
import textwrap
from dataclasses import dataclass

from ..errors import SourceUnavailableError


@dataclass
class ParsedSource:
    func: object          # the Python function
    tree: ast.FunctionDef
    filename: str
    lines: list           # the source lines of the snippet
    line_offset: int      # add to an AST lineno to get the line in `filename`

    def where(self, node):
        """(filename, lineno in the file, the source line) of an AST node."""
        lineno = getattr(node, "lineno", None)
        if lineno is None:
            return (self.filename, None, None)
        text = self.lines[lineno - 1] if 0 < lineno <= len(self.lines) else None
        return (self.filename, lineno + self.line_offset, text)


_cache = {}


def parse_function(func):
    """Parse `func`'s source (cached per function object)."""
    code = getattr(func, "__code__", None)
    key = (id(func), code)
    hit = _cache.get(key)
    if hit is not None and hit.func is func:
        return hit
    name = getattr(func, "__qualname__", repr(func))
    if code is None or not inspect.isfunction(func):
        raise SourceUnavailableError(
            f"{name} is not a plain Python function (it is {type(func).__name__}), so adjit cannot read its source",
            hint="pass a function defined with `def` in a .py file or a notebook cell")
    if func.__name__ == "<lambda>":
        raise SourceUnavailableError(
            f"cannot compile a lambda ({code.co_filename}:{code.co_firstlineno})",
            hint="define the function with `def`")
    try:
        src = inspect.getsource(func)
    except (OSError, TypeError) as e:
        raise SourceUnavailableError(
            f"the source of {name} is not available ({e}); functions created by exec() or in an "
            f"interactive prompt without a file cannot be compiled",
            hint="define the function in a .py file (or a notebook cell)") from None
    src = textwrap.dedent(src)
    try:
        module = ast.parse(src)
    except SyntaxError as e:  # e.g. a method whose dedented source is still not a module
        raise SourceUnavailableError(f"the source of {name} cannot be parsed on its own: {e}") from None
    tree = next((n for n in module.body if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef))), None)
    if tree is None or tree.name != func.__name__:
        raise SourceUnavailableError(f"could not find the definition of {name} in its source")
    parsed = ParsedSource(func, tree, code.co_filename, src.splitlines(), code.co_firstlineno - 1)
    _cache[key] = parsed
    return parsed
