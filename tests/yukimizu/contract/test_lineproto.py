"""Line-protocol field formatting keeps the frozen types, whatever numeric type the caller holds."""
from __future__ import annotations

import numpy as np
import pytest

from yukimizu.contract import ContractError
from yukimizu.contract.lineproto import format_field, line


@pytest.mark.parametrize(
    "value, text",
    [(3.9, "3.9"), (np.float64(3.9), "3.9"), (np.float32(0.5), "0.5"), (5.0, "5.0"), (7, "7i"), (np.int64(7), "7i"),
     (True, "true"), (np.bool_(False), "false"), ('say "hi" \\ ok', '"say \\"hi\\" \\\\ ok"')],
    ids=["python float", "numpy float64 is not written as np.float64(...)", "numpy float32", "whole float stays float",
         "int gets i", "numpy int gets i", "bool", "numpy bool", "string quotes and backslashes escaped"],
)
def test_field_values_keep_their_type(value: object, text: str) -> None:
    assert format_field(value) == text


@pytest.mark.parametrize("tags", [{"field_id": "a\nb"}, {"field_id": "a\\"}, {"": "x"}],
                         ids=["newline in tag", "backslash in tag", "empty tag key"])
def test_unwritable_tags_are_refused(tags: dict) -> None:
    with pytest.raises(ContractError) as info:
        line("water", tags, {"level_cm": 1.0}, 0)
    assert info.value.code == "bad_tag"
