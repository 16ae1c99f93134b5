"""docs/contract.md and the field table in code say the same thing."""
from __future__ import annotations

import re
from pathlib import Path

from yukimizu.contract import FIELDS, Kind

DOC = (Path(__file__).resolve().parents[3] / "docs" / "contract.md").read_text(encoding="utf-8")


def _doc_rows() -> dict[str, tuple[str, str, str]]:
    rows = {}
    for m in re.finditer(r"^\| `(\w+)` \| ([a-z, ]+) \| (float|int|bool) \| [^|]* \| ([^|]*) \|", DOC, re.M):
        rows[m.group(1)] = (m.group(2).strip(), m.group(3), m.group(4).strip())
    return rows


def test_every_field_is_documented_with_its_kinds_type_and_range() -> None:
    rows = _doc_rows()
    assert set(rows) == set(FIELDS)
    for name, spec in FIELDS.items():
        kinds, typ, rng = rows[name]
        want_kinds = "any" if spec.kinds == frozenset(Kind) else ", ".join(sorted(k.value for k in spec.kinds))
        assert kinds == want_kinds, name
        assert typ == spec.type.value, name
        if spec.min is not None:
            lo, hi = (float(x.replace("−", "-")) for x in rng.split("…"))
            assert (lo, hi) == (spec.min, spec.max), name


def test_every_rejection_code_in_the_decoder_is_documented() -> None:
    src = "".join(p.read_text() for p in (Path(__file__).resolve().parents[3] / "yukimizu" / "contract").glob("*.py"))
    codes = set(re.findall(r'ContractError\(\s*"(\w+)"', src)) | set(re.findall(r'Rejection\([^,]+, [^,]+, [^,]+, "(\w+)"', src))
    codes |= set(re.findall(r'return None, "(\w+)"', src))
    assert codes, "no codes found: the pattern is stale"
    for code in codes:
        assert f"| `{code}` |" in DOC, code
