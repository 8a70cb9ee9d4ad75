"""The registry of engines, in the order they are reported."""
from .adjit_engines import AdjitEngine, PrimalEngine, TapeEngine
from .autograd_engine import AutogradEngine
from .base import Engine, EngineUnavailable, normalise
from .hand import HandEngine, HandMechanicalEngine
from .jax_engines import JaxEngine, JaxLoopEngine
from .torch_engines import TorchScalarEngine, TorchVectorEngine

ENGINE_CLASSES = (
    HandEngine,
    HandMechanicalEngine,
    PrimalEngine,
    AdjitEngine,
    TapeEngine,
    TorchScalarEngine,
    TorchVectorEngine,
    JaxEngine,
    JaxLoopEngine,
    AutogradEngine,
)

ENGINE_NAMES = tuple(cls.name for cls in ENGINE_CLASSES)


def make_engines(names=None):
    """Fresh engine objects for `names` (all when None), in registry order."""
    wanted = ENGINE_NAMES if names is None else names
    unknown = [n for n in wanted if n not in ENGINE_NAMES]
    if unknown:
        raise ValueError(f"unknown engine(s) {', '.join(unknown)}; known: {', '.join(ENGINE_NAMES)}")
    return [cls() for cls in ENGINE_CLASSES if cls.name in wanted]


__all__ = ["Engine", "EngineUnavailable", "normalise", "make_engines", "ENGINE_NAMES"]
