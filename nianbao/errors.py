"""Numbered errors with one place for their texts (after spaCy's Errors).

A user's bad file gets one line naming the file and what is wrong; a traceback is a bug.
"""
from __future__ import annotations


class NianbaoError(Exception):
    """Base class; `code` is stable so that users can search for it."""

    code = "E000"

    def __init__(self, message: str, *, source: str | None = None):
        self.source = source
        prefix = f"{source}: " if source else ""
        super().__init__(f"[{self.code}] {prefix}{message}")


class EmptyInput(NianbaoError):
    code = "E001"


class UnreadableInput(NianbaoError):
    """Binary junk, an undecodable encoding, a corrupt or encrypted document."""

    code = "E002"


class NotAReport(NianbaoError):
    """The input decodes but holds none of the three report tables."""

    code = "E003"


class InputTooLarge(NianbaoError):
    code = "E004"


class NotAFile(NianbaoError):
    """A path that is not a regular file one may read: missing, a folder, a FIFO or device, a
    symlink loop, no permission."""

    code = "E005"


class ConfigError(NianbaoError):
    """A config file has an unknown key or a value outside the allowed ones."""

    code = "E010"


class BatchLocked(NianbaoError):
    """Another batch is writing into the same results folder."""

    code = "E014"


class TimedOut(NianbaoError):
    """A file ran past `file_timeout_s` in a batch or a service request; its worker was replaced."""

    code = "E040"


class WorkerDied(NianbaoError):
    """The process working on a file died (killed for memory, a crash in a native library)."""

    code = "E041"


class OutOfMemory(NianbaoError):
    code = "E042"


class InternalError(NianbaoError):
    """A bug met on one file: reported with the file, never stopping a batch."""

    code = "E099"


class MissingExtra(NianbaoError):
    """An optional heavy dependency is not installed."""

    code = "E020"

    def __init__(self, package: str, extra: str, purpose: str):
        super().__init__(
            f"{purpose} needs the package '{package}', which is not installed. "
            f"Install it with: pip install 'nianbao[{extra}]'"
        )


def require(module: str, extra: str, purpose: str):
    """Import an optional dependency lazily, with a fix-it message when it is missing."""
    import importlib

    try:
        return importlib.import_module(module)
    except ImportError as exc:  # pragma: no cover - depends on the environment
        raise MissingExtra(module, extra, purpose) from exc
