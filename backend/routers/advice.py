"""/api/v1/advice and /api/v1/fields/{id}/advice: irrigation advice from the registry and InfluxDB history."""
from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, Query, Request

from yukimizu.jst import JST

from ..advisor.service import Advisor, FieldAdvice, SiteAdvice
from ..registry import NotFound
from ..schemas.advice import (AdviceRunOut, AdviceRunRequest, FieldAdviceOut, Lang, OneAdviceOut, SiteAdviceOut,
                              WeatherOut)

router = APIRouter(tags=["advice"])


def get_advisor(request: Request) -> Advisor:
    """The app's Advisor."""
    return request.app.state.advisor


AdvisorDep = Annotated[Advisor, Depends(get_advisor)]
LangQuery = Annotated[Lang, Query(description="language of `message`: ja (default) or en")]
AtQuery = Annotated[int | None, Query(description="advice as of this time, Unix ms UTC (default: now)")]


def _jst(t_ms: int) -> str:
    return datetime.fromtimestamp(t_ms / 1000, JST).isoformat(timespec="seconds")


def _weather(r: SiteAdvice) -> WeatherOut:
    return WeatherOut(first_day=r.first_day, last_day=r.last_day, stations=r.stations, missing=r.weather_missing,
                      forecast_source=r.forecast_source, forecast_error=r.forecast_error)


def _out(f: FieldAdvice, lang: Lang) -> FieldAdviceOut:
    ja = lang is Lang.JA
    return FieldAdviceOut(
        site=f.site, field_id=f.field_id, name=f.name, crop=f.crop, action=f.action, urgency=f.urgency,
        urgency_name=f.urgency_name, amount_mm=f.amount_mm, amount_l=f.amount_l, days=f.days,
        target_min_cm=f.target_min_cm, target_max_cm=f.target_max_cm, stage=f.stage,
        stage_name=f.stage_ja if ja else f.stage_en, reasons=f.reasons, message=f.message_ja if ja else f.message_en,
        message_ja=f.message_ja, message_en=f.message_en, missing=f.missing, figures=f.figures)


@router.get("/api/v1/advice", response_model=SiteAdviceOut, summary="Advice for every field of a site, most urgent first",
            responses={404: {"description": "no such site"}})
async def site_advice(advisor: AdvisorDep, site: str = Query(description="site id"), lang: LangQuery = Lang.JA,
                      at: AtQuery = None) -> SiteAdviceOut:
    """Computed now from InfluxDB history and the registry (not read back from the `advice` measurement)."""
    r = await advisor.for_site(site, at)
    return SiteAdviceOut(site=r.site, as_of_ms=r.as_of_ms, as_of=_jst(r.as_of_ms), weather=_weather(r),
                         advice=[_out(f, lang) for f in r.fields])


@router.post("/api/v1/advice/run", response_model=AdviceRunOut, summary="Compute and write advice now")
async def run(advisor: AdvisorDep, body: AdviceRunRequest | None = None) -> AdviceRunOut:
    """The step the schedule runs every advice.interval_s; a second run in the same bucket replaces the first."""
    body = body or AdviceRunRequest(site=None, at_ms=None)
    try:
        return AdviceRunOut(**await advisor.run_once(body.at_ms, body.site))
    except NotFound as e:
        raise HTTPException(404, detail=str(e)) from None


@router.get("/api/v1/fields/{field_id}/advice", response_model=OneAdviceOut, summary="Advice for one field",
            responses={404: {"description": "no such field"}})
async def field_advice(field_id: str, advisor: AdvisorDep, lang: LangQuery = Lang.JA, at: AtQuery = None) -> OneAdviceOut:
    """What to do with this field's water today, and why, in Japanese (default) and English."""
    r, f = await advisor.for_field(field_id, at)
    return OneAdviceOut(as_of_ms=r.as_of_ms, as_of=_jst(r.as_of_ms), weather=_weather(r), advice=_out(f, lang))
