"""Upland root-zone water balance (orchard, vegetables, soy), FAO-56 chapter 8 style, with sub-daily steps.

State: root-zone depletion below field capacity `depletion_mm` (Dr, FAO-56 eq. 85) and water held above
field capacity `excess_mm`, which drains to below the root zone with a half-life (FAO-56 assumes it all
drains within the day, eq. 88; a half-life makes the sensor see the wet spike after rain fade instead).
Per step of dt hours:
    ETc = Ks Kc ET0                      (FAO-56 eq. 80; Ks from eq. 84 when Dr > RAW)
    TAW = 1000 (thetaFC - thetaWP) Zr    (eq. 82), RAW = p TAW (eq. 83)
    water in: rain + irrigation; fills depletion first, then excess up to saturation; the rest runs off
    drainage DP = excess (1 - 0.5^(dt / half_life))
    theta = thetaFC - Dr / (1000 Zr) + excess / (1000 Zr)
ET0 is daily Hargreaves (et0.py) spread over the day's hours in proportion to solar radiation.
Mass balance per step: rain + irrigation = ETc + DP + runoff + change in stored water (tested).
Soil water constants: FAO-56 Table 19 midpoints (thetaFC, thetaWP); saturation from Rawls, Brakensiek
and Saxton (1982) total porosity by texture.
"""
from __future__ import annotations

import random
from dataclasses import dataclass, field

# texture: (thetaFC, thetaWP, thetaSAT), m3/m3 - FAO-56 Table 19 midpoints; SAT = Rawls et al. 1982 porosity.
SOIL_WATER: dict[str, tuple[float, float, float]] = {
    "sand": (0.12, 0.045, 0.437),
    "loamy_sand": (0.15, 0.065, 0.437),
    "sandy_loam": (0.23, 0.11, 0.453),
    "loam": (0.25, 0.12, 0.463),
    "silt_loam": (0.29, 0.15, 0.501),
    "silt": (0.32, 0.17, 0.501),
    "silty_clay_loam": (0.335, 0.205, 0.471),
    "silty_clay": (0.36, 0.23, 0.479),
    "clay": (0.36, 0.22, 0.475),
}

# crop: (Kc ini, Kc mid, Kc end, p) - FAO-56 Table 12 (apples: no ground cover, killing frost; small
# vegetables; soybeans) and Table 22 (p). Approximate: the simulator needs plausible, not exact.
CROPS: dict[str, tuple[float, float, float, float]] = {
    "apple": (0.45, 0.95, 0.70, 0.50),
    "vegetable": (0.70, 1.05, 0.95, 0.40),
    "soy": (0.40, 1.15, 0.50, 0.50),
}
STAGE_KC_INDEX = {"initial": 0, "development": 1, "mid": 1, "late": 2}


