"""The HTTP service on a real server (uvicorn on a free port), called over HTTP with httpx."""
import json
import socket
import threading
import time
from pathlib import Path

import pytest

from nianbao.config import load_config

fastapi = pytest.importorskip("fastapi", reason="the service is the `serve` extra; scripts/setup.sh installs it")
import httpx  # noqa: E402
import uvicorn  # noqa: E402

from nianbao.inference.service import create_app  # noqa: E402

SEED = "002_ccc308153d6aceb0.txt"
LIMIT = 200_000


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    cfg = load_config(engine="heuristic").model_copy(update={"max_bytes": LIMIT, "file_timeout_s": 20})
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    srv = uvicorn.Server(uvicorn.Config(create_app(cfg, workers=2), host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=srv.run, daemon=True)
    thread.start()
    deadline = time.time() + 60
    while not srv.started and time.time() < deadline:
        time.sleep(0.05)
    assert srv.started
    yield f"http://127.0.0.1:{port}"
    srv.should_exit = True
    thread.join(timeout=30)


def test_reconstruct_returns_the_report_as_json_csv_or_xlsx(server, seeds_dir):
    gold = json.loads((seeds_dir / "gold" / SEED.replace(".txt", ".json")).read_text("utf-8"))
    data = (seeds_dir / SEED).read_bytes()
    r = httpx.post(f"{server}/v1/reconstruct", files={"file": (SEED, data)}, timeout=60)
    assert r.status_code == 200
    assert r.json()["cells"] == gold["cells"] and r.json()["source"] == SEED
    csv = httpx.post(f"{server}/v1/reconstruct", files={"file": (SEED, data)}, headers={"Accept": "text/csv"}, timeout=60)
    assert csv.headers["content-type"].startswith("text/csv") and "requests.new_received.total" in csv.text
    xlsx = httpx.post(f"{server}/v1/reconstruct", files={"file": (SEED, data)}, timeout=60,
                      headers={"Accept": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"})
    assert xlsx.content[:2] == b"PK"  # a zip: an XLSX workbook


def test_bad_files_are_4xx_with_the_numbered_error(server, tmp_path):
    empty = httpx.post(f"{server}/v1/reconstruct", files={"file": ("empty.txt", b"")}, timeout=60)
    assert empty.status_code == 422 and empty.json()["code"] == "E001"
    junk = httpx.post(f"{server}/v1/reconstruct", files={"file": ("x.pdf", b"%PDF-1.7 garbage")}, timeout=60)
    assert junk.status_code == 422 and junk.json()["error"].startswith("[E002] x.pdf")
    missing = httpx.post(f"{server}/v1/reconstruct", data={"other": "1"}, timeout=60)
    assert missing.status_code == 422


def test_an_upload_over_the_limit_is_413_even_when_streamed(server):
    big = b"0" * (LIMIT * 3)
    r = httpx.post(f"{server}/v1/reconstruct", files={"file": ("big.txt", big)}, timeout=60)
    assert r.status_code == 413 and r.json()["code"] == "E004"

    def chunks():  # no Content-Length: cut off while it streams
        boundary = b"--b\r\nContent-Disposition: form-data; name=\"file\"; filename=\"big.txt\"\r\n\r\n"
        yield boundary
        for _ in range(30):
            yield b"0" * 65536
        yield b"\r\n--b--\r\n"

    r = httpx.post(f"{server}/v1/reconstruct", content=chunks(), timeout=60,
                   headers={"Content-Type": "multipart/form-data; boundary=b"})
    assert r.status_code == 413


def test_the_client_file_name_never_names_a_path(server, seeds_dir, tmp_path):
    data = (seeds_dir / SEED).read_bytes()
    r = httpx.post(f"{server}/v1/reconstruct", files={"file": ("../../../../tmp/owned.txt", data)}, timeout=60)
    assert r.status_code == 200 and r.json()["source"] == "owned.txt"
    assert not Path("/tmp/owned.txt").exists()


def test_jobs_run_in_the_background(server, seeds_dir):
    r = httpx.post(f"{server}/v1/jobs", files={"file": (SEED, (seeds_dir / SEED).read_bytes())}, timeout=60)
    assert r.status_code == 202
    job = r.json()["id"]
    for _ in range(200):
        status = httpx.get(f"{server}/v1/jobs/{job}", timeout=30).json()
        if status["status"] != "running":
            break
        time.sleep(0.1)
    assert status["status"] == "done" and status["report"]["format"] == "2021"
    assert httpx.get(f"{server}/v1/jobs/nope", timeout=30).status_code == 404


def test_health_and_docs(server):
    assert httpx.get(f"{server}/healthz", timeout=30).json()["status"] == "ok"
    assert httpx.get(f"{server}/docs", timeout=30).status_code == 200
    paths = httpx.get(f"{server}/openapi.json", timeout=30).json()["paths"]
    assert {"/v1/reconstruct", "/v1/jobs", "/v1/jobs/{job_id}", "/healthz"} <= set(paths)
