"""Jacobian and Hessian oracles: adjit.jacfwd, adjit.jacrev and adjit.hessian of generated
programs (both generators; feature ``jacobians``, one program in four).

Per point, for the float64 array argument `p`:

* ``jacfwd(f, p)`` and ``jacrev(f, p)`` agree (rtol 1e-8: one is forward mode, the other one
  reverse sweep per output element, two independent transformations) and equal central
  differences of the Python function, column by column where f is smooth there (two step
  sizes, as `oracles.fd_smooth`);
* for a scalar f, ``hessian(f, p)`` has shape ``x.shape + x.shape``, is symmetric, and equals
  the central difference of *adjit.tape's* gradient (an engine that shares nothing with
  adjit's), again only for columns where two step sizes agree;
* for a vector-valued ``fv`` (the array generator writes one for the same body,
  returning an array), the same Jacobian checks with ``argnums=(p, q)`` (a tuple of
  Jacobians, shapes ``out.shape + arg.shape``).

Every object must leave the caller's arrays alone.  A clear AdjitError when one of them is
built or first called (forward mode refuses custom_vjp rules by design) is counted in
``stats["jac_refused"]`` and by reason, not failed; at a later point it fails as
"adjit-refused".  Kinds: "jacobian-value", "hessian-value", "grad-wrote-input", "adjit-crash".
"""
import inspect

import numpy as np

import adjit

from .oracles import (FD_RTOL, H_COARSE, H_FINE, SMOOTH_RTOL, _args_text, copied, fail, is_refusal, refusal_key,
                      tape_value_and_grad)

JAC_RTOL, JAC_ATOL = 1e-8, 1e-10
SYM_RTOL = 1e-7
HESS_H = (1e-4, 1e-5)


class _Objects:
    """The adjit objects of one program, built once and reused at every point (so that a
    refusal after a successful call is told apart from a refusal when compiling)."""

    def __init__(self, stats, reasons):
        self.stats, self.reasons = stats, reasons
        self.made, self.ran = {}, set()

    def call(self, key, make, args, call_text):
        """The object's value at a copy of args, or None when it was refused (counted)."""
        if key in self.made and self.made[key] is None:   # refused at an earlier point
            return None
        a = copied(args)
        try:
            if key not in self.made:
                self.made[key] = make()
            out = self.made[key](*a)
        except adjit.AdjitError as e:
            if is_refusal(e) and key not in self.ran:
                self.stats["jac_refused"] += 1
                if self.reasons is not None:
                    self.reasons[refusal_key(key[0], e)] += 1
                self.made[key] = None
                return None
            fail("adjit-refused" if is_refusal(e) else "adjit-crash", f"{call_text} raised {type(e).__name__}: {e}")
        except Exception as e:
            fail("adjit-crash", f"{call_text} raised {type(e).__name__}: {e}")
        self.ran.add(key)
        for after, before in zip(a, args):
            if isinstance(before, np.ndarray) and not np.array_equal(after, before):
                fail("grad-wrote-input", f"{call_text} changed an argument to {after.tolist()!r}")
        return out


def _fd_columns(fn, args, p, h_pair=(H_COARSE, H_FINE)):
    """The central-difference Jacobian of fn (a number or an array) along every element of
    args[p], shape (out.size, args[p].size); a column is nan where the two step sizes
    disagree (not smooth there)."""
    size = np.size(args[p])
    cols = []
    for k in range(size):
        est = []
        for h in h_pair:
            plus, minus = list(copied(args)), list(copied(args))
            if isinstance(args[p], np.ndarray):
                plus[p].flat[k] += h
                minus[p].flat[k] -= h
            else:
                plus[p] += h
                minus[p] -= h
            est.append((np.ravel(np.asarray(fn(*plus), dtype=float)) -
                        np.ravel(np.asarray(fn(*minus), dtype=float))) / (2 * h))
        coarse, fine = est
        smooth = np.all(np.abs(coarse - fine) <= SMOOTH_RTOL * np.maximum(1.0, np.abs(fine)))
        cols.append(fine if smooth else np.full(fine.shape, np.nan))
    return np.array(cols).T


def _fd_agrees(J, fd, stats, rtol=FD_RTOL):
    """J (out.size, in.size) against the fd columns that are smooth."""
    smooth = ~np.isnan(fd[0]) if fd.size else np.zeros(0, bool)
    stats["jac_fd_checked"] += int(np.sum(smooth))
    stats["jac_fd_skipped"] += int(np.sum(~smooth))
    got, want = J[:, smooth], fd[:, smooth]
    return bool(np.all(np.abs(got - want) <= rtol * np.maximum(1.0, np.abs(got))))