@dataclass
class UplandSoil:
    """Root-zone bucket of one upland field. Amounts in mm of water over the field, time in hours."""

    texture: str
    root_depth_m: float
    crop: str = "apple"
    growth_stage: str = "mid"
    drain_half_life_h: float = 12.0
    depletion_mm: float = 0.0
    excess_mm: float = 0.0
    # Cumulative fluxes, mm, for the mass balance.
    total_rain_mm: float = 0.0
    total_irrigation_mm: float = 0.0
    total_et_mm: float = 0.0
    total_drainage_mm: float = 0.0
    total_runoff_mm: float = 0.0
    _initial_storage_mm: float = field(default=0.0, init=False)

    def __post_init__(self) -> None:
        if self.texture not in SOIL_WATER:
            raise ValueError(f"soil_texture {self.texture!r} is not one of {', '.join(SOIL_WATER)}")
        if self.crop not in CROPS:
            raise ValueError(f"crop {self.crop!r} has no upland water model (one of {', '.join(CROPS)})")
        if not 0.05 <= self.root_depth_m <= 3.0:
            raise ValueError(f"root_depth_m {self.root_depth_m} is outside 0.05..3 m")
        self._initial_storage_mm = self.storage_mm

    @property
    def theta_fc(self) -> float:
        """Field capacity, m3/m3."""
        return SOIL_WATER[self.texture][0]

    @property
    def theta_wp(self) -> float:
        """Wilting point, m3/m3."""
        return SOIL_WATER[self.texture][1]

    @property
    def theta_sat(self) -> float:
        """Saturation (total porosity), m3/m3."""
        return SOIL_WATER[self.texture][2]

    @property
    def taw_mm(self) -> float:
        """TAW, mm - FAO-56 eq. 82."""
        return 1000 * (self.theta_fc - self.theta_wp) * self.root_depth_m

    @property
    def raw_mm(self) -> float:
        """RAW, mm - FAO-56 eq. 83."""
        return CROPS[self.crop][3] * self.taw_mm

    @property
    def kc(self) -> float:
        """Crop coefficient for the growth stage (FAO-56 Table 12)."""
        return CROPS[self.crop][STAGE_KC_INDEX.get(self.growth_stage, 1)]

    @property
    def storage_mm(self) -> float:
        """Water in the root zone above the wilting point, mm (TAW - Dr + excess)."""
        return self.taw_mm - self.depletion_mm + self.excess_mm

    @property
    def theta(self) -> float:
        """Volumetric water content of the root zone, m3/m3."""
        return self.theta_fc + (self.excess_mm - self.depletion_mm) / (1000 * self.root_depth_m)

    def ks(self) -> float:
        """Water stress coefficient Ks - FAO-56 eq. 84 (1 while Dr <= RAW)."""
        if self.depletion_mm <= self.raw_mm:
            return 1.0
        return max(0.0, (self.taw_mm - self.depletion_mm) / ((1 - CROPS[self.crop][3]) * self.taw_mm))

    def step(self, dt_h: float, et0_mm: float, rain_mm: float, irrigation_mm: float = 0.0) -> None:
        """Advance by dt_h hours with ET0, rain and irrigation (all mm over this step)."""
        self.total_rain_mm += rain_mm
        self.total_irrigation_mm += irrigation_mm
        water_in_mm = rain_mm + irrigation_mm
        # Water in refills the depleted root zone first, then stands above field capacity.
        refill_mm = min(water_in_mm, self.depletion_mm)
        self.depletion_mm -= refill_mm
        room_mm = 1000 * (self.theta_sat - self.theta_fc) * self.root_depth_m - self.excess_mm
        to_excess_mm = min(water_in_mm - refill_mm, room_mm)
        self.excess_mm += to_excess_mm
        runoff_mm = water_in_mm - refill_mm - to_excess_mm
        self.total_runoff_mm += runoff_mm
        # ETc adjusted - FAO-56 eq. 80; taken from water above FC first, never below the wilting point.
        etc_mm = self.ks() * self.kc * et0_mm
        from_excess_mm = min(etc_mm, self.excess_mm)
        self.excess_mm -= from_excess_mm
        from_root_mm = min(etc_mm - from_excess_mm, self.taw_mm - self.depletion_mm)
        self.depletion_mm += from_root_mm
        self.total_et_mm += from_excess_mm + from_root_mm
        # Deep percolation of water above FC, exponential with a half-life (FAO-56 eq. 88 drains it all at once).
        dp_mm = self.excess_mm * (1 - 0.5 ** (dt_h / self.drain_half_life_h))
        self.excess_mm -= dp_mm
        self.total_drainage_mm += dp_mm

    def balance_error_mm(self) -> float:
        """in - out - storage change, mm; zero when the books close."""
        water_in = self.total_rain_mm + self.total_irrigation_mm
        water_out = self.total_et_mm + self.total_drainage_mm + self.total_runoff_mm
        return water_in - water_out - (self.storage_mm - self._initial_storage_mm)


@dataclass
class SoilProbe:
    """A capacitive probe's view: vwc_pct = 100 theta + calibration offset + noise, clamped to 0..100."""

    offset_pct: float
    noise_pct: float = 0.5

    @classmethod
    def for_device(cls, device_id: str, seed: int) -> "SoilProbe":
        """Per-device calibration offset (a two-point calibration leaves a few % error; DOMAIN.md)."""
        rng = random.Random(f"probe:{seed}:{device_id}")
        return cls(offset_pct=round(rng.uniform(-3.0, 3.0), 2))

    def read_vwc_pct(self, theta: float, rng: random.Random) -> float:
        """The value the device reports, %, rounded to 0.1."""
        return round(min(100.0, max(0.0, 100 * theta + self.offset_pct + rng.gauss(0, self.noise_pct))), 1)
