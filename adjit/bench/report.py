"""The Markdown report: one table per problem (and size), with footnotes."""
import math
import os
import platform
import sys
from datetime import datetime, timezone
from importlib import metadata

ENGINE_DESCRIPTIONS = {
    "hand": "the derivative as a Numba expert writes it, compiled without fastmath as adjit's code is "
            "(fused loops where the math allows, forward mode for two inputs, nothing saved that can "
            "be recomputed): the reference and the speed limit",
    "hand-mech": "the mechanical adjoint written by hand in Numba (a forward sweep, then the loop reversed "
                 "over a tape), where it differs from the expert's code",
    "primal": "the function alone, compiled by adjit.jit (or numba.njit when adjit.jit is "
              "unavailable or fails, or NumPy uncompiled when both fail, as labelled): the cost "
              "of one evaluation",
    "adjit": "adjit.value_and_grad: the source-transformation compiler (adjit.hessian / adjit.jacfwd, "
             "beside adjit.jit for the value, on hessian-rosenbrock and jacobian-expansion)",
    "adjit.tape": "adjit.tape.value_and_grad: operator overloading on the unmodified function",
    "torch": "PyTorch autograd on the unmodified function, on 0-d tensors "
             "(x op= v run as x = x op v, arrays as lists of 0-d tensors)",
    "torch-vec": "a vectorised PyTorch version, where the problem has one (on one thread on "
                 "the whole-array problems mlp and rnn)",
    "jax": "jax.jit(jax.value_and_grad(...)) of idiomatic JAX: jnp vector operations, "
           "lax.fori_loop (static trip count, lowered to scan) for recurrences; on the "
           "whole-array problems the user's NumPy code itself with np bound to jax.numpy "
           "(heat's time loop as lax.fori_loop over .at[1:-1].set) "
           "(rnn's Python loop unrolled by tracing); jax.hessian / jax.jacfwd on hessian-rosenbrock and "
           "jacobian-expansion",
    "jax-loop": "jax.jit(jax.value_and_grad(...)) of the same scalar loops as lax.fori_loop "
                "(rnn: its time loop as lax.scan)",
    "autograd": "HIPS autograd on the unmodified function with autograd.numpy "
                "(arrays it creates are lists of scalars: autograd cannot assign into arrays)",
}


# a measured scaling exponent above this makes an extrapolated time suspect
SUPERLINEAR = 1.2


def format_seconds(seconds):
    if seconds is None:
        return "—"
    for unit, scale in (("s", 1.0), ("ms", 1e-3), ("µs", 1e-6), ("ns", 1e-9)):
        if seconds >= scale or unit == "ns":
            value = seconds / scale
            return f"{value:.3g} {unit}" if value < 100 else f"{value:.0f} {unit}"


def format_ratio(ratio):
    if ratio is None or not math.isfinite(ratio):
        return "—"
    if ratio >= 100:
        return f"{ratio:,.0f}"
    return f"{ratio:.3g}" if ratio >= 0.01 else f"{ratio:.1e}"


def _find(rows, engine):
    for row in rows:
        if row.engine == engine and row.timed:
            return row
    return None


def _ratio(numerator, denominator):
    if numerator is None or denominator is None or denominator <= 0:
        return None
    return numerator / denominator


def _error_cell(row):
    if row.engine == "hand":
        return "reference"
    if row.error is None:
        return "unchecked"
    text = f"{row.error:.1e}" if row.error > 0 else "0"
    if row.status == "mismatch":
        return f"**{text} MISMATCH**"
    return text + ("" if row.computes_gradient else " (value)")


def problem_table(problem, size, rows):
    """Markdown lines: the table for one problem at one size, then its footnotes."""
    hand = _find(rows, "hand")
    primal = _find(rows, "primal")
    tape = _find(rows, "adjit.tape")
    lines = [
        "| engine | time per call | × hand | × primal | speed-up over adjit.tape | first call | error vs hand |",
        "|---|---:|---:|---:|---:|---:|---:|",
    ]
    extrapolated = []
    problems_below = []
    for row in rows:
        if row.status == "skipped":
            problems_below.append(f"- `{row.engine}` skipped: {row.message}")
            continue
        if row.status == "failed":
            lines.append(f"| {row.label} | failed | | | | {format_seconds(row.first_call)} | |")
            problems_below.append(f"- `{row.engine}` **failed**: `{row.message.replace('`', chr(39))}`")
            continue
        mark = "*" if row.extrapolated else ""
        if row.extrapolated:
            extrapolated.append(row)
        seconds = row.seconds
        speedup = _ratio(tape.seconds, seconds) if tape is not None and row.computes_gradient else None
        lines.append(
            f"| {row.label} | {format_seconds(seconds)}{mark} "
            f"| {format_ratio(_ratio(seconds, hand.seconds if hand else None))} "
            f"| {format_ratio(_ratio(seconds, primal.seconds if primal else None))} "
            f"| {format_ratio(speedup)} "
            f"| {format_seconds(row.first_call)} "
            f"| {_error_cell(row)} |")
    notes = []
    for row in extrapolated:
        name = problem.size_name
        note = (f"\\* `{row.engine}` was measured at {name} = {row.measured_size:,} "
                f"({format_seconds(row.per_call)} per call) and scaled linearly to {name} = {size:,}")
        p = row.scaling_exponent
        if p is not None:
            note += (f"; between {name} = {row.probe_size:,} and {row.measured_size:,} "
                     f"its time grew as {name}^{p:.2f}")
            if p > SUPERLINEAR:
                power_law = row.per_call * (size / row.measured_size) ** p
                note += (f" (**superlinear**: the linear extrapolation is likely an underestimate; "
                         f"that power law would give {format_seconds(power_law)})")
        notes.append(note + ".")
    if notes:
        lines.append("")
        lines.extend(notes)
    if problems_below:
        lines.append("")
        lines.extend(problems_below)
    return lines


