"""/api/v1/reports/plows: the daily work report (稼働日報) and payment breakdown (出来高内訳書) per vehicle."""
from __future__ import annotations

from datetime import date
from typing import Any, Literal

from fastapi import APIRouter, Query
from fastapi.responses import JSONResponse, Response

from ..deps import SnowDep
from ..snow.report import report_csv
from ..snowservice import SnowRequestError

router = APIRouter(prefix="/api/v1/reports", tags=["snow"])


@router.get("/plows", summary="Daily plow work report for one JST day (CSV or JSON)",
            responses={200: {"content": {"text/csv": {}}}, 404: {"description": "unknown site or no roads"},
                       422: {"description": "date is not YYYY-MM-DD"}})
async def plows_report(snow: SnowDep,
                       date_: str = Query(..., alias="date", description="JST day, YYYY-MM-DD"),
                       format: Literal["csv", "json"] = Query("csv"),
                       site: str | None = Query(None, description="needed only when several sites have roads"),
                       ) -> Response:
    """Per vehicle: start, end, hours and km blade down and in transit, roads cleared, data gaps, and with
    the tariff (`[snow] tariff`) the paid hours per time band and day type at each machine class's price.
    The same as `yukimizu report plows` on the same fixes; columns in Japanese and English."""
    try:
        day = date.fromisoformat(date_)
        if len(date_) != 10:
            raise ValueError
    except ValueError:
        raise SnowRequestError(422, "date", f"date {date_!r} is not a day YYYY-MM-DD (JST)") from None
    site_id = snow.site_for(site)
    report: dict[str, Any] = await snow.report(site_id, day)
    if format == "json":
        return JSONResponse(report)
    return Response(report_csv(report), media_type="text/csv; charset=utf-8",
                    headers={"Content-Disposition": f'attachment; filename="plows-{day.isoformat()}.csv"'})
