"""The HTTP service (`nianbao serve`): FastAPI over the same pipeline and worker pool as a batch.

    POST /v1/reconstruct   multipart `file` → the report (JSON, or CSV / XLSX by `Accept`)
    POST /v1/jobs          multipart `file` → 202 {"id"}; GET /v1/jobs/{id} → its status and report
    GET  /healthz          liveness, version, engine
    GET  /docs             OpenAPI docs

A user's file never gets a 500: every failure is a 4xx with the numbered error. Uploads are stored
under a fresh temporary name (the client's file name only gives the report its name and the
reader its suffix), and the body is cut off at `max_bytes` while it streams in (413).
"""

import asyncio
import os
import re
import tempfile
import time
import uuid
from collections import OrderedDict
from concurrent.futures import TimeoutError as FutureTimeout
from pathlib import Path

from nianbao import __version__
from nianbao.config import PipelineConfig
from nianbao.errors import require

from .batch import SUPPORTED, timed_out, warm, work, worker_died

MEDIA = {
    "json": "application/json",
    "csv": "text/csv; charset=utf-8",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}
# Numbered error → HTTP status: all are the client's file, none a 500.
STATUS = {"E004": 413, "E040": 422, "E041": 422, "E042": 422}
MULTIPART_SLACK = 64 * 1024  # headers and boundaries around the file in a multipart body
KEEP_JOBS = 1000  # finished jobs kept for GET; the oldest go first


class _TooLarge(Exception):
    pass


class BodyLimit:
    """ASGI middleware: refuse a body over the limit before it is read (Content-Length) or as
    soon as it streams past it (chunked uploads)."""

    def __init__(self, app, limit: int):
        self.app, self.limit = app, limit

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        length = dict(scope.get("headers") or []).get(b"content-length")
        if length is not None and length.isdigit() and int(length) > self.limit:
            return await _send_413(send, self.limit)
        seen, started, over = 0, False, False

        async def limited():
            nonlocal seen, over
            msg = await receive()
            if msg["type"] == "http.request":
                seen += len(msg.get("body", b""))
                if seen > self.limit:
                    over = True
                    raise _TooLarge
            return msg

        async def guarded_send(msg):
            # The app may turn the cut-off body into its own 400 ("error parsing the body"): once
            # over the limit, what the client gets is the 413.
            nonlocal started
            if over:
                if msg["type"] == "http.response.start" and not started:
                    started = True
                    await _send_413(send, self.limit)
                return
            started = started or msg["type"] == "http.response.start"
            await send(msg)

        try:
            await self.app(scope, limited, guarded_send)
        except _TooLarge:
            if not started:
                await _send_413(send, self.limit)


