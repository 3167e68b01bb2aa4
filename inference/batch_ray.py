"""The batch executor on Ray: the same stages, spread over a cluster (or a local Ray).

Reading (text, PDF, OCR) runs as CPU tasks; classifying, solving and emitting run on a pool of
actors that each hold the engine once, and ask for a GPU where the cluster has one (the layout
model is what a GPU speeds up). The driver keeps the per-file time limit: an overrunning read is
cancelled, an overrunning actor is killed and replaced.
"""
from __future__ import annotations

import os
import time
from collections import deque

from nianbao.errors import MissingExtra

from .batch import BatchOptions, Item, register_executor, timed_out, worker_died

POLL_S = 0.2


def ray_init(address: str, num_cpus: int | None = None):
    os.environ.setdefault("RAY_USAGE_STATS_ENABLED", "0")  # offline machines: no usage report
    try:
        import ray
    except ImportError as exc:  # pragma: no cover - depends on the environment
        raise MissingExtra("ray", "batch", "nianbao batch --ray") from exc
    if ray.is_initialized():
        return ray
    kw = dict(include_dashboard=False, log_to_driver=False, configure_logging=False)
    if address == "auto":
        try:  # a running cluster (RAY_ADDRESS or a local `ray start`) first
            ray.init(address="auto", **kw)
        except ConnectionError:
            ray.init(num_cpus=num_cpus, **kw)
    else:
        ray.init(address=address, **kw)
    return ray


def _read(path: str, config_json: str):
    from nianbao.config import PipelineConfig
    from nianbao.errors import NianbaoError
    from nianbao.inference.pipeline import load, read

    t0 = time.perf_counter()
    config = PipelineConfig.model_validate_json(config_json)
    try:
        from pathlib import Path

        doc = load(Path(path), config)
        read(doc, config)
        doc.data = b""  # the fragments are what the next stage needs; the bytes stay here
        return {"ok": True, "doc": doc, "seconds": time.perf_counter() - t0}
    except NianbaoError as exc:
        return {"ok": False, "code": exc.code, "message": str(exc), "seconds": time.perf_counter() - t0}
    except Exception as exc:
        return {"ok": False, "code": "E099", "message": f"[E099] {path}: internal error ({exc.__class__.__name__}: {exc})",
                "seconds": time.perf_counter() - t0}


class _Reconstructor:
    """Classify, solve, emit; the engine (and the model on its device) is loaded once per actor."""

    def __init__(self, config_json: str):
        from nianbao.config import PipelineConfig
        from nianbao.inference.engines import get_engine

        self.config = PipelineConfig.model_validate_json(config_json)
        get_engine(self.config.engine, self.config.checkpoint)

    def finish(self, doc, read_seconds: float):
        from nianbao.errors import NianbaoError
        from nianbao.inference.pipeline import classify_stage, emit, solve

        t0 = time.perf_counter()
        try:
            for stage in (classify_stage, solve, emit):
                stage(doc, self.config)
            return {"ok": True, "report": doc.report.model_dump(mode="json"),
                    "seconds": read_seconds + time.perf_counter() - t0}
        except NianbaoError as exc:
            return {"ok": False, "code": exc.code, "message": str(exc), "seconds": read_seconds + time.perf_counter() - t0}
        except Exception as exc:
            return {"ok": False, "code": "E099", "message": f"[E099] {doc.source}: internal error "
                    f"({exc.__class__.__name__}: {exc})", "seconds": read_seconds + time.perf_counter() - t0}


@register_executor("ray")
def run_ray(items: list[Item], config_json: str, timeout: float, options: BatchOptions):
    ray = ray_init(options.ray or "auto", options.workers or None)
    from ray.exceptions import GetTimeoutError, RayError, TaskCancelledError, WorkerCrashedError

    cpus = int(ray.cluster_resources().get("CPU", 1))
    gpus = int(ray.cluster_resources().get("GPU", 0))
    reads_in_flight = options.workers or cpus
    read_task = ray.remote(num_cpus=1)(_read)
    actor_cls = ray.remote(num_gpus=1, num_cpus=1)(_Reconstructor) if gpus else ray.remote(num_cpus=1)(_Reconstructor)
    n_actors = gpus or max(1, min(reads_in_flight, cpus) // 2)

    def new_actor():
        return actor_cls.remote(config_json)

    idle = [new_actor() for _ in range(n_actors)]
    queue = deque(items)
    reads: dict = {}  # ref → (item, started)
    finishing: dict = {}  # ref → (item, actor, started at the file's read start)
    ready: deque = deque()  # (item, doc, read seconds, started)

    def outcome(ref, item):
        try:
            return ray.get(ref, timeout=0)
        except (TaskCancelledError, GetTimeoutError):
            return timed_out(str(item.rel), timeout)
        except WorkerCrashedError as exc:
            return worker_died(str(item.rel), exc.__class__.__name__)
        except RayError as exc:
            return {"ok": False, "code": "E099", "message": f"[E099] {item.rel}: {exc.__class__.__name__}", "seconds": 0.0}

    while queue or reads or finishing or ready:
        while queue and len(reads) < reads_in_flight:
            it = queue.popleft()
            reads[read_task.remote(str(it.path), config_json)] = (it, time.monotonic())
        while ready and idle:
            it, doc, secs, started = ready.popleft()
            actor = idle.pop()
            # The clock counts the file's own work, not its wait for a free actor.
            finishing[actor.finish.remote(doc, secs)] = (it, actor, time.monotonic() - secs)
        pending = list(reads) + list(finishing)
        done, _ = ray.wait(pending, num_returns=1, timeout=POLL_S) if pending else ([], [])
        for ref in done:
            if ref in reads:
                it, started = reads.pop(ref)
                res = outcome(ref, it)
                if res["ok"]:
                    ready.append((it, res["doc"], res["seconds"], started))
                else:
                    yield it, res
            else:
                it, actor, _ = finishing.pop(ref)
                idle.append(actor)
                yield it, outcome(ref, it)
        now = time.monotonic()
        for ref, (it, started) in list(reads.items()):
            if now - started > timeout:
                ray.cancel(ref, force=True)
                del reads[ref]
                yield it, timed_out(str(it.rel), timeout)
        for ref, (it, actor, started) in list(finishing.items()):
            if now - started > timeout:
                ray.kill(actor)
                del finishing[ref]
                idle.append(new_actor())
                yield it, timed_out(str(it.rel), timeout)
    for actor in idle:
        ray.kill(actor)
