"""Every error adjit raises on purpose.

All of them derive from :class:`AdjitError`.  Errors tied to a place in the user's
source carry that place (``file:line``), the offending source line and a hint that
says what to write instead, so a refusal is never a riddle.
"""


class AdjitError(Exception):
    """Base class of every error adjit raises on purpose."""

    def __init__(self, message, *, filename=None, lineno=None, source_line=None, hint=None):
        self.message = message
        self.filename = filename
        self.lineno = lineno
        self.source_line = source_line
        self.hint = hint
        super().__init__(self._format())

    def _format(self):
        parts = []
        if self.filename is not None and self.lineno is not None:
            parts.append(f"{self.filename}:{self.lineno}: {self.message}")
        else:
            parts.append(self.message)
        if self.source_line:
            parts.append(f"    {self.source_line.strip()}")
        if self.hint:
            parts.append(f"  hint: {self.hint}")
        return "\n".join(parts)


class UnsupportedSyntaxError(AdjitError):
    """A Python construct outside adjit's supported subset."""


class AdjitNameError(AdjitError):
    """A name that is undefined, or may be unbound on some path."""


class AdjitTypeError(AdjitError):
    """Operand, argument or result types adjit cannot accept."""


class SourceUnavailableError(AdjitError):
    """The function's source code cannot be read (builtins, exec'd code, lambdas)."""


class RecursionRefusedError(AdjitError):
    """A function calls itself, directly or through helpers."""


class GradientError(AdjitError):
    """A request to differentiate that cannot be honoured (bad argnums, non-scalar output...)."""
