"""Kept for handlers.py's import only: the postcode directory is shared plumbing (onward/postcodes.py),
used by the synthetic cohort too. Delete this module once handlers.py imports onward.postcodes."""
from onward.postcodes import directory

__all__ = ["directory"]
