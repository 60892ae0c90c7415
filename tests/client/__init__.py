"""Tests of engineio_fast.Client and engineio_fast.AsyncClient."""
