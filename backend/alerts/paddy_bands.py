"""Default paddy water depth bands by growth stage, cm: used until a field has its own band.

Sources (DOMAIN.md, from NARO Tohoku and the Iwate and Aomori prefectural guidelines):
establishment 3-4 cm by day, about 5 cm at night; tillering about 3 cm; mid-season drainage (中干し)
drains the field; before the cold-sensitive stage 4-6 cm rising to 10 cm; meiosis at least 10 cm,
15-20 cm when cold is forecast; ripening intermittent irrigation; final drainage 25-30 days after heading.
A None bound is not checked (intermittent irrigation may leave the field dry on purpose).
The agronomy engine's stage table supersedes this when it is plugged in; a field's own
level_min_cm/level_max_cm in the registry override both.
"""
from __future__ import annotations

# stage -> (min_cm, max_cm, Japanese name); in the order of the season. The ids are the agronomy
# engine's (backend/agronomy/paddy_rules.toml), so a stage the farmer picks means the same to both.
DEFAULT_BANDS: dict[str, tuple[float | None, float | None, str]] = {
    "establishment": (3.0, 5.0, "活着期"),
    "tillering": (2.0, 4.0, "分げつ期"),
    "midseason_drainage": (None, 1.0, "中干し"),  # drained on purpose: only standing water is wrong
    "panicle_formation": (4.0, 12.0, "幼穂形成期"),  # 4-6 cm rising to 10-12 cm before meiosis
    "meiosis": (10.0, 15.0, "減数分裂期"),  # at least 10 cm; the agronomy engine asks 15-20 cm on cold nights
    "heading_ripening": (None, 4.0, "出穂・登熟期"),  # intermittent irrigation: dry spells are intended
    "final_drainage": (None, None, "落水"),
}

# Stages when a cold spell damages the panicle (NARO Tohoku: deep water before and during meiosis).
COLD_SENSITIVE_STAGES = frozenset({"panicle_formation", "meiosis"})
# Deep water against cold: 15-20 cm when cold is forecast (NARO Tohoku). While a cold-damage alert is
# open, a level up to this is what is asked for, not "above the band".
COLD_DEEP_MAX_CM = 20.0


def band_for(field: dict) -> tuple[float | None, float | None, str] | None:
    """(min_cm, max_cm, source) for a paddy field: its own band, else its stage's default, else None."""
    lo, hi = field.get("level_min_cm"), field.get("level_max_cm")
    if lo is not None or hi is not None:
        return lo, hi, "field"
    stage = field.get("growth_stage")
    if stage in DEFAULT_BANDS:
        d = DEFAULT_BANDS[stage]
        return d[0], d[1], f"stage:{stage}"
    return None


def stage_ja(stage: str | None) -> str:
    """Japanese name of a growth stage (the stage id itself when unknown)."""
    if stage in DEFAULT_BANDS:
        return DEFAULT_BANDS[stage][2]
    return stage or "生育段階未設定"


def paddy_stages() -> list[dict[str, str]]:
    """The paddy growth stages a farmer can choose, in season order, with Japanese and English names."""
    return [{"id": k, "ja": v[2], "en": k.replace("_", " ")} for k, v in DEFAULT_BANDS.items()]
