"""Module-level helpers with user derivative rules (``adjit.custom_vjp`` / ``adjit.custom_jvp``)
for both generators (feature ``custom_rule``).

Each rule is the true derivative of its helper, written differently from what adjit would
derive (residuals, closed forms), so every oracle still applies: adjit uses the rule, while
adjit.tape and finite differences see the plain function (a decorated helper called from
Python is the function itself).  A wrong rule plumbing in adjit (cotangents swapped, a
residual confused with an argument, a rule dropped under jit) shows as a disagreement.

The fwd rules pack their residuals into one value (an array made with np.array or
np.concatenate) instead of a tuple: a tuple of residuals, documented, is refused by adjit
("returning a nested tuple is not supported", tests/fuzz/test_custom_rules_fuzz.py keeps the
reproducer as a strict expected failure); the campaign must not be refused on every program
with such a helper.

adjit.tape cannot differentiate through a decorated helper that calls math functions (or np
functions on numbers): the decorated helper is an object, not a function, so the tape does
not swap the module's math and np for it ("a tape scalar was converted to a plain Python
float").  The oracles therefore give the tape the same program without the decorators
(`plain_text`): the helper's plain function, which is exactly what the decorated helper
computes when Python calls it.

Forward mode through a custom_vjp is refused by design (a clear error): the jvp oracle and
the Jacobian oracles count that as a refusal, and reverse mode still checks the rule.
"""

import re

# name -> module text.  Scalar helpers (numbers in, a number out) and array helpers.
CUSTOM_HELPERS = {
    # numbers: a stable softplus whose primal has a kink-free sum of abs/max pieces
    "cv_softplus": '''@adjit.custom_vjp
def cv_softplus(t):
    return math.log1p(math.exp(-abs(t))) + max(t, 0.0)


def cv_softplus_fwd(t):
    return cv_softplus(t), t


def cv_softplus_bwd(t, g):
    return (g / (1.0 + math.exp(-t)),)


cv_softplus.defvjp(cv_softplus_fwd, cv_softplus_bwd)
''',
    # numbers, two arguments, residuals packed in an array
    "cv_mix": '''@adjit.custom_vjp
def cv_mix(t, u):
    return math.sin(t) * math.tanh(u)


def cv_mix_fwd(t, u):
    th = math.tanh(u)
    return math.sin(t) * th, np.array([math.cos(t), math.sin(t), th])


def cv_mix_bwd(res, g):
    return (g * res[0] * res[2], g * res[1] * (1.0 - res[2] * res[2]))


cv_mix.defvjp(cv_mix_fwd, cv_mix_bwd)
''',
    # numbers, a forward rule (reverse mode derives its vjp from it)
    "cj_wave": '''@adjit.custom_jvp
def cj_wave(t, u):
    return math.sin(t) * u + math.tanh(u)


@cj_wave.defjvp
def cj_wave_jvp(primals, tangents):
    t, u = primals
    dt, du = tangents
    th = math.tanh(u)
    return cj_wave(t, u), math.cos(t) * u * dt + (math.sin(t) + 1.0 - th * th) * du
''',
    # an array in, an array out
    "cv_act": '''@adjit.custom_vjp
def cv_act(v):
    return v * np.tanh(v)


def cv_act_fwd(v):
    return v * np.tanh(v), v


def cv_act_bwd(v, g):
    th = np.tanh(v)
    return (g * (th + v * (1.0 - th * th)),)


cv_act.defvjp(cv_act_fwd, cv_act_bwd)
''',
    # an array and a number in, a number out
    "cv_energy": '''@adjit.custom_vjp
def cv_energy(v, t):
    return np.sum(np.sin(v)) * t


def cv_energy_fwd(v, t):
    return cv_energy(v, t), np.concatenate((v, np.array([t])))


def cv_energy_bwd(res, g):
    v = res[:-1]
    return (g * res[-1] * np.cos(v), g * np.sum(np.sin(v)))


cv_energy.defvjp(cv_energy_fwd, cv_energy_bwd)
''',
}
SCALAR_CUSTOM = ("cv_softplus", "cv_mix", "cj_wave")
ARRAY_CUSTOM = ("cv_act", "cv_energy")


def plain_text(module_text):
    """The module without the custom-rule decorators and registrations: every helper a plain
    function (the rules stay, unused)."""
    keep = [ln for ln in module_text.split("\n")
            if not re.match(r"@adjit\.custom_(vjp|jvp)$|@\w+\.defjvp$|\w+\.defvjp\(", ln)]
    return "\n".join(keep)


def custom_text(names):
    """The module text of the helpers `names` (sorted, so a program's text is canonical)."""
    return "".join(CUSTOM_HELPERS[n] + "\n\n" for n in sorted(names))
