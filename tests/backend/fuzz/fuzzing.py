"""The hypothesis settings fuzz tests run with: YUKIMIZU_FUZZ_PROFILE=fuzz (`make fuzz`) or fuzz-ci (default)."""
from __future__ import annotations

import os

from hypothesis import settings

PROFILE = os.environ.get("YUKIMIZU_FUZZ_PROFILE", "fuzz-ci")
FUZZ = settings.get_profile(PROFILE)
# Schemathesis runs every API operation this many times per caller (ci: about 20 s for the whole API).
API_EXAMPLES = {"fuzz-ci": 4, "fuzz": 300}.get(PROFILE, 4)
