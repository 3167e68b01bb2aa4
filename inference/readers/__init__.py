"""Readers register themselves on import; `pick_reader` chooses one by sniffing the content."""
from . import html, pdf, scan, text  # noqa: F401
from .base import READERS, pick_reader, register_reader  # noqa: F401