def _version(package):
    try:
        return metadata.version(package)
    except metadata.PackageNotFoundError:
        return None


def _cpu_model():
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def header(command, settings, quick):
    versions = ", ".join(f"{name} {v}" for name in ("numpy", "numba", "torch", "jax", "autograd")
                         if (v := _version(name)))
    mode = "a quick run: small sizes, few repeats; indicative only" if quick else "a full run"
    return [
        "# adjit benchmark results",
        "",
        f"Generated {datetime.now(timezone.utc):%Y-%m-%d %H:%M} UTC by `{command}` ({mode}).",
        "",
        f"Machine: {_cpu_model()}, {os.cpu_count()} CPUs, {platform.system()} {platform.release()}; "
        f"Python {sys.version.split()[0]}; {versions}.",
        "",
        "Method: every engine runs on the same inputs in one process.  Each engine's first call "
        "(which includes compilation) is timed on its own, and its answer is compared with the "
        "hand-written reference's before timing: error = max |g − g_hand| / max |g_hand| over the value "
        f"and each gradient, flagged MISMATCH above rtol = {settings.rtol:g}.  "
        "Time per call is the median over batches of repeated calls, in "
        + ("the process's CPU time (--cpu-time; first calls too)" if settings.timing.cpu_time else "wall-clock time")
        + " (timeit-style autorange, "
        f"batches of at least {settings.timing.min_batch_seconds:g} s, up to {settings.timing.batches} "
        f"batches within {settings.timing.budget_seconds:g} s), with Python's garbage collector "
        + ("disabled (--no-gc, as timeit does).  " if settings.timing.disable_gc else
           "enabled, as in user code (it costs engines that allocate Python objects per operation, "
           "such as autograd, up to 3×; --no-gc disables it).  ") +
        "× hand and × primal are this engine's time divided by the hand-written reference's and by one "
        "evaluation of the compiled function; speed-up over adjit.tape is the tape's time divided by "
        "this engine's.  Times marked * were measured at a smaller size and scaled linearly "
        "(slow engines: adjit.tape, torch and autograd everywhere, torch-vec on ode, jax-loop on ode-gradbench); each footnote gives "
        "the exponent of the engine's measured growth between a quarter of that size and that size, "
        "which says how far the linear extrapolation can be trusted (at small sizes fixed costs "
        "weigh more, so the exponent tends to read low).",
        "",
    ]


def engine_legend(engine_names):
    lines = ["## Engines", ""]
    for name in engine_names:
        lines.append(f"- `{name}`: {ENGINE_DESCRIPTIONS.get(name, '')}")
    lines.append("")
    return lines


# the summary's ratio columns, in this order, when the engine ran
SUMMARY_RATIOS = ("adjit", "hand-mech", "jax", "torch-vec")
# the summary's first-call column
SUMMARY_FIRST_CALLS = ("hand", "adjit", "jax")


def summary_table(problems, results, engine_names):
    """Markdown lines: one row per problem and size, each engine's time over the hand-written
    reference's, and the first calls (compilation) side by side."""
    ratios = [e for e in SUMMARY_RATIOS if e in engine_names]
    firsts = [e for e in SUMMARY_FIRST_CALLS if e in engine_names]
    lines = ["| problem | size | hand | " + " | ".join(f"{e} ÷ hand" for e in ratios)
             + f" | first call: {' / '.join(firsts)} |",
             "|---|---:|---:|" + "---:|" * len(ratios) + "---|"]
    for problem in problems:
        for size, rows in results[problem.name]:
            hand = _find(rows, "hand")
            cells = [format_ratio(_ratio(row.seconds, hand.seconds if hand else None))
                     + ("*" if row.extrapolated else "") + (" MISMATCH" if row.status == "mismatch" else "")
                     if (row := _find(rows, engine)) else "—" for engine in ratios]
            first = " / ".join(format_seconds(row.first_call) if (row := _find(rows, e)) else "—" for e in firsts)
            lines.append(f"| {problem.name} | {problem.size_name} = {size:,} "
                         f"| {format_seconds(hand.seconds if hand else None)} | " + " | ".join(cells)
                         + f" | {first} |")
    return lines


def render(problems, results, engine_names, settings, command, quick, plot_path=None):
    """The whole report as one Markdown string."""
    lines = header(command, settings, quick)
    if plot_path:
        lines += [f"![time against problem size, log-log]({plot_path})", ""]
    if "hand" in engine_names:
        lines += ["## Summary: time per call over the hand-written reference's", "",
                  "Below 1, the engine is faster than the expert's Numba code; * the engine was measured "
                  "at a smaller size and scaled (see its table).  The first call includes compilation "
                  "(adjit's from a fresh cache unless --warm-cache; JAX's tracing and XLA).", ""]
        lines += summary_table(problems, results, engine_names)
        lines.append("")
    for problem in problems:
        per_size = results[problem.name]
        sizes = ", ".join(f"{s:,}" for s, _ in per_size)
        lines += [f"## {problem.name}: {problem.title} ({problem.size_name} = {sizes})", "",
                  problem.summary, ""]
        for size, rows in per_size:
            if len(per_size) > 1:
                lines += [f"### {problem.size_name} = {size:,}", ""]
            lines += problem_table(problem, size, rows)
            lines.append("")
    lines += engine_legend(engine_names)
    return "\n".join(lines)
