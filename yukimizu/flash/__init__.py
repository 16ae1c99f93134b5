"""Flashing and provisioning boards: bundles and per-device config over the raw REPL."""
