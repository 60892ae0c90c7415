"""Fixtures of the sans-I/O engine tests."""

import json

import pytest

from engineio_fast.protocol import engine as E
from engineio_fast.protocol.http import HttpPolicy


def dumps(obj):
    return json.dumps(obj, separators=(',', ':'))


@pytest.fixture
def make(kernels):
    """Factory fixture: ``make(policy=None, **EngineConfig options)`` is an
    :class:`Engine` on each kernel set in turn."""
    def factory(policy=None, **config):
        return E.Engine(E.EngineConfig(**config), policy or HttpPolicy(),
                        json.loads, dumps, kernels=kernels)
    return factory
