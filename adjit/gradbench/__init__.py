"""adjit as a gradbench tool: ``python -m adjit.gradbench`` (see docs/gradbench.md)."""
from .tool import Tool, main, serve

__all__ = ["Tool", "main", "serve"]
