"""/api/v1/routes: the registry's routes."""
from ..schemas.registry import RouteCreate, RouteOut, RouteUpdate
from .crud import crud_router

router = crud_router("routes", "id", RouteCreate, RouteUpdate, RouteOut, tag="route")
