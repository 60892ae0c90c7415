"""Sphinx configuration of the engineio_fast documentation.

Build (warnings are errors, as in .ci/run):

    python -m pip install -e '.[docs]'
    python -m sphinx -W --keep-going -b html docs docs/_build/html

Pages are Markdown (myst-parser); the API reference comes from the
docstrings (autodoc + napoleon, Google style); the CLI and configuration
references are generated at build time by docs/_ext/eio_reference.py from
engineio_fast.cli's argparse parser and the server classes.
"""

import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.dirname(HERE))       # the checkout's package
sys.path.insert(0, os.path.join(HERE, '_ext'))

import engineio_fast  # noqa: E402

project = 'engineio_fast'
author = 'the engineio_fast authors'
copyright = '2026, the engineio_fast authors'
version = release = engineio_fast.__version__

extensions = [
    'sphinx.ext.autodoc',
    'sphinx.ext.napoleon',
    'myst_parser',
    'eio_directives',
]

source_suffix = {'.md': 'markdown'}
root_doc = 'index'
exclude_patterns = ['_build', 'examples', 'Thumbs.db', '.DS_Store']

# option names such as --workers stay as typed (no en dash)
smartquotes = False

myst_enable_extensions = ['colon_fence']
myst_heading_anchors = 3

napoleon_google_docstring = True
napoleon_numpy_docstring = False

autodoc_member_order = 'bysource'
autodoc_typehints = 'description'
autodoc_default_options = {'members': True, 'show-inheritance': False}
# the clients import websockets, the Redis managers redis-py: both are
# extras; the docs extra does not pull them in
autodoc_mock_imports = ['redis', 'hiredis']

html_theme = 'alabaster'
html_title = 'engineio_fast %s' % release
html_theme_options = {
    'description': 'A fast drop-in replacement for python-engineio',
    'fixed_sidebar': True,
}
