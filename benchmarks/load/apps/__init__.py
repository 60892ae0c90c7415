"""Benchmark applications: the same Engine.IO echo/broadcast app for each Python target."""
