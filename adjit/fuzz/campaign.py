"""One campaign in one process: hypothesis draws programs and points, the oracles check
them, and every failure is shrunk by hypothesis, then by deleting statements while it
still fails the same way (`minimize`), and written out as a reproducer file.

Hypothesis stops generating at the first failing example and shrinks it.  A campaign
must go on after a failure, so it restarts hypothesis (with the next seed) for the
programs still to run, until `programs` programs have been generated.  Only calls made
while generating are counted; the calls made while shrinking are not.
"""
import collections
import os
import time

from hypothesis import HealthCheck, Phase, given, note, settings
from hypothesis import seed as hypothesis_seed
from hypothesis import strategies as st
from hypothesis.control import current_build_context, currently_in_test_context

from .generator import DEFAULT_FEATURES, programs as program_strategy
from .oracles import KINDS, MISMATCH_KINDS, FuzzFailure, Refusal, check_program, make_point, resolve

def points():
    """A point: n, len(a) and m's shape drawn by hypothesis (they shrink); the floats from a
    seeded RNG (see oracles.make_point)."""
    return st.tuples(st.integers(0, 5), st.integers(4, 6), st.integers(2, 3), st.integers(2, 4),
                     st.integers(0, 2**32 - 1)).map(make_point)


def strategies(features=DEFAULT_FEATURES, npoints=2):
    """(program, points, argnums selector): the selector picks one of
    oracles.argnums_choices for the program's parameters."""
    return (program_strategy(features), st.lists(points(), min_size=npoints, max_size=npoints),
            st.integers(0, 5))


def _note(text):
    if currently_in_test_context():
        note(text)


def _is_final():
    return currently_in_test_context() and current_build_context().is_final


def _value_text(v):
    return f"np.array({v.tolist()!r})" if hasattr(v, "tolist") and not isinstance(v, float) else repr(v)


def reproducer_text(kind, program, pts, argnums, detail, origin):
    """A runnable file: the program, the points, and a call of the oracles."""
    comment = "\n".join("# " + line for line in detail.splitlines())
    pts_text = ",\n    ".join("(" + ", ".join(_value_text(v) for v in row) + ")" for row in pts)
    return (f"# adjit fuzz reproducer, failure kind: {kind}\n# found by: {origin}\n{comment}\n"
            f"# Run it: python this_file.py (prefix NUMBA_DISABLE_JIT=1 to run adjit's generated code\n"
            f"# in the interpreter, as the campaign's interpreted mode does).\n"
            f"{program.module_text}\n\n"
            f"POINTS = [\n    {pts_text},\n]\nARGNUMS = {argnums!r}\n\n"
            "if __name__ == \"__main__\":\n"
            "    from adjit.fuzz.oracles import check_function\n"
            "    check_function(f, POINTS, ARGNUMS)  # raises the failure again\n"
            "    print(\"no failure\")\n")


def _indent(line):
    return len(line) - len(line.lstrip())


def minimize(program, rows, argnums, kind, seconds=120.0):
    """Delete statements (a line with the lines indented under it, or a helper function)
    as long as the program still fails with the same `kind`; returns (program, detail)
    of the smallest failing version found within `seconds` (detail None if none was)."""
    from .generator import Program
    lines = program.source.splitlines()
    deadline = time.time() + seconds
    detail = None
    changed = True
    while changed and time.time() < deadline:
        changed = False
        i = len(lines) - 1
        while i >= 0 and time.time() < deadline:
            if not lines[i].strip() or lines[i].startswith("def f("):
                i -= 1
                continue
            j = i + 1
            while j < len(lines) and (not lines[j].strip() or _indent(lines[j]) > _indent(lines[i])):
                j += 1
            candidate = Program("\n".join(lines[:i] + lines[j:]) + "\n", program.used, program.params,
                                header=program.header, grad_of_grad=program.grad_of_grad)
            try:
                check_program(candidate, rows, argnums, collections.Counter())
            except FuzzFailure as e:
                if e.kind == kind:
                    lines, detail, changed = lines[:i] + lines[j:], e.detail, True
            except Exception:  # not a program any more (a syntax error, say): keep the lines
                pass
            i = min(i, len(lines)) - 1
    return Program("\n".join(lines) + "\n", program.used, program.params, header=program.header,
                   grad_of_grad=program.grad_of_grad), detail


