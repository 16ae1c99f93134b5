"""/api/v1/fields: fields with crop, soil, dates, growth stage (the farmer sets it with PATCH) and outline."""
from ..schemas.registry import FieldCreate, FieldOut, FieldUpdate
from .crud import crud_router

router = crud_router("fields", "id", FieldCreate, FieldUpdate, FieldOut, tag="field", filters=("site", "crop"),
                     field_key="id")
