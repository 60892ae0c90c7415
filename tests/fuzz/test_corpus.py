"""Every input of the fuzz corpus (tests/fuzz/corpus/<target>/), replayed
through its target on every test run: what the fuzzer once found
interesting stays checked without atheris (on the compiled kernels against
the pure twins, and in the pure pass on the pure twins alone)."""

import os

import pytest

from tests.fuzz.targets import TARGETS

CORPUS = os.path.join(os.path.dirname(os.path.abspath(__file__)), 'corpus')


def _inputs():
    for name in sorted(TARGETS):
        folder = os.path.join(CORPUS, name)
        files = sorted(os.listdir(folder)) if os.path.isdir(folder) else []
        assert files, 'no corpus for target %r' % name
        yield pytest.param(name, [os.path.join(folder, f) for f in files],
                           id=name)


@pytest.mark.parametrize('name, paths', list(_inputs()))
def test_corpus_replays_clean(name, paths):
    check = TARGETS[name]
    for path in paths:
        with open(path, 'rb') as f:
            data = f.read()
        try:
            check(data)
        except Exception as exc:
            raise AssertionError('%s: %s' % (path, exc)) from exc
