"""A list/read/create/update/delete router for one registry table, shared by the resource routers.

No `from __future__ import annotations` here: FastAPI must see the request model classes themselves.
"""

import inspect
from typing import Any, Optional

from fastapi import APIRouter, Query, Response, status
from pydantic import BaseModel

from ..access import visible_fields
from ..deps import PrincipalDep, RegistryDep


def crud_router(table: str, key: str, create: type[BaseModel], update: type[BaseModel], out: type[BaseModel],
                *, tag: str, filters: tuple[str, ...] = ("site",), field_key: Optional[str] = None) -> APIRouter:
    """Routes under /api/v1/{table}: GET list (filtered), GET one, POST, PATCH, DELETE.

    `field_key`: the column holding a field id; a farmer's list then shows only rows of their fields.
    """
    router = APIRouter(prefix=f"/api/v1/{table}", tags=[tag])
    singular = tag

    descriptions = {"site": "only this site", "kind": "only this kind: soil, water, weather or plow",
                    "crop": "only this crop"}

    def list_items(**kw: Any) -> list[Any]:
        registry = kw.pop("registry")
        mine = visible_fields(kw.pop("who"))
        rows = registry.list(table, **kw)
        if field_key and mine is not None:
            rows = [r for r in rows if r[field_key] in mine]
        return rows

    # Only the filters this table has appear as query parameters (FastAPI reads __signature__).
    list_items.__signature__ = inspect.Signature(  # type: ignore[attr-defined]
        [inspect.Parameter("registry", inspect.Parameter.KEYWORD_ONLY, annotation=RegistryDep),
         inspect.Parameter("who", inspect.Parameter.KEYWORD_ONLY, annotation=PrincipalDep)]
        + [inspect.Parameter(f, inspect.Parameter.KEYWORD_ONLY, annotation=Optional[str],
                             default=Query(None, description=descriptions[f])) for f in filters])
    list_items.__doc__ = f"List {table}."
    router.add_api_route("", list_items, methods=["GET"], response_model=list[out],  # type: ignore[valid-type]
                         summary=f"List {table}")

    def read_item(item_id: str, registry: RegistryDep) -> Any:
        return registry.get(table, item_id)

    read_item.__doc__ = f"One {singular} by its id; 404 when there is none."

    router.add_api_route(f"/{{item_id}}", read_item, methods=["GET"], response_model=out, summary=f"Read one {singular}",
                         responses={404: {"description": f"no such {singular}"}})

    def create_item(body: create, registry: RegistryDep, response: Response) -> Any:  # type: ignore[valid-type]
        row = registry.create(table, body.model_dump())  # type: ignore[attr-defined]
        response.headers["Location"] = f"/api/v1/{table}/{row[key]}"
        return row

    create_item.__doc__ = (f"Create a {singular}. 422 names the field that is wrong (including references to "
                           "ids that do not exist); 409 when the id is taken.")

    router.add_api_route("", create_item, methods=["POST"], response_model=out, status_code=status.HTTP_201_CREATED,
                         summary=f"Create a {singular}",
                         responses={409: {"description": "id already exists"}, 422: {"description": "invalid value"}})

    def update_item(item_id: str, body: update, registry: RegistryDep) -> Any:  # type: ignore[valid-type]
        return registry.update(table, item_id, body.model_dump(exclude_unset=True))  # type: ignore[attr-defined]

    update_item.__doc__ = "Change the keys sent (null clears an optional one); the others stay as they are."

    router.add_api_route(f"/{{item_id}}", update_item, methods=["PATCH"], response_model=out,
                         summary=f"Change a {singular} (only the keys sent)")

    def delete_item(item_id: str, registry: RegistryDep) -> Response:
        registry.delete(table, item_id)
        return Response(status_code=status.HTTP_204_NO_CONTENT)

    delete_item.__doc__ = f"Delete a {singular}; 409 names what still refers to it."

    router.add_api_route(f"/{{item_id}}", delete_item, methods=["DELETE"], status_code=status.HTTP_204_NO_CONTENT,
                         summary=f"Delete a {singular}", responses={409: {"description": "still referenced"}})
    return router
