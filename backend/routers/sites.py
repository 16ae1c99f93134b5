"""/api/v1/sites: the registry's sites."""
from ..schemas.registry import SiteCreate, SiteOut, SiteUpdate
from .crud import crud_router

router = crud_router("sites", "id", SiteCreate, SiteUpdate, SiteOut, tag="site", filters=())