def _jac_pair(objs, fn, name, args, nums, text):
    """(jacfwd, jacrev) of fn at args for argnums `nums` (a tuple), each as a tuple of
    arrays; None if either was refused; checked for shape and agreement."""
    out = {}
    for api in ("jacfwd", "jacrev"):
        call_text = f"adjit.{api}({name}, argnums={nums})({text})"
        J = objs.call((api, name), lambda api=api: getattr(adjit, api)(fn, argnums=nums), args, call_text)
        if J is None:
            return None
        if not isinstance(J, tuple) or len(J) != len(nums):
            fail("jacobian-value", f"{call_text} returned {type(J).__name__}, not a tuple of {len(nums)} Jacobians")
        out[api] = J
    want = np.shape(fn(*copied(args)))
    for q, jf, jr in zip(nums, out["jacfwd"], out["jacrev"]):
        shape = want + np.shape(args[q])
        for api, J in (("jacfwd", jf), ("jacrev", jr)):
            if np.shape(J) != shape:
                fail("jacobian-value", f"adjit.{api}({name}, argnums={nums})({text}): Jacobian {q} has shape "
                     f"{np.shape(J)}, expected {shape}")
        if not np.allclose(jf, jr, rtol=JAC_RTOL, atol=JAC_ATOL):
            fail("jacobian-value", f"adjit.jacfwd and adjit.jacrev of {name} disagree (argnums={nums}, "
                 f"Jacobian {q}) at {text}:\n  jacfwd = {np.asarray(jf).tolist()!r}\n  jacrev = {np.asarray(jr).tolist()!r}")
    return out["jacfwd"]


def _check_jacobian(objs, fn, name, args, nums, text, stats):
    J = _jac_pair(objs, fn, name, args, nums, text)
    if J is None:
        return
    out_size = int(np.size(fn(*copied(args))))
    for q, jq in zip(nums, J):
        fd = _fd_columns(fn, args, q)
        jm = np.asarray(jq, dtype=float).reshape(out_size, -1)
        if not _fd_agrees(jm, fd, stats):
            fail("jacobian-value", f"adjit.jacfwd/jacrev({name}, argnums={nums}) disagree with central differences "
                 f"along argument {q} at {text}:\n  adjit  = {jm.tolist()!r}\n  finite = {fd.tolist()!r}  "
                 "(nan: not smooth there)")
    stats["jac_checked"] += 1


def _check_hessian(objs, f, args, p, text, stats, tape_f):
    call_text = f"adjit.hessian(f, argnums={p})({text})"
    H = objs.call(("hessian", "f"), lambda: adjit.hessian(f, argnums=p), args, call_text)
    if H is None:
        return
    sh = np.shape(args[p])
    if np.shape(H) != sh + sh:
        fail("hessian-value", f"{call_text} has shape {np.shape(H)}, expected {sh + sh}")
    n = int(np.size(args[p]))
    Hm = np.asarray(H, dtype=float).reshape(n, n)
    scale = max(1.0, float(np.max(np.abs(Hm))) if n else 1.0)
    if not np.all(np.abs(Hm - Hm.T) <= SYM_RTOL * scale):
        fail("hessian-value", f"{call_text} is not symmetric: {Hm.tolist()!r}")

    def tape_grad(*a):
        try:
            return tape_value_and_grad(tape_f, p, a, stats)[1]
        except adjit.AdjitError:
            raise _TapeRefused from None

    try:
        fd = _fd_columns(tape_grad, args, p, HESS_H)
    except _TapeRefused:
        stats["hess_tape_refused"] += 1
        return
    if not _fd_agrees(Hm, fd, stats):
        fail("hessian-value", f"{call_text} disagrees with central differences of adjit.tape's gradient:\n"
             f"  adjit  = {Hm.tolist()!r}\n  finite = {fd.tolist()!r}  (nan: not smooth there)")
    stats["hess_checked"] += 1


class _TapeRefused(Exception):
    pass


def check_jacobians(f, pts, p, stats, reasons=None, fv=None, fv_argnums=None, tape_f=None):
    """The Jacobian oracles (module docstring) for f's array argument `p` at the points `pts`,
    and for the vector-valued `fv` with `fv_argnums` if given.  `reasons` (a Counter) counts
    refusals by reason; `tape_f` is what adjit.tape runs for f (see oracles.check_function)."""
    objs = _Objects(stats, reasons)
    names = list(inspect.signature(f).parameters)
    for args in pts:
        text = _args_text(names, args)
        stats["jac_points"] += 1
        _check_jacobian(objs, f, "f", args, (p,), text, stats)
        _check_hessian(objs, f, args, p, text, stats, tape_f or f)
        if fv is not None:
            _check_jacobian(objs, fv, "fv", args, fv_argnums, text, stats)
