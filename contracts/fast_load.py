"""The payload check that spares marshmallow a load (``load``, ``unchanged``): it reads marshmallow's
private ``Schema._hooks``, so it lives with the other code that relies on a library's private parts,
services/common/library_internals/marshmallow_fast_load.py (its docstring says why and how)."""

from services.common.library_internals.marshmallow_fast_load import load, unchanged

__all__ = ["load", "unchanged"]
