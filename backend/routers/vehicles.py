"""/api/v1/vehicles: the registry's vehicles."""
from ..schemas.registry import VehicleCreate, VehicleOut, VehicleUpdate
from .crud import crud_router

router = crud_router("vehicles", "id", VehicleCreate, VehicleUpdate, VehicleOut, tag="vehicle")
