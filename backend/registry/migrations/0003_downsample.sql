-- Downsampling checkpoints: the end (exclusive, ms UTC) of the last bucket written per measurement and interval.
CREATE TABLE downsample_checkpoints (
    measurement TEXT NOT NULL,
    interval    TEXT NOT NULL,
    done_until_ms INTEGER NOT NULL,
    updated_at  TEXT NOT NULL,
    PRIMARY KEY (measurement, interval)
);
