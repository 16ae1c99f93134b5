"""Physical models the simulated devices report: weather, upland soil, paddy water, snowplows."""
