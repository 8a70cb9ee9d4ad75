"""Running every engine on every problem and size: check first, then time.

For each problem and size, every engine gets the same inputs.  An engine's first call is
timed on its own (it includes compilation) and its answer is compared with the
hand-written reference's before the steady-state timing starts.  Slow engines run at a
reduced size and their time is scaled linearly to the requested size.  An engine that
raises is recorded as failed with its error; the run goes on.
"""
import math
from dataclasses import dataclass, replace
from typing import Optional

from .compare import relative_error
from .engines import EngineUnavailable, normalise
from .timing import QUICK, measure, pin_imported, warm_up


@dataclass
class Measurement:
    engine: str                        # registry name
    label: str                         # name shown in tables
    status: str                        # "ok", "mismatch", "unchecked", "failed" or "skipped"
    size: int                          # the size the row is reported at
    measured_size: Optional[int] = None
    first_call: Optional[float] = None  # seconds, includes compilation
    per_call: Optional[float] = None    # median seconds per call at measured_size
    calls: int = 0
    error: Optional[float] = None       # relative error against the hand-written reference
    message: str = ""                   # why it failed or was skipped
    computes_gradient: bool = True
    # for extrapolated rows: cost ~ size^exponent between probe_size and measured_size
    scaling_exponent: Optional[float] = None
    probe_size: Optional[int] = None

    @property
    def extrapolated(self):
        return self.measured_size is not None and self.measured_size != self.size

    @property
    def seconds(self):
        """Seconds per call at `size`, scaled linearly from measured_size if needed."""
        if self.per_call is None:
            return None
        return self.per_call * self.size / self.measured_size

    @property
    def timed(self):
        return self.status in ("ok", "mismatch", "unchecked") and self.per_call is not None


@dataclass(frozen=True)
class RunSettings:
    timing: object                     # TimingSettings
    rtol: float
    seed: int = 0
    quick: bool = False
    threads: int = 0                   # the thread count every engine was pinned to (0: not pinned)

    def slow_size(self, problem):
        return problem.quick_slow_size() if self.quick else problem.slow_size


def _short_error(exc):
    text = f"{type(exc).__name__}: {exc}".strip()
    lines = [line for line in text.splitlines() if line.strip()]
    return " / ".join(lines[:4])[:400]


