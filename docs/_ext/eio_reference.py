"""Reference pages generated at build time, so they follow the code.

``cli-reference``
    every option of ``engineio-fast``'s argparse parser
    (:func:`engineio_fast.cli` ``_parser``): the ``--help`` text, then one
    entry per option with its default and choices. An option added to the
    parser appears in the docs without editing them.

``server-options``
    the ``Args:`` section of a class's (or function's) Google-style
    docstring, with the default from its signature where it has one::

        ```{server-options} engineio_fast.AsyncServer
        ```

``builtin-limits``
    the built-in server's ``limits`` (``DEFAULT_LIMITS`` in
    engineio_fast/adapters/builtin/context.py) with their defaults and the
    comment beside each.
"""

import argparse
import importlib
import inspect
import io
import os
import re
import tokenize

from docutils import nodes
from docutils.statemachine import StringList
from sphinx.util.docutils import SphinxDirective


def _import(dotted):
    module_name, _, attr = dotted.rpartition('.')
    return getattr(importlib.import_module(module_name), attr)


def cli_parser():
    """engineio_fast.cli's argparse parser, whatever its factory is called
    (``_parser`` today; a public ``build_parser``/``parser`` also works)."""
    from engineio_fast import cli
    for name in ('build_parser', 'make_parser', 'parser', '_parser'):
        factory = getattr(cli, name, None)
        if callable(factory):
            parser = factory()
            if isinstance(parser, argparse.ArgumentParser):
                return parser
    raise RuntimeError('engineio_fast.cli has no argparse parser factory')


def _literal(value):
    return '``%s``' % (value,) if value not in (None, '') else ''


def _rst_escape(text):
    # argparse help is plain text: keep it plain in reStructuredText
    return (text.replace('\\', '\\\\').replace('*', r'\*')
            .replace('`', r'\`').replace('|', r'\|').replace('_', r'\_'))


def _help_text(parser, action):
    text = action.help or ''
    if text == argparse.SUPPRESS:
        return None
    params = dict(vars(action), prog=parser.prog)
    for key, value in list(params.items()):
        if value is argparse.SUPPRESS:
            del params[key]
        elif hasattr(value, '__name__'):
            params[key] = value.__name__
    if params.get('choices') is not None:
        params['choices'] = ', '.join(map(str, params['choices']))
    try:
        return text % params
    except (KeyError, TypeError, ValueError):
        return text


def cli_rst(parser):
    """The reStructuredText of the CLI reference."""
    lines = ['.. code-block:: text', '']
    # a fixed width, not the terminal's: the page is the same wherever built
    saved = os.environ.get('COLUMNS')
    os.environ['COLUMNS'] = '90'
    try:
        help_text = parser.format_help()
    finally:
        if saved is None:
            del os.environ['COLUMNS']
        else:
            os.environ['COLUMNS'] = saved
    lines += ['   ' + line if line else '' for line in
              help_text.splitlines()]
    lines += ['']
    for action in parser._actions:
        if isinstance(action, argparse._HelpAction):
            continue
        text = _help_text(parser, action)
        if text is None:
            continue
        if action.option_strings:
            names = ', '.join('``%s``' % s for s in action.option_strings)
            if action.metavar or action.nargs != 0:
                metavar = action.metavar or action.dest.upper()
                if isinstance(metavar, tuple):
                    metavar = ' '.join(metavar)
                if action.nargs != 0 and not isinstance(
                        action, argparse.BooleanOptionalAction):
                    names += ' *%s*' % _rst_escape(str(metavar))
        else:
            names = '*%s* (positional)' % _rst_escape(action.metavar
                                                      or action.dest)
        lines.append(names)
        body = []
        if text:
            body.append(_rst_escape(' '.join(text.split())))
        facts = []
        if action.choices is not None:
            facts.append('choices: ' + ', '.join(
                '``%s``' % c for c in action.choices))
        default = action.default
        if action.option_strings and default not in (None, argparse.SUPPRESS) \
                and not (action.nargs == 0 and default is False):
            facts.append('default: ``%s``' % (default,))
        if facts:
            body.append('(' + '; '.join(facts) + ')')
        if not body:
            body = ['\\ ']
        for part in body:
            lines.append('   ' + part)
        lines.append('')
    return lines


_ARG = re.compile(r'^(\*{0,2}[A-Za-z_][A-Za-z0-9_]*)\s*(\([^)]*\))?:\s?(.*)$')


def docstring_args(obj):
    """``[(name, description)]`` from the ``Args:`` section of ``obj``'s
    Google-style docstring."""
    doc = inspect.getdoc(obj) or ''
    lines = doc.splitlines()
    out = []
    inside = False
    base = None
    for line in lines:
        stripped = line.strip()
        indent = len(line) - len(line.lstrip())
        if not inside:
            if stripped in ('Args:', 'Arguments:', 'Parameters:'):
                inside = True
                base = None
            continue
        if not stripped:
            continue
        if base is None:
            base = indent
        if indent < base:
            inside = False      # the next section (Raises:, Example::...)
            continue
        match = _ARG.match(stripped) if indent == base else None
        if match:
            out.append([match.group(1), match.group(3)])
        elif out:
            out[-1][1] += ' ' + stripped
    return [(name, ' '.join(text.split())) for name, text in out]


def options_rst(obj):
    try:
        signature = inspect.signature(obj)
        params = signature.parameters
    except (TypeError, ValueError):
        params = {}
    lines = []
    for name, text in docstring_args(obj):
        bare = name.lstrip('*')
        param = params.get(bare)
        heading = '``%s``' % name
        if param is not None and param.default is not inspect.Parameter.empty:
            heading += ' (default ``%r``)' % (param.default,)
        lines.append(heading)
        lines.append('   ' + (text or '\\ '))
        lines.append('')
    if not lines:
        raise ValueError('%r has no Args: section in its docstring' % obj)
    return lines


def limits_rst():
    from engineio_fast.adapters.builtin import context
    source = inspect.getsource(context)
    comments = {}
    current = None
    for tok in tokenize.generate_tokens(io.StringIO(source).readline):
        if tok.type == tokenize.STRING and tok.start[1] == 4:
            current = tok.string.strip('\'"')
            comments.setdefault(current, [])
        elif tok.type == tokenize.COMMENT and current is not None:
            comments[current].append(tok.string.lstrip('#').strip())
        elif tok.type == tokenize.OP and tok.string == '}':
            break
    lines = ['.. list-table::', '   :header-rows: 1', '',
             '   * - limit', '     - default', '     - meaning']
    for key, value in context.DEFAULT_LIMITS.items():
        meaning = ' '.join(comments.get(key, [])) or '\\ '
        lines += ['   * - ``%s``' % key, '     - ``%r``' % (value,),
                  '     - ' + meaning]
    return lines + ['']


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


__all__ = ['cli_parser', 'cli_rst', 'docstring_args', 'options_rst',
           'limits_rst', 'setup']
