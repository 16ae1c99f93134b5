"""/api/v1/roads: the registry's roads."""
from ..schemas.registry import RoadCreate, RoadOut, RoadUpdate
from .crud import crud_router

router = crud_router("roads", "id", RoadCreate, RoadUpdate, RoadOut, tag="road")
