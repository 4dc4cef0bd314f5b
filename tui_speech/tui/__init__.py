"""The Textual app (the only part of the package that imports textual)."""
