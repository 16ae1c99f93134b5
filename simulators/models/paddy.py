"""Paddy water depth: gate inflow, rain, ET, percolation, seepage, leaks and overflow at the outlet weir.

State: stored water `storage_mm` relative to the soil surface. Ponded water counts mm for mm; below
the surface the water table falls with specific yield Sy, so level_mm = storage_mm / Sy there (a paddy
sensor reads negative levels after drainage). Per step of dt hours (all terms mm over the field):
    inflow   = gate open ? q_gate_l_s * 3600 dt / area_m2 : 0          (1 L/s on 1 m2 = 3600 mm/h)
    rain     = from the weather
    ET       = Kc ET0 (FAO-56 eq. 56 single coefficient; rice Kc 1.05/1.20/0.75, FAO-56 Table 12)
    perc     = percolation rate * dt / 24, only while ponded (it is driven by the ponding head)
    seepage  = lateral loss through the levees * dt / 24, only while ponded
    leak     = injected fault: a breach losing leak_mm_h while ponded
    overflow = rectangular weir, Francis formula Q = 1.84 L h^1.5 (m3/s, SI), capped at the water above the crest
    storage' = storage + inflow + rain - ET - perc - seepage - leak - overflow
Every loss is limited by the water there is, in the order listed, so the books close exactly:
in (inflow + rain) = out (ET + perc + seepage + leak + overflow) + storage change (tested to 0.1 mm).
Percolation 5-20 mm/day is the common range quoted for Japanese paddies (agronomy textbooks; a default).
"""
from __future__ import annotations

import random
from dataclasses import dataclass, field
from enum import Enum

RICE_KC = {"initial": 1.05, "development": 1.10, "mid": 1.20, "late": 0.75}  # FAO-56 Table 12 (dev interpolated)


class PaddyFaultKind(str, Enum):
    """Faults the scenario can inject into a paddy."""

    LEAK = "leak"  # a levee breach or mole hole: extra loss while ponded
    GATE_FORGOTTEN_OPEN = "gate_forgotten_open"  # the farmer opened the gate and forgot it: water overflows


@dataclass(frozen=True)
class PaddyFault:
    """One fault active from start_unix_s to end_unix_s."""

    kind: PaddyFaultKind
    start_unix_s: float
    end_unix_s: float
    leak_mm_h: float = 3.0

    def active(self, t_unix_s: float) -> bool:
        """True while the fault is on."""
        return self.start_unix_s <= t_unix_s < self.end_unix_s


@dataclass
class PaddyLedger:
    """Cumulative water flows, mm over the field."""

    inflow_mm: float = 0.0
    rain_mm: float = 0.0
    et_mm: float = 0.0
    percolation_mm: float = 0.0
    seepage_mm: float = 0.0
    leak_mm: float = 0.0
    overflow_mm: float = 0.0

    @property
    def in_mm(self) -> float:
        """All water in."""
        return self.inflow_mm + self.rain_mm

    @property
    def out_mm(self) -> float:
        """All water out."""
        return self.et_mm + self.percolation_mm + self.seepage_mm + self.leak_mm + self.overflow_mm


@dataclass
class Paddy:
    """One paddy field's water. Depths in mm, flows in mm per step, time in hours."""

    area_m2: float = 3000.0
    storage_mm: float = 40.0
    gate_flow_l_s: float = 8.0
    percolation_mm_day: float = 10.0
    seepage_mm_day: float = 3.0
    weir_crest_mm: float = 60.0
    weir_width_m: float = 0.3
    specific_yield: float = 0.15
    min_level_mm: float = -300.0
    gate_open: bool = False
    faults: list[PaddyFault] = field(default_factory=list)
    ledger: PaddyLedger = field(default_factory=PaddyLedger)
    initial_storage_mm: float = field(default=0.0, init=False)

    def __post_init__(self) -> None:
        if self.area_m2 <= 0:
            raise ValueError(f"area_m2 must be > 0, got {self.area_m2}")
        self.initial_storage_mm = self.storage_mm

    @property
    def level_mm(self) -> float:
        """Water level relative to the soil surface, mm (negative: water table below the surface)."""
        return self.storage_mm if self.storage_mm >= 0 else self.storage_mm / self.specific_yield

    def _weir_mm(self, dt_h: float) -> float:
        head_m = (self.storage_mm - self.weir_crest_mm) / 1000
        if head_m <= 0:
            return 0.0
        q_m3_s = 1.84 * self.weir_width_m * head_m ** 1.5  # Francis formula, rectangular weir, SI units
        return min(self.storage_mm - self.weir_crest_mm, q_m3_s * dt_h * 3600 / self.area_m2 * 1000)

    def step(self, t_unix_s: float, dt_h: float, et0_mm: float, rain_mm: float, kc: float = 1.2) -> None:
        """Advance by dt_h hours from t_unix_s; et0_mm and rain_mm are totals over this step."""
        forgotten = any(f.kind is PaddyFaultKind.GATE_FORGOTTEN_OPEN and f.active(t_unix_s) for f in self.faults)
        gate = self.gate_open or forgotten
        inflow = self.gate_flow_l_s * 3600 * dt_h / self.area_m2 if gate else 0.0  # L/s over m2 -> mm
        s = self.storage_mm + inflow + rain_mm
        floor_mm = self.min_level_mm * self.specific_yield
        et = min(kc * et0_mm, max(0.0, s - floor_mm))  # FAO-56 eq. 56, ETc = Kc ET0
        s -= et
        ponded = max(0.0, s)
        perc = min(self.percolation_mm_day * dt_h / 24, ponded)
        ponded -= perc
        seep = min(self.seepage_mm_day * dt_h / 24, ponded)
        ponded -= seep
        leak_rate = sum(f.leak_mm_h for f in self.faults if f.kind is PaddyFaultKind.LEAK and f.active(t_unix_s))
        leak = min(leak_rate * dt_h, ponded)
        s -= perc + seep + leak
        self.storage_mm = s
        overflow = self._weir_mm(dt_h)
        self.storage_mm -= overflow
        lg = self.ledger
        lg.inflow_mm += inflow
        lg.rain_mm += rain_mm
        lg.et_mm += et
        lg.percolation_mm += perc
        lg.seepage_mm += seep
        lg.leak_mm += leak
        lg.overflow_mm += overflow

    def balance_error_mm(self) -> float:
        """in - out - storage change, mm; zero when the books close."""
        return self.ledger.in_mm - self.ledger.out_mm - (self.storage_mm - self.initial_storage_mm)


