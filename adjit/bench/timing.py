"""Timing one engine: a warm-up call timed on its own, then the median of repeated calls.

The first call includes compilation (Numba, adjit, JAX) and is reported separately.  The
steady-state time is measured the way ``timeit`` does it: calls are grouped in batches
long enough for the clock to be accurate (1, 2, 5, 10, 20, ... calls), and the median
over batches is reported, so one slow outlier (a page fault) does not move the result.

Unlike ``timeit``, the garbage collector stays enabled by default: user code runs with
it, and it is a real cost of engines that build a graph of Python objects per call
(measured: HIPS autograd's gradient of Rosenbrock at n = 10,000 takes 6.1 s with the
collector, 1.9 s without; PyTorch, whose graph lives in C++, is unaffected).
``disable_gc`` gives timeit's behaviour.

``cpu_time`` times with the process's CPU time instead of the wall clock: on a loaded
machine other processes cut wall-clock batches at random, while every engine runs pinned
to one thread (see `pin_threads`), so CPU time counts only the engine's own work.
"""
import ctypes
import gc
import os
import sys
import time
from dataclasses import dataclass


@dataclass(frozen=True)
class TimingSettings:
    min_batch_seconds: float = 0.2   # a batch of calls lasts at least this long
    batches: int = 7                 # number of batches wanted ...
    budget_seconds: float = 3.0      # ... unless the engine's time budget runs out first
    disable_gc: bool = False         # True: timeit's behaviour (see the module docstring)
    cpu_time: bool = False           # True: process CPU time instead of the wall clock

    @property
    def clock(self):
        return time.process_time if self.cpu_time else time.perf_counter


QUICK = TimingSettings(min_batch_seconds=0.02, batches=3, budget_seconds=0.3)
FULL = TimingSettings()


def warm_up(fn, args, clock=time.perf_counter):
    """Call once; return (result, seconds)."""
    start = clock()
    result = fn(*args)
    return result, clock() - start


def _batch(fn, args, number, clock):
    start = clock()
    for _ in range(number):
        fn(*args)
    return clock() - start


def _batch_sizes():
    number = 1
    while True:
        for factor in (1, 2, 5):
            yield number * factor
        number *= 10


def measure(fn, args, settings):
    """Median seconds per call over batches; returns (seconds, calls timed)."""
    spent = 0.0
    per_call = []
    calls = 0
    gc_was_enabled = gc.isenabled()
    gc.collect()     # start from a clean heap, whatever the previous engine left
    if settings.disable_gc:
        gc.disable()
    try:
        # find the batch length: the first batch that takes long enough is also the first sample
        for number in _batch_sizes():
            elapsed = _batch(fn, args, number, settings.clock)
            spent += elapsed
            calls += number
            if elapsed >= settings.min_batch_seconds or spent >= settings.budget_seconds:
                per_call.append(elapsed / number)
                break
        while len(per_call) < settings.batches and spent + elapsed <= settings.budget_seconds:
            elapsed = _batch(fn, args, number, settings.clock)
            spent += elapsed
            calls += number
            per_call.append(elapsed / number)
    finally:
        if gc_was_enabled:
            gc.enable()
    per_call.sort()
    middle = len(per_call) // 2
    median = per_call[middle] if len(per_call) % 2 else 0.5 * (per_call[middle - 1] + per_call[middle])
    return median, calls


# ---- threads ---------------------------------------------------------------------------------
# Every engine gets the same number of threads: OpenBLAS beside one-threaded Numba code, or
# JAX's and PyTorch's pools beside each other, made the MLP rows swing between batch sizes.
_THREAD_VARIABLES = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "VECLIB_MAXIMUM_THREADS",
                     "NUMEXPR_NUM_THREADS", "NUMBA_NUM_THREADS", "TF_NUM_INTRAOP_THREADS")
_OPENBLAS_SETTERS = ("openblas_set_num_threads", "openblas_set_num_threads64_",
                     "scipy_openblas_set_num_threads64_", "scipy_openblas_set_num_threads")


def pin_threads(n):
    """Limit every engine's thread pools to `n` threads; returns what was pinned (for the report).

    Libraries not imported yet read the environment (OpenMP, MKL, XLA's flags for JAX; PyTorch
    is also pinned by `pin_imported` once an engine imports it); OpenBLAS, already loaded by
    NumPy, is told through its own C entry point, and Numba through `numba.set_num_threads`."""
    for name in _THREAD_VARIABLES:
        if name == "NUMBA_NUM_THREADS" and "numba" in sys.modules:
            continue  # fixed when numba was imported; set_num_threads below
        os.environ[name] = str(n)
    flags = [f for f in os.environ.get("XLA_FLAGS", "").split()
             if not f.startswith(("--xla_cpu_multi_thread_eigen", "intra_op_parallelism_threads"))]
    if n == 1:
        flags.append("--xla_cpu_multi_thread_eigen=false")
    flags.append(f"intra_op_parallelism_threads={n}")
    os.environ["XLA_FLAGS"] = " ".join(flags)
    pinned = ["environment"]
    for path in _loaded_libraries("blas"):
        try:
            lib = ctypes.CDLL(path)
        except OSError:
            continue
        for setter in _OPENBLAS_SETTERS:
            if hasattr(lib, setter):
                getattr(lib, setter)(n)
                pinned.append("OpenBLAS")
                break
    try:
        import numba
        numba.set_num_threads(min(n, numba.config.NUMBA_NUM_THREADS))
        pinned.append("Numba")
    except Exception:  # noqa: BLE001 - no numba: nothing to pin
        pass
    pin_imported(n)
    return pinned


def pin_imported(n):
    """Pin the pools of engines imported since `pin_threads` (PyTorch reads no variable late)."""
    torch = sys.modules.get("torch")
    if torch is not None and torch.get_num_threads() != n:
        torch.set_num_threads(n)


def _loaded_libraries(word):
    try:
        with open("/proc/self/maps") as f:
            paths = {line.split()[-1] for line in f if ".so" in line and word in line.lower()}
    except OSError:  # not Linux: the environment variables are all there is
        return []
    return sorted(p for p in paths if os.path.isabs(p))
