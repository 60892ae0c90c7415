"""The documentation's pages against its examples and the code (fast tier:
files and imports only; the examples themselves run in test_examples.py and
the site is built with warnings as errors by .ci/run).

- every file a page includes exists, and every file in docs/examples/ is
  included by a page and run by a test of test_examples.py: no orphan, no
  untested sample;
- no page carries code of its own: a fenced block is a directive (an
  included file, a generated reference, a table of contents), never a
  sample pasted in;
- the generated CLI reference lists every option of engineio_fast.cli's
  parser, and the options reference every documented server option.
"""

import argparse
import importlib
import importlib.util
import inspect
import os
import re

import pytest

from ..sync.servers import REPO_ROOT
from .test_examples import EXAMPLE_FILES

DOCS = os.path.join(REPO_ROOT, 'docs')
EXAMPLES = os.path.join(DOCS, 'examples')
# fenced blocks allowed in a page: directives, not code
DIRECTIVES = {'literalinclude', 'toctree', 'eval-rst', 'cli-reference',
              'server-options', 'builtin-limits'}
FENCE = re.compile(r'^(`{3,}|~{3,})\s*(\S*)(.*)$')


def _pages():
    pages = []
    for root, dirs, files in os.walk(DOCS):
        dirs[:] = [d for d in dirs if d not in ('_build', 'examples', '_ext')]
        pages += [os.path.join(root, f) for f in files if f.endswith('.md')]
    assert pages, 'no pages under docs/'
    return sorted(pages)


def _includes():
    """(page, included path relative to docs/examples or None, absolute)."""
    out = []
    for page in _pages():
        with open(page, encoding='utf-8') as f:
            for line in f:
                m = FENCE.match(line.strip())
                if m and m.group(2) == '{literalinclude}':
                    target = os.path.normpath(os.path.join(
                        os.path.dirname(page), m.group(3).strip()))
                    out.append((page, target))
    return out


def _example_files():
    files = set()
    for root, dirs, names in os.walk(EXAMPLES):
        dirs[:] = [d for d in dirs if d != '__pycache__']
        for name in names:
            path = os.path.join(root, name)
            if name.endswith('.pyc'):
                continue
            if os.path.getsize(path) == 0:
                continue        # an empty package marker
            files.add(os.path.relpath(path, EXAMPLES))
    return files


def test_every_included_file_exists():
    includes = _includes()
    assert includes
    missing = [(os.path.relpath(p, DOCS), t) for p, t in includes
               if not os.path.isfile(t)]
    assert not missing, missing


def test_every_example_is_included_and_tested():
    examples = _example_files()
    included = {os.path.relpath(t, EXAMPLES) for _, t in _includes()
                if t.startswith(EXAMPLES + os.sep)}
    tested = set().union(*EXAMPLE_FILES.values())
    assert examples - included == set(), 'examples no page includes'
    assert examples - tested == set(), 'examples no test runs'
    assert tested - examples - {'django_project/__init__.py'} == set(), \
        'tests name files that are not in docs/examples'


def test_pages_paste_no_code():
    pasted = []
    for page in _pages():
        inside = None
        with open(page, encoding='utf-8') as f:
            for number, line in enumerate(f, 1):
                m = FENCE.match(line.strip())
                if not m:
                    continue
                if inside is None:
                    inside = m.group(1)
                    name = m.group(2).strip('{}')
                    if not (m.group(2).startswith('{') and name in DIRECTIVES):
                        pasted.append('%s:%d %s' % (os.path.relpath(page, DOCS),
                                                    number, line.strip()))
                elif m.group(1) == inside and not m.group(2):
                    inside = None
    assert not pasted, pasted


def _reference():
    path = os.path.join(DOCS, '_ext', 'eio_reference.py')
    spec = importlib.util.spec_from_file_location('eio_reference', path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_cli_reference_lists_every_option():
    ref = _reference()
    parser = ref.cli_parser()
    text = '\n'.join(ref.cli_rst(parser))
    options = [s for a in parser._actions for s in a.option_strings
               if not isinstance(a, argparse._HelpAction)
               and a.help != argparse.SUPPRESS]     # hidden on purpose
    assert len(options) >= 10
    for option in options:
        assert '``%s``' % option in text, option


@pytest.mark.parametrize('name', ['engineio_fast.AsyncServer',
                                  'engineio_fast.Server',
                                  'engineio_fast.ASGIApp',
                                  'engineio_fast.WSGIApp',
                                  'engineio_fast.adapters.builtin.BuiltinServer'])
def test_options_reference_lists_every_option(name):
    ref = _reference()
    module_name, _, attr = name.rpartition('.')
    obj = getattr(importlib.import_module(module_name), attr)
    documented = [n for n, _ in ref.docstring_args(obj)]
    text = '\n'.join(ref.options_rst(obj))
    params = [p for p in inspect.signature(obj).parameters.values()
              if p.kind not in (p.VAR_KEYWORD, p.VAR_POSITIONAL)]
    # every named parameter of the signature is documented, and shown
    for p in params:
        assert p.name in documented, '%s: %s undocumented' % (name, p.name)
        assert '``%s``' % p.name in text
