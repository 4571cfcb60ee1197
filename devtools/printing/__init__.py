"""A private, real CUPS server with a PDF printer (the printing tests, the headless demo)."""
