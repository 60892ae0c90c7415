"""End-to-end load suite (see README.md)."""
