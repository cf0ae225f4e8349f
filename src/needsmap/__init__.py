"""needsmap: where services for children and families are most needed, by ward."""

from __future__ import annotations

from needsmap.errors import ConfigError, InputError, NeedsmapError

__version__ = "0.1.0"

__all__ = ["ConfigError", "InputError", "NeedsmapError", "__version__"]
