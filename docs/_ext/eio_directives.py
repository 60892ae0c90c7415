"""The Sphinx directives of the generated references (the text comes from
eio_reference.py): ``cli-reference``, ``server-options DOTTED.NAME`` and
``builtin-limits``."""

import importlib

from docutils import nodes
from docutils.statemachine import StringList
from eio_reference import cli_parser, cli_rst, limits_rst, options_rst
from sphinx.util.docutils import SphinxDirective


def _import(dotted):
    module_name, _, attr = dotted.rpartition('.')
    return getattr(importlib.import_module(module_name), attr)


class _Generated(SphinxDirective):
    has_content = False

    def _parse(self, lines):
        # the pages are Markdown (MyST), whose nested_parse reads Markdown:
        # the generated reStructuredText goes through MyST's eval-rst
        if self.env.doc2path(self.env.docname).suffix == '.md':
            lines = ['````{eval-rst}'] + lines + ['````']
        node = nodes.container()
        self.state.nested_parse(StringList(lines, source='<generated>'),
                                self.content_offset, node)
        return node.children


class CliReference(_Generated):
    def run(self):
        return self._parse(cli_rst(cli_parser()))


class ServerOptions(_Generated):
    required_arguments = 1

    def run(self):
        obj = _import(self.arguments[0])
        return self._parse(options_rst(obj))


class BuiltinLimits(_Generated):
    def run(self):
        return self._parse(limits_rst())


def setup(app):
    app.add_directive('cli-reference', CliReference)
    app.add_directive('server-options', ServerOptions)
    app.add_directive('builtin-limits', BuiltinLimits)
    return {'version': '1', 'parallel_read_safe': True,
            'parallel_write_safe': True}
