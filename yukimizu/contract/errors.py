"""The one error type the contract raises."""
from __future__ import annotations


class ContractError(ValueError):
    """A message broke the wire contract. `code` is stable (dead-letter reason), `field` names the culprit."""

    def __init__(self, code: str, message: str, *, field: str | None = None, index: int | None = None):
        self.code = code
        self.field = field
        self.index = index
        where = []
        if index is not None:
            where.append(f"readings[{index}]")
        if field is not None:
            where.append(field)
        prefix = f"{'.'.join(where)}: " if where else ""
        super().__init__(f"{prefix}{message}")
        self.reason = message
