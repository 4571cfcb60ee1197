"""The printing tests' private cupsd: `devtools.printing.cupsd` (the headless demo prints on it
too). Kept here under its old name so the tests' imports stay as they are."""

from devtools.printing.cupsd import (
    PDF_PPD,
    Cups,
    cupsd_missing_reason,
    private_cupsd,
)

__all__ = ["PDF_PPD", "Cups", "cupsd_missing_reason", "private_cupsd"]
