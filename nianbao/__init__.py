"""nianbao: reconstruct the statistics tables of government information-disclosure annual reports."""
from .errors import NianbaoError
from .schema import Report

__version__ = "0.1.0"


def reconstruct(source, config=None, *, engine=None) -> Report:
    """Reconstruct one report from a path, bytes or text (see `nianbao.inference.pipeline`)."""
    from nianbao.inference.pipeline import reconstruct as _reconstruct

    return _reconstruct(source, config, engine=engine)


__all__ = ["reconstruct", "Report", "NianbaoError", "__version__"]
