"""Code generation: IR -> Python AST -> source -> Numba."""
from .emit import function_source  # noqa: F401
from .compile import llvm_opt_level, load_module, module_text  # noqa: F401
