"""nianbao: reconstruct the statistics tables of government information-disclosure annual reports."""
from pathlib import Path as _Path

from .errors import NianbaoError
from .schema import Report

__version__ = "0.1.0"

# In a source checkout run from its root (`python -m nianbao.cli`), the card's top-level folders
# (inference/, models/, ...) are found the way setuptools' package-dir maps them for an install.
_root = _Path(__file__).resolve().parent.parent
if (_root / "pyproject.toml").exists() and (_root / "inference" / "__init__.py").exists():
    __path__.append(str(_root))  # noqa: F821


def reconstruct(source=None, config=None, *, engine=None, text=None) -> Report:
    """Reconstruct one report from a path (or bytes), or from its text with `text=`
    (see `nianbao.inference.pipeline`)."""
    from nianbao.inference.pipeline import reconstruct as _reconstruct

    return _reconstruct(source, config, engine=engine, text=text)


def reconstruct_many(paths, workers: int = 0, config=None, *, engine=None):
    """Reconstruct many files in parallel worker processes: a pandas DataFrame with one row per
    report × cell (and one `failed` row with its numbered error per file that failed), in the
    order of `paths` (see `nianbao.inference.batch`)."""
    from nianbao.inference.batch import reconstruct_many as _many

    return _many(paths, workers=workers, config=config, engine=engine)


__all__ = ["reconstruct", "reconstruct_many", "Report", "NianbaoError", "__version__"]
