"""/api/v1/downsample: checkpoints of the hourly/daily aggregation job, and a run on demand."""
from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from ..deps import DownsamplerDep, SettingsDep
from ..downsample import INTERVALS

router = APIRouter(prefix="/api/v1/downsample", tags=["downsample"])


@router.get("/status", summary="How far each measurement's aggregates reach")
def status(job: DownsamplerDep, settings: SettingsDep) -> dict[str, Any]:
    """done_until_ms per measurement and interval (null: not started)."""
    return {"raw_retention_days": settings.downsample.raw_retention_days,
            "checkpoints": {f"{m}_{iv.name}": job.checkpoint(m, iv.name)
                            for m in settings.downsample.measurements for iv in INTERVALS}}


@router.post("/run", summary="Run the downsampling job now (resumes from its checkpoints)")
async def run(job: DownsamplerDep) -> dict[str, Any]:
    """What was written."""
    r = await job.run()
    return {"buckets_written": r.buckets_written, "points_written": r.points_written, "checkpoints": r.checkpoints}
