"""/api/v1/devices: provisioned devices (kind, site, field or vehicle, reporting interval, calibration)."""
from ..schemas.registry import DeviceCreate, DeviceOut, DeviceUpdate
from .crud import crud_router

router = crud_router("devices", "device_id", DeviceCreate, DeviceUpdate, DeviceOut, tag="device",
                     filters=("site", "kind"))
