"""Typed, strict options loaded from `configs/`: unknown keys and bad values fail early."""
from __future__ import annotations

from importlib import resources
from pathlib import Path
from typing import Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, PositiveFloat, PositiveInt, ValidationError

from .errors import ConfigError

EngineName = Literal["auto", "heuristic", "model"]
OcrMode = Literal["auto", "always", "never"]


class PipelineConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")

    engine: EngineName = "auto"
    max_bytes: PositiveInt = 50 * 1024 * 1024
    checkpoint: str | None = None
    # auto: OCR a PDF whose text layer is missing or garbage; always: OCR every PDF; never: text only
    ocr: OcrMode = "auto"
    ocr_dpi: int = Field(150, ge=50, le=600)  # scanned PDF pages are rendered at this resolution
    max_pages: PositiveInt = 1000  # a longer PDF is refused
    max_ocr_pages: PositiveInt = 40  # pages OCR'd in full at most (table pages are chosen first)
    max_image_pixels: PositiveInt = 80_000_000  # larger images are refused before decoding
    max_span: PositiveInt = 50  # HTML rowspan/colspan larger than this count as this
    max_table_cells: PositiveInt = 20_000  # an HTML table with more cells is refused (a report table has ~250)
    file_timeout_s: PositiveFloat = 600  # batch and service: one file's time limit (its worker is then replaced)


def load_config(path: str | Path | None = None, **overrides) -> PipelineConfig:
    if path is None:
        raw = yaml.safe_load(resources.files("nianbao.configs").joinpath("pipeline.yaml").read_text("utf-8"))
    else:
        try:
            raw = yaml.safe_load(Path(path).read_text("utf-8"))
        except OSError as exc:
            raise ConfigError(f"cannot read the config file ({exc.strerror or exc.__class__.__name__})",
                              source=str(path)) from None
        except (yaml.YAMLError, UnicodeDecodeError) as exc:
            raise ConfigError(f"the config file is not valid YAML ({exc.__class__.__name__})", source=str(path)) from None
    if raw is not None and not isinstance(raw, dict):
        raise ConfigError("the config file must be a mapping of option: value", source=str(path))
    raw = {**(raw or {}), **{k: v for k, v in overrides.items() if v is not None}}
    try:
        return PipelineConfig.model_validate(raw)
    except ValidationError as exc:
        msgs = "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors())
        raise ConfigError(f"invalid pipeline config: {msgs}") from None
