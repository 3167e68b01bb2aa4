"""Engine registry: the heuristic matcher and the layout model share one interface,
`engine.score(fragments, template) -> Classification`."""
from __future__ import annotations

from .heuristic import HeuristicEngine


def _model_engine(checkpoint: str | None):
    from nianbao.models.engine import ModelEngine  # lazy: torch is an optional extra

    return ModelEngine.load(checkpoint)


ENGINES = {
    "heuristic": lambda checkpoint=None: HeuristicEngine(),
    "model": _model_engine,
}

_CACHE: dict = {}


def get_engine(name: str, checkpoint: str | None = None):
    """`auto` takes the model where a GPU is present and the checkpoint loads, else the heuristic."""
    if name == "auto":
        try:
            import torch  # noqa: F401

            if torch.cuda.is_available():
                return get_engine("model", checkpoint)
        except Exception:  # no torch, no GPU, or no loadable checkpoint: the card's CPU fallback
            pass
        return get_engine("heuristic")
    key = (name, checkpoint)
    if key not in _CACHE:
        _CACHE[key] = ENGINES[name](checkpoint)
    return _CACHE[key]
