"""Compile-time feedback: what adjit says while the first call of a signature compiles.

The first call of an ``adjit.jit``/``adjit.grad`` function for a new signature (argument
types) translates, differentiates and generates code (adjit's part), then Numba compiles
the generated module, or loads it from the disk cache (Numba's part).  Scalar code takes
about a second; whole-array code can take 5-20 s, which without a word looks like a hang.

* Every compile is reported at INFO level through the ``logging`` logger named ``"adjit"``:
  the function, the signature and the seconds, adjit's and Numba's part apart.  Nothing is
  printed unless the application configures logging (``logging.basicConfig(level=logging.INFO)``).
* One compile that takes longer than a threshold prints a one-line notice on stderr, as
  soon as the threshold passes (while Numba is still at work), so that a user knows the call
  is compiling.  The threshold is ``ADJIT_COMPILE_NOTICE`` seconds (default 3); ``0``,
  ``off``, ``no`` or ``false`` turn the notice off.
* Warnings Numba raises while compiling (``NumbaPerformanceWarning``: ``np.dot`` on a
  non-contiguous slice...) would point into the generated module in the cache directory;
  `warnings_at_user_code` re-issues them at the user's function, quoting the generated line.
"""
import contextlib
import linecache
import logging
import os
import re
import sys
import threading
import time
import warnings

from .errors import AdjitError

logger = logging.getLogger("adjit")
logger.addHandler(logging.NullHandler())

DEFAULT_NOTICE_SECONDS = 3.0
_OFF = ("0", "off", "no", "false", "never", "none")


def notice_threshold():
    """Seconds after which a compile prints its notice on stderr, or None (no notice), from
    ``ADJIT_COMPILE_NOTICE``; an unreadable value is an `AdjitError` naming the variable."""
    text = os.environ.get("ADJIT_COMPILE_NOTICE")
    if text is None:
        return DEFAULT_NOTICE_SECONDS
    text = text.strip().lower()
    if text in _OFF:
        return None
    try:
        seconds = float(text)
    except ValueError:
        seconds = -1.0
    if not seconds > 0 or seconds != seconds or seconds == float("inf"):
        raise AdjitError(
            f"the environment variable ADJIT_COMPILE_NOTICE is {os.environ['ADJIT_COMPILE_NOTICE']!r}: it must be "
            "a number of seconds (after which a compile prints a notice on stderr), or 0/off for no notice",
            hint=f"unset it for the default ({DEFAULT_NOTICE_SECONDS:g} s), or set e.g. ADJIT_COMPILE_NOTICE=2")
    return seconds


def describe(what, func, types, names=None, wrt=None):
    """``adjit.grad(loss) for (x: f64[:], n: i64), d/dx`` -- how a compile is named."""
    if names is not None and len(names) == len(types):
        params = ", ".join(f"{n}: {t}" for n, t in zip(names, types))
    else:
        params = ", ".join(str(t) for t in types)
    text = f"{what}({getattr(func, '__qualname__', getattr(func, '__name__', '?'))}) for ({params})"
    if wrt is not None:
        text += ", d/d" + ", ".join(names[k] if names is not None and k < len(names) else f"argument {k}"
                                     for k in wrt)
    return text