class Campaign:
    """Counters and failures of the programs run in this process.

    stats: generated (programs drawn), compiled (adjit compiled jit and value_and_grad),
    checked (every oracle ran: passed or mismatch), passed, refused (a clear AdjitError when
    adjit compiled it: not a failure, counted by reason in `refusals`), mismatches, errors, points,
    points_ok, fd_checked, fd_skipped, grad_components, grad_nonzero, tape_fallback,
    nonfinite, restarts (hypothesis runs after the first).
    failures: one dict per failure found (kind, detail, reproducer path).
    """

    def __init__(self, features=DEFAULT_FEATURES, save_dir=None, npoints=2, origin="adjit.fuzz",
                 max_failures=20, shrink=True, minimize_seconds=120.0):
        self.features = frozenset(features)
        self.save_dir = save_dir
        self.npoints = npoints
        self.origin = origin
        self.max_failures = max_failures
        self.shrink = shrink
        self.minimize_seconds = minimize_seconds
        self.stats = collections.Counter()
        self.feature_count = collections.Counter()
        self.refusals = collections.Counter()      # refusal reason -> programs
        self.gg_refusals = collections.Counter()   # adjit.grad(adjit.grad(f)) refusal reason -> programs
        self.failures = []
        self.elapsed = 0.0

    def run(self, count, seed, progress=None):
        start = time.time()
        restart = 0
        while self.stats["generated"] < count and len(self.failures) < self.max_failures:
            self._run_once(count - self.stats["generated"], seed + 7919 * restart, progress)
            restart += 1
        self.stats["restarts"] += restart - 1
        self.elapsed += time.time() - start
        return self

    def _run_once(self, count, seed, progress):
        state = {"failed": False, "last": {}, "final": {}}
        phases = [Phase.generate, Phase.shrink] if self.shrink else [Phase.generate]

        @hypothesis_seed(seed)
        @settings(max_examples=count, deadline=None, database=None, report_multiple_bugs=False,
                  phases=phases, print_blob=False,
                  suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large,
                                         HealthCheck.filter_too_much, HealthCheck.large_base_example])
        @given(*strategies(self.features, self.npoints))
        def one(program, pts, selector):
            pts, argnums = resolve(program, pts, selector)
            counting = not state["failed"]
            stats = self.stats if counting else collections.Counter()
            if counting:
                stats["generated"] += 1
                self.feature_count.update(program.used)
                if progress and stats["generated"] % 100 == 0:
                    progress(self)
            _note(program.module_text)
            try:
                try:
                    check_program(program, pts, argnums, stats, note=_note, refusals_ok=True,
                                  gg_refusals=self.gg_refusals if counting else None)
                except Refusal as e:
                    if counting:
                        stats["refused"] += 1
                        self.refusals[e.key] += 1
                    return
                except FuzzFailure:
                    raise
                except Exception as e:  # a bug of the campaign itself: report it like the others
                    err = KINDS["harness-error"](f"[harness-error] {type(e).__name__}: {e}")
                    err.detail = f"the campaign's own code raised {type(e).__name__}: {e}"
                    raise err from e
            except FuzzFailure as e:
                if counting:
                    stats["mismatches" if e.kind in MISMATCH_KINDS else "errors"] += 1
                    stats["checked"] += e.kind in MISMATCH_KINDS
                state["failed"] = True
                record = (e.kind, program, pts, argnums, e.detail)
                state["last"][e.kind] = record
                if _is_final():
                    state["final"][e.kind] = record
                raise
            if counting:
                stats["checked"] += 1
                stats["passed"] += 1

        try:
            one()
        except FuzzFailure as e:
            record = state["final"].get(e.kind) or state["last"].get(e.kind)
            self._record(record, seed)

    def _record(self, record, seed):
        kind, program, pts, argnums, detail = record
        if self.shrink and self.minimize_seconds > 0:
            program, smaller = minimize(program, pts, argnums, kind, self.minimize_seconds)
            detail = smaller or detail
        entry = {"kind": kind, "detail": detail, "seed": seed, "path": None,
                 "program": program.module_text}
        if self.save_dir:
            os.makedirs(self.save_dir, exist_ok=True)
            path = os.path.join(self.save_dir, f"{kind}-seed{seed}.py")
            with open(path, "w") as fh:
                fh.write(reproducer_text(kind, program, pts, argnums, detail,
                                         f"{self.origin} (hypothesis seed {seed})"))
            entry["path"] = path
        self.failures.append(entry)

