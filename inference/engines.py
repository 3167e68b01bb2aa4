"""Engine registry: the heuristic matcher and the layout model share one interface,
`engine.score(fragments, template) -> Classification`."""
from __future__ import annotations

from .heuristic import HeuristicEngine


def _model_engine(checkpoint: str | None):
    from nianbao.models.engine import ModelEngine  # lazy: torch is an optional extra

    return ModelEngine.load(checkpoint, device="cuda" if _gpu() else "cpu")


def _gpu() -> bool:
    try:
        import torch

        return torch.cuda.is_available()
    except ImportError:
        return False


ENGINES = {
    "heuristic": lambda checkpoint=None: HeuristicEngine(),
    "model": _model_engine,
}

_CACHE: dict = {}


def get_engine(name: str, checkpoint: str | None = None):
    """`auto` takes the model where a GPU is present and the checkpoint loads, else the heuristic."""
    if name == "auto":
        if _gpu():
            try:
                return get_engine("model", checkpoint)
            except Exception:  # no loadable checkpoint: the card's fallback
                pass
        return get_engine("heuristic")
    key = (name, checkpoint)
    if key not in _CACHE:
        _CACHE[key] = ENGINES[name](checkpoint)
    return _CACHE[key]
