"""/api/v1/tokens: create (the token is shown once), list (no secrets) and revoke API tokens; admin only."""
from __future__ import annotations

from typing import Any

from fastapi import APIRouter, HTTPException, Response, status
from pydantic import BaseModel, Field

from ..deps import RegistryDep, TokenStoreDep
from ..registry import NotFound
from ..tokens import Role, TokenError

router = APIRouter(prefix="/api/v1/tokens", tags=["tokens"])


class TokenCreate(BaseModel):
    """A new token's role, fields (farmer tokens only) and a label saying whose it is."""

    role: Role
    field_ids: list[str] = Field(default_factory=list, max_length=1000)
    label: str = Field("", max_length=200)


class TokenOut(BaseModel):
    """A token as listed: never the secret."""

    id: int
    role: Role
    field_ids: list[str]
    label: str
    created_at: str
    revoked_at: str | None


class TokenCreated(TokenOut):
    """The new token with its secret: shown this once, stored only as a hash."""

    token: str


def _invalid(field: str, msg: str) -> HTTPException:
    return HTTPException(422, detail=[{"loc": ["body", field], "msg": msg, "type": "value_error"}])


@router.post("", response_model=TokenCreated, status_code=status.HTTP_201_CREATED, summary="Create a token (shown once)")
def create_token(body: TokenCreate, tokens: TokenStoreDep, registry: RegistryDep) -> dict[str, Any]:
    """Farmer tokens name their fields, which must be in the registry; copy the token now, it cannot be shown again."""
    for fid in body.field_ids:
        try:
            registry.get("fields", fid)
        except NotFound:
            raise _invalid("field_ids", f"field {fid!r} is not in the registry") from None
    try:
        token, row = tokens.create(body.role, body.field_ids, body.label)
    except TokenError as e:
        field, _, msg = str(e).partition(": ")
        raise _invalid(field, msg) from None
    return {**row, "token": token}


@router.get("", response_model=list[TokenOut], summary="List tokens (without their secrets)")
def list_tokens(tokens: TokenStoreDep, revoked: bool = False) -> list[dict[str, Any]]:
    """Active tokens, oldest first; revoked=true includes revoked ones."""
    return tokens.list(include_revoked=revoked)


@router.delete("/{token_id}", status_code=status.HTTP_204_NO_CONTENT, summary="Revoke a token",
               responses={404: {"description": "no such token"}})
def revoke_token(token_id: int, tokens: TokenStoreDep) -> Response:
    """The token stops working at once; its row stays (revoked_at) for the record."""
    try:
        tokens.revoke(token_id)
    except KeyError:
        raise HTTPException(404, detail=f"no token {token_id}") from None
    return Response(status_code=status.HTTP_204_NO_CONTENT)
