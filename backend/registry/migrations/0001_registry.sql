-- The site registry: what the site is (fields, roads, routes, vehicles, devices).
-- Geometry is GeoJSON text (WGS84); dates are ISO 8601 text; times are UTC ISO 8601 text.
CREATE TABLE sites (
    id            TEXT PRIMARY KEY,
    name          TEXT NOT NULL DEFAULT '',
    latitude_deg  REAL,
    longitude_deg REAL,
    elevation_m   REAL
);

CREATE TABLE fields (
    id                      TEXT PRIMARY KEY,
    site                    TEXT NOT NULL REFERENCES sites(id) ON DELETE RESTRICT,
    name                    TEXT NOT NULL DEFAULT '',
    crop                    TEXT NOT NULL CHECK (crop IN ('paddy','apple','vegetable','soy','wheat','other')),
    soil_texture            TEXT CHECK (soil_texture IN ('sand','loamy_sand','sandy_loam','loam','silt_loam','silt',
                                                         'silty_clay_loam','silty_clay','clay')),
    area_m2                 REAL CHECK (area_m2 IS NULL OR area_m2 > 0),
    root_depth_m            REAL CHECK (root_depth_m IS NULL OR root_depth_m > 0),
    transplant_date         TEXT,
    bloom_date              TEXT,
    growth_stage            TEXT,
    cold_sensitive_variety  INTEGER NOT NULL DEFAULT 0,
    level_min_cm            REAL,
    level_max_cm            REAL,
    geometry                TEXT
);
CREATE INDEX fields_site ON fields(site);

CREATE TABLE routes (
    id       TEXT PRIMARY KEY,
    site     TEXT NOT NULL REFERENCES sites(id) ON DELETE RESTRICT,
    name     TEXT NOT NULL DEFAULT '',
    priority INTEGER
);

CREATE TABLE roads (
    id        TEXT PRIMARY KEY,
    site      TEXT NOT NULL REFERENCES sites(id) ON DELETE RESTRICT,
    name      TEXT NOT NULL DEFAULT '',
    route     TEXT REFERENCES routes(id) ON DELETE SET NULL,
    priority  INTEGER,
    oneway    INTEGER NOT NULL DEFAULT 0,
    geometry  TEXT NOT NULL
);
CREATE INDEX roads_site ON roads(site);
CREATE INDEX roads_route ON roads(route);

CREATE TABLE vehicles (
    id            TEXT PRIMARY KEY,
    site          TEXT NOT NULL REFERENCES sites(id) ON DELETE RESTRICT,
    name          TEXT NOT NULL DEFAULT '',
    machine_class TEXT NOT NULL DEFAULT '',
    contractor    TEXT NOT NULL DEFAULT ''
);

CREATE TABLE devices (
    device_id           TEXT PRIMARY KEY,
    kind                TEXT NOT NULL CHECK (kind IN ('soil','water','weather','plow')),
    site                TEXT NOT NULL REFERENCES sites(id) ON DELETE RESTRICT,
    field_id            TEXT REFERENCES fields(id) ON DELETE RESTRICT,
    vehicle_id          TEXT REFERENCES vehicles(id) ON DELETE RESTRICT,
    route               TEXT REFERENCES routes(id) ON DELETE SET NULL,
    expected_interval_s INTEGER NOT NULL CHECK (expected_interval_s > 0),
    calibration         TEXT NOT NULL DEFAULT '{}',
    firmware_version    TEXT NOT NULL DEFAULT '',
    provisioned_at      TEXT
);
CREATE INDEX devices_site ON devices(site);