async def _send_413(send, limit: int):
    import json

    body = json.dumps({"code": "E004", "error": f"[E004] the upload is over the limit of {limit} bytes"}).encode()
    await send({"type": "http.response.start", "status": 413,
                "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]})
    await send({"type": "http.response.body", "body": body})


def safe_name(filename: str | None) -> tuple[str, str]:
    """(report name, suffix) from a client's file name: its last path part only, and a suffix a
    reader knows, else none (the readers sniff the content anyway)."""
    base = re.split(r"[\\/]", filename or "")[-1].strip() or "upload"
    base = re.sub(r"[\x00-\x1f]", "", base)[:200] or "upload"
    suffix = Path(base).suffix.lower()
    return base, suffix if suffix in SUPPORTED else ""


def create_app(config: PipelineConfig, workers: int = 0):
    fastapi = require("fastapi", "serve", "nianbao serve")
    from fastapi import FastAPI, File, HTTPException, Request, UploadFile
    from fastapi.responses import JSONResponse, Response
    from pebble import ProcessExpired, ProcessPool

    from .export import export

    state: dict = {}
    jobs: OrderedDict[str, dict] = OrderedDict()
    config_json = config.model_dump_json()

    from contextlib import asynccontextmanager

    @asynccontextmanager
    async def lifespan(app):
        state["pool"] = ProcessPool(max_workers=workers or os.cpu_count() or 1, initializer=warm, initargs=(config_json,))
        state["tmp"] = tempfile.TemporaryDirectory(prefix="nianbao-uploads-")
        yield
        state["pool"].stop()
        state["pool"].join()
        state["tmp"].cleanup()

    app = FastAPI(title="nianbao", version=__version__, lifespan=lifespan,
                  description="Reconstruct the statistics tables of Chinese government information-disclosure "
                              "annual reports, checked by their own arithmetic.")

    async def store(upload: UploadFile) -> tuple[Path, str]:
        name, suffix = safe_name(upload.filename)
        folder = Path(tempfile.mkdtemp(dir=state["tmp"].name))
        path = folder / f"{uuid.uuid4().hex}{suffix}"
        n = 0
        with open(path, "wb") as fh:
            while chunk := await upload.read(1 << 20):
                n += len(chunk)
                if n > config.max_bytes:
                    raise HTTPException(413, {"code": "E004", "error": f"[E004] {name}: over the limit of {config.max_bytes} bytes"})
                fh.write(chunk)
        return path, name

    def named(res: dict, name: str, stored: Path) -> dict:
        """The stored file's random name never leaks: the report and its errors use the client's."""
        if res["ok"]:
            res["report"].update(source=name, id=Path(name).stem)
        else:
            res["message"] = res["message"].replace(stored.name, name).replace(str(stored), name)
        return res

    async def run(path: Path, name: str) -> dict:
        fut = state["pool"].schedule(work, args=(str(path), config_json), timeout=config.file_timeout_s)
        try:
            res = await asyncio.wrap_future(fut)
        except FutureTimeout:
            res = timed_out(name, config.file_timeout_s)
        except ProcessExpired as exc:
            res = worker_died(name, f"exit code {exc.exitcode}")
        finally:
            path.unlink(missing_ok=True)
            path.parent.rmdir()
        return named(res, name, path)

    def fail(res: dict):
        return JSONResponse({"code": res["code"], "error": res["message"]}, status_code=STATUS.get(res["code"], 422))

    def render(report: dict, accept: str):
        from nianbao.schema import Report

        for fmt in ("xlsx", "csv"):
            if MEDIA[fmt].split(";")[0] in accept:
                return Response(export([Report.model_validate(report)], fmt), media_type=MEDIA[fmt])
        return JSONResponse(report)

    @app.get("/healthz")
    def healthz():
        return {"status": "ok", "version": __version__, "engine": config.engine}

    @app.post("/v1/reconstruct", summary="Reconstruct one report (JSON; CSV or XLSX by Accept)",
              responses={413: {"description": "upload over max_bytes"}, 422: {"description": "numbered error"}})
    async def reconstruct(request: Request, file: UploadFile = File(...)):
        path, name = await store(file)
        res = await run(path, name)
        return render(res["report"], request.headers.get("accept", "")) if res["ok"] else fail(res)

    @app.post("/v1/jobs", status_code=202, summary="Queue one report; poll GET /v1/jobs/{id}")
    async def submit(file: UploadFile = File(...)):
        path, name = await store(file)
        job_id = uuid.uuid4().hex
        jobs[job_id] = {"id": job_id, "status": "running", "source": name, "submitted": time.time()}
        while len(jobs) > KEEP_JOBS:
            jobs.popitem(last=False)

        async def go():
            res = await run(path, name)
            job = jobs.get(job_id)
            if job is not None:
                job.update(status="done", report=res["report"]) if res["ok"] else \
                    job.update(status="failed", code=res["code"], error=res["message"])

        state.setdefault("tasks", set()).add(t := asyncio.create_task(go()))
        t.add_done_callback(state["tasks"].discard)
        return {"id": job_id, "status": "running"}

    @app.get("/v1/jobs/{job_id}")
    def job(job_id: str):
        if job_id not in jobs:
            raise HTTPException(404, {"code": "E404", "error": f"no job {job_id!r} (finished jobs are kept: the last {KEEP_JOBS})"})
        return jobs[job_id]

    @app.exception_handler(HTTPException)
    async def numbered(request, exc: HTTPException):  # our refusals carry their code at the top level
        body = exc.detail if isinstance(exc.detail, dict) else {"error": exc.detail}
        return JSONResponse(body, status_code=exc.status_code)

    app.add_middleware(BodyLimit, limit=config.max_bytes + MULTIPART_SLACK)
    del fastapi
    return app
