"""One loader per kind of input; each checks what it reads and raises InputError."""

from __future__ import annotations

from needsmap.sources.area import Area, load_area
from needsmap.sources.caseload import load_caseload
from needsmap.sources.postcodes import load_postcodes
from needsmap.sources.services import load_services

__all__ = ["Area", "load_area", "load_caseload", "load_postcodes", "load_services"]
