"""The regression gate: ``python -m adjit.bench --check``.

A fixed set of problems at small sizes, adjit's ``value_and_grad`` timed side by side with
the hand-written reference, interleaved (a batch of one, then a batch of the other, a few
rounds; the fastest batch of each counts), in the process's CPU time: on a loaded machine
(CI runners, the shared 2-core development machine at a load average of 8) wall-clock
batches are cut by other processes at random and their ratios swung 2-3x between runs,
while both engines run on the calling thread (the harness pins every pool to one thread),
so CPU time counts only their own work.  The
gate fails (exit status 1) when adjit's time over the reference's exceeds the problem's
threshold, when adjit's answer differs from the reference's, or when adjit raises.

The thresholds are generous on purpose: about 2.5 times the ratio measured when they were
set (``measured``), so that noise on a shared machine never trips the gate and a
several-times slowdown (a lost optimisation: a tape where none was needed, an array
temporary per element) always does.  Lower a threshold when adjit gets faster.  Compile
time is not gated (it counts towards CI's time: the set is chosen to compile in well under
a minute).
"""
import sys
import time
from dataclasses import dataclass
from typing import Optional

from .compare import DEFAULT_RTOL, relative_error
from .engines import normalise
from .problems import PROBLEMS
from .report import format_ratio, format_seconds


@dataclass(frozen=True)
class Gate:
    problem: str
    size: int
    measured: float      # adjit ÷ hand when the threshold was set
    threshold: float     # the gate fails above this ratio


# `measured`: the largest of the ratios measured on 2026-12-08 (runs of the gate, CPU time,
# on the 2-core development machine at a load average of 5-16) with that day's code; the
# whole-array rows with the fusion pass off, its default again since dc7c8e4 (with ADJIT_FUSE=1:
# rosenbrock-vec 1.9, heat 4.1; lower these thresholds when fusion is the default).
# Compiling these takes most of the gate's time, about a minute cold.  The scalar
# `rosenbrock` is left out (rosenbrock-pow compiles to the same code), and so are ode and
# rnn (their compile time, for what heat and mlp already cover).
GATES = (
    Gate("rosenbrock-pow", 20_000, measured=2.4, threshold=6.0),
    Gate("rosenbrock-vec", 20_000, measured=27.0, threshold=60.0),   # unfused (the default): 7-27, its
    # ~20 temporaries make it allocation-bound and noisy; 1.9 fused
    Gate("logistic", 100_000, measured=2.3, threshold=5.5),
    Gate("pendulum", 100_000, measured=2.2, threshold=5.5),
    Gate("logsumexp", 100_000, measured=2.8, threshold=7.0),
    Gate("logsumexp-vec", 100_000, measured=4.3, threshold=10.0),
    Gate("heat", 100, measured=7.6, threshold=19.0),                 # unfused (the default); 4.1 fused
    Gate("gmm", 2_000, measured=2.1, threshold=6.0),
    Gate("mlp", 64, measured=1.7, threshold=4.5),
)

ROUNDS = 7                 # batches of each engine, interleaved
MIN_BATCH_SECONDS = 0.02   # a batch lasts at least this long (CPU time)
clock = time.process_time


@dataclass
class Outcome:
    gate: Gate
    hand: Optional[float] = None      # seconds per call, the fastest batch
    adjit: Optional[float] = None
    error: Optional[float] = None     # adjit's relative error against the reference
    failure: str = ""                 # why adjit could not be timed

    @property
    def ratio(self):
        if self.hand is None or self.adjit is None or self.hand <= 0:
            return None
        return self.adjit / self.hand

    @property
    def verdict(self):
        if self.failure:
            return "FAILED"
        if self.error is None or self.error > DEFAULT_RTOL:
            return "MISMATCH"
        return "ok" if self.ratio <= self.gate.threshold else "TOO SLOW"


def _batch_size(fn, args):
    """Calls per batch so that a batch lasts about MIN_BATCH_SECONDS (one call measured warm)."""
    start = clock()
    fn(*args)
    once = max(clock() - start, 1e-7)
    return max(1, int(MIN_BATCH_SECONDS / once) + 1)


def _fastest_per_call(functions, args, rounds=ROUNDS):
    """Seconds per call of each function, the fastest of `rounds` interleaved batches."""
    numbers = [_batch_size(fn, args) for fn in functions]
    best = [float("inf")] * len(functions)
    for _ in range(rounds):
        for k, (fn, number) in enumerate(zip(functions, numbers)):
            start = clock()
            for _ in range(number):
                fn(*args)
            best[k] = min(best[k], (clock() - start) / number)
    return best


def measure_gate(gate):
    """Time adjit against the reference on one gate's problem (never raises for adjit)."""
    import adjit
    problem = PROBLEMS[gate.problem]
    args = problem.args(gate.size)
    outcome = Outcome(gate)
    reference = normalise(*problem.hand(*args))
    try:
        gradient = adjit.value_and_grad(problem.function, argnums=problem.argnums)
        outcome.error = relative_error(normalise(*gradient(*args)), reference)
    except Exception as exc:   # noqa: BLE001 - reported in the table
        outcome.failure = f"{type(exc).__name__}: {exc}".splitlines()[0][:200]
        return outcome
    outcome.hand, outcome.adjit = _fastest_per_call((problem.hand, gradient), args)
    return outcome


def table(outcomes):
    """The gate's Markdown table and whether every row passed."""
    lines = ["| problem | size | hand | adjit | adjit ÷ hand | measured | threshold | verdict |",
             "|---|---:|---:|---:|---:|---:|---:|---|"]
    for o in outcomes:
        g = o.gate
        verdict = o.verdict + (f": {o.failure}" if o.failure else
                               f" (error {o.error:.1e})" if o.verdict == "MISMATCH" and o.error is not None else "")
        lines.append(f"| {g.problem} | {PROBLEMS[g.problem].size_name} = {g.size:,} | {format_seconds(o.hand)} "
                     f"| {format_seconds(o.adjit)} | {format_ratio(o.ratio)} | {format_ratio(g.measured)} "
                     f"| {format_ratio(g.threshold)} | {verdict} |")
    return lines, all(o.verdict == "ok" for o in outcomes)


def run_check(problems=None, threads=1, measure=measure_gate, out=sys.stdout):
    """Run the gates (those of `problems` when given); print the table; 0 if all pass, else 1."""
    gates = [g for g in GATES if problems is None or g.problem in problems]
    if problems is not None and not gates:
        print("no gate for " + ", ".join(problems) + "; gated problems: "
              + ", ".join(g.problem for g in GATES), file=sys.stderr)
        return 2
    outcomes = []
    for gate in gates:
        start = time.perf_counter()
        outcomes.append(measure(gate))
        print(f"checked {gate.problem} in {time.perf_counter() - start:.1f} s", file=sys.stderr, flush=True)
    lines, passed = table(outcomes)
    print(f"adjit.bench --check: adjit's value_and_grad over the hand-written reference, fastest of "
          f"{ROUNDS} interleaved batches each in CPU time, {threads or 'default'} thread(s)\n", file=out)
    print("\n".join(lines), file=out)
    if not passed:
        print("\nFAILED: " + ", ".join(f"{o.gate.problem} ({o.verdict})" for o in outcomes if o.verdict != "ok"),
              file=out)
    return 0 if passed else 1