class CompileJob:
    """The stopwatch of one specialisation's compile, in two phases that may be apart in
    time: ``adjit`` (translate, differentiate, generate; `Jit._specialise`) and ``numba``
    (the first call of the generated function).  Start a phase with `phase(name)`, a
    context manager; `finish()` logs the record.  The stderr notice fires from a timer
    thread once the phases add up to the threshold."""

    def __init__(self, label):
        self.label = label
        self.seconds = {}
        self.noticed = False
        self.finished = False
        self._threshold = notice_threshold()
        self._lock = threading.Lock()

    def phase(self, name):
        return _Phase(self, name)

    @property
    def total(self):
        return sum(self.seconds.values())

    def _notice(self, elapsed=None):
        """The one line on stderr: from the timer while compiling (`elapsed` None), or from
        `finish` after a compile the timer did not catch."""
        with self._lock:
            if self.noticed:
                return
            self.noticed = True
        if elapsed is None:
            text = f"adjit: compiling {self.label}: over {self._threshold:g} s so far"
        else:
            text = f"adjit: compiled {self.label} in {elapsed:.1f} s"
        try:
            print(text + " (the first call of each signature compiles; Numba keeps the result in its disk cache; "
                  "ADJIT_COMPILE_NOTICE=off silences this)", file=sys.stderr, flush=True)
        except Exception:  # noqa: BLE001 - a closed stderr must not break the compile
            pass

    def finish(self):
        """Log the compile (once), and print the notice if it took the threshold or more
        and the timer has not printed it already."""
        if self.finished:
            return
        self.finished = True
        total = self.total
        if self._threshold is not None and total >= self._threshold:
            self._notice(total)
        logger.info("compiled %s in %.2f s (adjit %.2f s, Numba %.2f s)", self.label, total,
                    self.seconds.get("adjit", 0.0), self.seconds.get("numba", 0.0))


_NAMES = {"Jit": "adjit.jit", "Grad": "adjit.grad", "GradOfGradient": "adjit.grad", "JacFwd": "adjit.jacfwd",
          "JacRev": "adjit.jacrev", "Jvp": "adjit.jvp", "Vjp": "adjit.vjp"}


def start(compiled, key):
    """A `CompileJob` for `compiled` (an adjit.jit/grad/jacfwd... object) and its
    specialisation key: the argument types, and for a derivative the differentiated
    positions last (a tuple of ints)."""
    wrt = None
    if key and isinstance(key[-1], tuple) and all(isinstance(k, int) for k in key[-1]):
        key, wrt = key[:-1], key[-1]
    kind = type(compiled).__name__
    what = _NAMES.get(kind, f"adjit.{kind.lower()}")
    if getattr(compiled, "with_value", False):
        what = "adjit.value_and_grad"
    names = compiled._param_names
    if names is None:
        try:
            import inspect
            names = list(inspect.signature(compiled.py_func).parameters)
        except (TypeError, ValueError):
            names = None
    return CompileJob(describe(what, compiled.py_func, key, names, wrt))


class _Phase:
    def __init__(self, job, name):
        self.job, self.name = job, name
        self._timer = None

    def __enter__(self):
        job = self.job
        self._start = time.perf_counter()
        if job._threshold is not None and not job.noticed:
            remaining = max(0.0, job._threshold - job.total)
            self._timer = threading.Timer(remaining, job._notice)
            self._timer.daemon = True
            self._timer.start()
        return self

    def __exit__(self, *exc):
        if self._timer is not None:
            self._timer.cancel()
        job = self.job
        job.seconds[self.name] = job.seconds.get(self.name, 0.0) + time.perf_counter() - self._start
        return False


_ANSI = re.compile(r"\x1b\[[0-9;]*m")


@contextlib.contextmanager
def warnings_at_user_code(py_func, label):
    """While Numba compiles adjit's generated code for `py_func`: warnings whose location is
    in a generated module are re-issued at the ``def`` line of `py_func`, their text
    prefixed with `label` and followed by the generated line; other warnings pass unchanged.
    (Which line of the user's function a generated line comes from is not recorded.)"""
    code = getattr(py_func, "__code__", None)
    caught = []
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            yield
    finally:
        _reissue(caught, code, label)


def _reissue(caught, code, label):
    for w in caught:
        generated = os.path.basename(str(w.filename)).startswith("adjit_generated_")
        if code is None or not generated:
            warnings.warn_explicit(w.message, w.category, w.filename, w.lineno, source=w.source)
            continue
        line = linecache.getline(w.filename, w.lineno).strip()
        text = _ANSI.sub("", str(w.message))
        warnings.warn_explicit(
            f"{label}: {text} (at the generated line `{line}`, {os.path.basename(w.filename)}:{w.lineno}; "
            "adjit.show prints the generated code)", w.category, code.co_filename, code.co_firstlineno)
