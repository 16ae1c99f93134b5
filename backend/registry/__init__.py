"""The site registry (SQLite): sites, fields, routes, roads, vehicles, devices; import/export as files."""
from .db import Database, DatabaseError
from .store import Conflict, Invalid, NotFound, Registry, RegistryError
from .transfer import ImportRejected, Problem, export_document, import_document, wrap_features

__all__ = [
    "Conflict", "Database", "DatabaseError", "ImportRejected", "Invalid", "NotFound", "Problem", "Registry",
    "RegistryError", "export_document", "import_document", "wrap_features",
]