# Target depth by days after transplanting for a cold-region paddy (DOMAIN.md table: NARO Tohoku,
# Iwate and Aomori guidelines): (from_day, target_mm, weir_crest_mm). Mid-season drainage lowers the weir.
STAGE_PLAN_MM: list[tuple[int, float, float, str]] = [
    (0, 40.0, 60.0, "initial"),  # establishment: 3-4 cm (5 cm at night)
    (10, 30.0, 50.0, "development"),  # tillering: about 3 cm
    (35, -100.0, 0.0, "development"),  # mid-season drainage (nakaboshi): gate shut, weir down
    (45, 60.0, 120.0, "mid"),  # before the cold-sensitive stage: 4-6 cm rising
    (55, 150.0, 200.0, "mid"),  # meiosis: at least 10-15 cm, about 20 cm ideal
    (70, 30.0, 60.0, "late"),  # ripening: intermittent
    (100, -100.0, 0.0, "late"),  # final drainage
]


def stage_plan(days_after_transplant: float) -> tuple[float, float, str]:
    """(target level mm, weir crest mm, Kc stage) the farmer follows on this day."""
    current = STAGE_PLAN_MM[0]
    for row in STAGE_PLAN_MM:
        if days_after_transplant >= row[0]:
            current = row
    return current[1], current[2], current[3]


class Farmer:
    """Opens the gate on a morning or evening visit when the level is 1 cm under target; closes it at target."""

    def __init__(self, transplant_unix_s: float, visit_hours_local: tuple[int, ...] = (6, 18)):
        self.transplant_unix_s = transplant_unix_s
        self.visit_hours_local = visit_hours_local

    def act(self, paddy: Paddy, t_unix_s: float, dt_h: float) -> str:
        """Set gate and weir for this step; returns the Kc stage name."""
        target_mm, crest_mm, stage = stage_plan((t_unix_s - self.transplant_unix_s) / 86400)
        paddy.weir_crest_mm = crest_mm
        hour_local = ((t_unix_s + 9 * 3600) % 86400) / 3600
        visiting = any(h <= hour_local < h + dt_h for h in self.visit_hours_local)
        if paddy.gate_open and paddy.level_mm >= target_mm:
            paddy.gate_open = False
        elif visiting and paddy.level_mm < target_mm - 10:
            paddy.gate_open = True
        return stage


@dataclass
class LevelSensor:
    """Ultrasonic level sensor: level_cm = level/10 + mounting offset + noise, 0.1 cm resolution, -30..100 cm."""

    offset_cm: float
    noise_cm: float = 0.2

    @classmethod
    def for_device(cls, device_id: str, seed: int) -> "LevelSensor":
        """Per-device mounting offset of up to about half a centimetre."""
        rng = random.Random(f"level:{seed}:{device_id}")
        return cls(offset_cm=round(rng.uniform(-0.5, 0.5), 2))

    def read_level_cm(self, level_mm: float, rng: random.Random) -> float:
        """The value the device reports, cm."""
        return round(min(100.0, max(-30.0, level_mm / 10 + self.offset_cm + rng.gauss(0, self.noise_cm))), 1)


def water_temp_c(air_temp_c: float, daily_mean_c: float, solar_w_m2: float, level_mm: float) -> float:
    """Shallow paddy water temperature, deg C: a blend of air and daily mean warmed by sun (rough, not a heat model)."""
    depth_damping = 1.0 / (1.0 + max(0.0, level_mm) / 100.0)
    return 0.5 * air_temp_c + 0.5 * daily_mean_c + 0.006 * solar_w_m2 * depth_damping
