"""The registry of benchmark problems, in the order they are reported."""
from . import derivatives, gmm, gradbench, heat, logistic, logsumexp, mlp, ode, pendulum, rnn, rosenbrock

PROBLEMS = {p.name: p for p in (
    rosenbrock.PROBLEM,
    rosenbrock.POW_PROBLEM,
    rosenbrock.VEC_PROBLEM,
    logistic.PROBLEM,
    pendulum.PROBLEM,
    ode.PROBLEM,
    ode.GRADBENCH_PROBLEM,
    logsumexp.PROBLEM,
    logsumexp.VEC_PROBLEM,
    heat.PROBLEM,
    gmm.PROBLEM,
    mlp.PROBLEM,
    rnn.PROBLEM,
    *gradbench.PROBLEMS,
    derivatives.HESSIAN_PROBLEM,
    derivatives.JACOBIAN_PROBLEM,
)}
