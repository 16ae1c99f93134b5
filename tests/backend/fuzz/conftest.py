"""Hypothesis profiles for the fuzz tests: `fuzz-ci` (the default, seconds) and `fuzz` (`make fuzz`, minutes).

The tests take their profile from YUKIMIZU_FUZZ_PROFILE (see fuzzing.py); nothing here changes the
hypothesis settings of other tests.
"""
from hypothesis import HealthCheck, settings

_SLOW_OK = [HealthCheck.too_slow, HealthCheck.filter_too_much, HealthCheck.data_too_large]
settings.register_profile("fuzz-ci", max_examples=60, deadline=None, suppress_health_check=_SLOW_OK, print_blob=True)
settings.register_profile("fuzz", max_examples=5_000, deadline=None, suppress_health_check=_SLOW_OK, print_blob=True)
