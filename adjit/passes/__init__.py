"""IR -> IR passes that are not AD: dead-code elimination and simplification."""
from .dce import dce  # noqa: F401
from .simplify import simplify  # noqa: F401