class ProblemRun:
    """Runs the engines on one problem, caching inputs and references per size."""

    def __init__(self, problem, engines, settings, progress, skips=None):
        self.problem = problem
        self.skips = skips           # a list to collect (engine, problem, reason) in, or None: print each
        self.engines = engines
        self.settings = settings
        self.progress = progress
        self._args = {}
        self._references = {}
        self._prepared = {}          # engine name -> run function, or the exception
        self._measured = {}          # (engine name, measured size) -> Measurement

    def args(self, size):
        if size not in self._args:
            self._args[size] = self.problem.args(size, self.settings.seed)
        return self._args[size]

    def reference(self, size):
        """The hand-written reference's answer at `size`, or None if it raised."""
        if size not in self._references:
            try:
                self._references[size] = normalise(*self.problem.hand(*self.args(size)))
            except Exception as exc:   # noqa: BLE001 - reported, never fatal
                self.progress.write(f"hand-written reference of {self.problem.name} failed: {_short_error(exc)}")
                self._references[size] = None
        return self._references[size]

    def _prepare(self, engine):
        if engine.name not in self._prepared:
            try:
                engine.available()
                self._prepared[engine.name] = engine.prepare(self.problem)
                if self.settings.threads:
                    pin_imported(self.settings.threads)  # a library the engine just imported (PyTorch)
            except EngineUnavailable as exc:
                if self.skips is None:
                    self.progress.write(f"note: {engine.name} skipped on {self.problem.name}: {exc}")
                else:
                    self.skips.append((engine.name, self.problem.name, str(exc)))
                self._prepared[engine.name] = exc
            except Exception as exc:   # noqa: BLE001
                self._prepared[engine.name] = exc
        return self._prepared[engine.name]

    def measure(self, engine, size):
        """One engine at one requested size (a slow engine at a reduced size)."""
        slow = engine.is_slow(self.problem)
        measured_size = min(size, self.settings.slow_size(self.problem)) if slow else size
        key = (engine.name, measured_size)
        if key not in self._measured:
            self._measured[key] = self._measure_at(engine, measured_size, self.settings.timing)
        m = self._measured[key]
        if measured_size < size and m.timed and m.probe_size is None:
            self._measured[key] = m = self._with_scaling(engine, m)
        return replace(m, size=size)

    def _with_scaling(self, engine, m):
        """`m` with the exponent of its cost's growth, from a probe at a quarter of its size.

        Extrapolation is linear; the exponent says how far that can be trusted.
        """
        probe_size = max(2, m.measured_size // 4)
        probe = self._measure_at(engine, probe_size, QUICK)
        exponent = None
        if probe.timed and probe.per_call > 0 and probe_size < m.measured_size:
            exponent = math.log(m.per_call / probe.per_call) / math.log(m.measured_size / probe_size)
        return replace(m, probe_size=probe_size, scaling_exponent=exponent)

    def _measure_at(self, engine, size, timing):
        base = dict(engine=engine.name, size=size, computes_gradient=engine.computes_gradient)
        run = self._prepare(engine)
        if isinstance(run, EngineUnavailable):
            return Measurement(label=engine.display_name(), status="skipped", message=str(run), **base)
        if isinstance(run, Exception):
            return Measurement(label=engine.display_name(), status="failed", message=_short_error(run), **base)
        args = self.args(size)
        try:
            raw, first_call = warm_up(run, args, timing.clock)
            result = normalise(*raw)
        except Exception as exc:   # noqa: BLE001
            return Measurement(label=engine.display_name(), status="failed", message=_short_error(exc),
                               measured_size=size, **base)
        reference = self.reference(size)
        if reference is None:
            status, error = "unchecked", None
        else:
            error = relative_error(result, reference)
            status = "ok" if error <= self.settings.rtol else "mismatch"
        if status == "mismatch":
            self.progress.write(
                f"!!! MISMATCH: {engine.display_name()} on {self.problem.name} "
                f"({self.problem.size_name} = {size}): relative error {error:.3g} > rtol {self.settings.rtol:g}")
        try:
            per_call, calls = measure(run, args, timing)
        except Exception as exc:   # noqa: BLE001 - an engine that works once and then fails
            return Measurement(label=engine.display_name(), status="failed", message=_short_error(exc),
                               measured_size=size, first_call=first_call, error=error, **base)
        return Measurement(label=engine.display_name(), status=status, measured_size=size,
                           first_call=first_call, per_call=per_call, calls=calls, error=error, **base)


def run_all(problems, engines, sizes_of, settings, progress, skips=None):
    """{problem name: [(size, [Measurement, ...]), ...]} for every problem and size.

    An engine that cannot run a problem (`EngineUnavailable`: not installed, no version of
    the problem) is noted through `progress` as it happens, or, given a list `skips`,
    appended to it as (engine, problem, reason) for `skip_summary`."""
    results = {}
    for problem in problems:
        problem_run = ProblemRun(problem, engines, settings, progress, skips)
        per_size = []
        for size in sizes_of(problem):
            rows = []
            for engine in engines:
                row = problem_run.measure(engine, size)
                rows.append(row)
                progress.step(f"{problem.name} {problem.size_name}={size:,} {engine.name}: {row.status}")
            per_size.append((size, rows))
        results[problem.name] = per_size
    return results


def skip_summary(skips, problems=()):
    """The (engine, problem, reason) triples of `skips` as a few lines: one per reason and
    set of problems, e.g. "note: torch, torch-vec skipped on every problem: torch is not
    installed" rather than one line per engine and problem.  `problems` are the names of
    every problem run (to say "every problem")."""
    per_engine = {}
    for engine, problem, reason in skips:
        per_engine.setdefault((engine, reason), []).append(problem)
    grouped = {}
    for (engine, reason), names in per_engine.items():
        grouped.setdefault((reason, tuple(names)), []).append(engine)
    lines = []
    for (reason, names), engines in grouped.items():
        if len(names) > 1 and set(names) >= set(problems):
            where = "every problem"
        else:
            where = ", ".join(names)
        lines.append(f"note: {', '.join(engines)} skipped on {where}: {reason}")
    return lines
