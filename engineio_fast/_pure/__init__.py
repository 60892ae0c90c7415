"""Pure-Python twins of the compiled kernels (the executable spec)."""
