#!/usr/bin/env bash
# Idempotent set-up on a fresh machine: a virtual environment with nianbao and what its tests need.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-python3}
if [ ! -x .venv/bin/python ]; then
  "$PY" -m venv .venv
fi
# poppler-utils: `pdftotext`, whose -raw/-layout dumps the generator's pdf_dump style makes.
if ! command -v pdftotext >/dev/null 2>&1 && command -v apt-get >/dev/null 2>&1; then
  (apt-get install -y -q poppler-utils >/dev/null 2>&1 || (apt-get update -q >/dev/null 2>&1 && apt-get install -y -q poppler-utils >/dev/null 2>&1)) || echo "note: poppler-utils not installed; pdf_dump uses pdfplumber only" >&2
fi
# Chinese PDFs need a CJK font to render and to make test PDFs.
if ! fc-list 2>/dev/null | grep -qi wqy && command -v apt-get >/dev/null 2>&1; then
  (apt-get install -y -q fonts-wqy-zenhei >/dev/null 2>&1 || (apt-get update -q >/dev/null 2>&1 && apt-get install -y -q fonts-wqy-zenhei >/dev/null 2>&1)) || echo "note: fonts-wqy-zenhei not installed; PDF tests will say so" >&2
fi
# rapidocr-onnxruntime pulls opencv-python, which clashes with the headless build: keep exactly one
# OpenCV, the contrib headless one.
swap_opencv() {
  local others
  others=$(.venv/bin/pip list --format=freeze 2>/dev/null | grep -i '^opencv-' | grep -vi '^opencv-contrib-python-headless=' | cut -d= -f1 || true)
  if [ -n "$others" ]; then
    .venv/bin/pip uninstall -y -q $others
    .venv/bin/pip install -q --force-reinstall --no-deps opencv-contrib-python-headless
  fi
}
stamp=.venv/.nianbao-installed
if [ ! -f "$stamp" ] || [ pyproject.toml -nt "$stamp" ]; then
  # torch is pinned to the CPU build (a later pin pulls CUDA); strict editable mode maps the card's
  # top-level folders into the nianbao package. pip's chatter goes to a log, shown if it fails.
  if ! { .venv/bin/pip install -q --upgrade pip && \
         .venv/bin/pip install -q -e ".[test,model,pdf,ocr,batch,serve]" --config-settings editable_mode=strict && \
         swap_opencv; } \
       >.venv/install.log 2>&1; then
    cat .venv/install.log >&2
    exit 1
  fi
  touch "$stamp"
fi
