"""The static file rule engine (engineio_fast.static_files): names without
I/O (resolve), then what is served from the file system (locate)."""

import mimetypes
import os

import pytest

from engineio_fast.static_files import (
    CONTENT_TYPES,
    DEFAULT_CONTENT_TYPE,
    content_type_for,
    locate,
    resolve,
    validate,
)

GUIDE_FILES = {
    '/': 'latency.html',
    '/static/engine.io.js': 'static/engine.io.js',
    '/static/style.css': 'static/style.css',
}


def f(filename, content_type):
    return {'filename': filename, 'content_type': content_type}


# -- exact URLs ---------------------------------------------------------------

@pytest.mark.parametrize('path, expected', [
    ('/', f('latency.html', 'text/html')),
    ('/static/engine.io.js', f('static/engine.io.js',
                               'application/javascript')),
    ('/static/style.css', f('static/style.css', 'text/css')),
])
def test_exact_paths(path, expected):
    assert resolve(GUIDE_FILES, path) == expected


def test_exact_path_with_explicit_content_type():
    rules = {'/': {'filename': 'latency.html', 'content_type': 'text/plain'}}
    assert resolve(rules, '/') == f('latency.html', 'text/plain')


def test_result_is_a_fresh_dict():
    rules = {'/': {'filename': 'latency.html', 'content_type': 'text/plain'}}
    resolve(rules, '/')['filename'] = 'mutated'
    assert rules['/'] == {'filename': 'latency.html',
                          'content_type': 'text/plain'}
    assert resolve(rules, '/') == f('latency.html', 'text/plain')


def test_unconfigured_paths_do_not_match():
    assert resolve({'/static/style.css': 'x.css'}, '/other') is None
    assert resolve({}, '/') is None
    assert resolve(None, '/') is None


# -- directories --------------------------------------------------------------

@pytest.mark.parametrize('key', ['/static', '/static/'])
@pytest.mark.parametrize('folder', ['./public', './public/'])
def test_directory_rule(key, folder):
    rules = {key: folder}
    assert resolve(rules, '/static/index.html') == \
        f('./public/index.html', 'text/html')
    assert resolve(rules, '/static/css/styles.css') == \
        f('./public/css/styles.css', 'text/css')
    assert resolve(rules, '/static/a/b/c/d.json') == \
        f('./public/a/b/c/d.json', 'application/json')


def test_absolute_folder():
    assert resolve({'/s': '/srv/www'}, '/s/x.png') == \
        f('/srv/www/x.png', 'image/png')


def test_root_directory_rule():
    rules = {'/': './public'}
    assert resolve(rules, '/app.js') == \
        f('./public/app.js', 'application/javascript')
    assert resolve(rules, '/') == f('./public', DEFAULT_CONTENT_TYPE)


def test_directory_rule_with_explicit_content_type():
    rules = {'/raw': {'filename': './raw', 'content_type': 'text/plain'}}
    assert resolve(rules, '/raw/x.html') == f('./raw/x.html', 'text/plain')


def test_prefix_matches_only_on_segment_boundaries():
    rules = {'/static': './public'}
    assert resolve(rules, '/staticfoo') is None
    assert resolve(rules, '/staticfoo/x.css') is None
    assert resolve(rules, '/stati') is None
    rules = {'/static/': './public'}
    assert resolve(rules, '/staticfoo') is None


def test_longest_prefix_wins():
    rules = {
        '/': './root',
        '/static': './public',
        '/static/img': {'filename': './images', 'content_type': 'image/x'},
    }
    assert resolve(rules, '/static/img/a.png') == f('./images/a.png',
                                                    'image/x')
    assert resolve(rules, '/static/imgx/a.png') == f('./public/imgx/a.png',
                                                     'image/png')
    assert resolve(rules, '/static/a.png') == f('./public/a.png', 'image/png')
    assert resolve(rules, '/other/a.png') == f('./root/other/a.png',
                                               'image/png')


def test_exact_beats_prefix():
    rules = {'/static': './public', '/static/app.js': 'build/app.js'}
    assert resolve(rules, '/static/app.js') == f('build/app.js',
                                                 'application/javascript')
    assert resolve(rules, '/static/other.js') == f('./public/other.js',
                                                   'application/javascript')


def test_bare_directory_url_without_slash_is_the_folder():
    # '/static' names the folder itself; the caller finds it is not a
    # regular file and answers 404 (python-engineio does the same).
    assert resolve({'/static': './public'}, '/static') == \
        f('./public', DEFAULT_CONTENT_TYPE)


def test_regex_looking_keys_are_literal():
    # The asgi-middleware page shows '/static/(.*)' keys; neither
    # python-engineio nor we treat keys as patterns.
    rules = {'/static/(.*)': r'static/\1'}
    assert resolve(rules, '/static/app.js') is None


# -- default file -------------------------------------------------------------

def test_default_index_html():
    rules = {'/static': './public'}
    assert resolve(rules, '/static/') == f('./public/index.html',
                                           'text/html')
    assert resolve(rules, '/static/css/') == f('./public/css/index.html',
                                               'text/html')


def test_default_file_from_empty_key():
    rules = {'/static': './public', '': 'image.gif'}
    assert resolve(rules, '/static/') == f('./public/image.gif', 'image/gif')
    assert resolve(rules, '/static/sub/') == f('./public/sub/image.gif',
                                               'image/gif')


def test_default_file_with_content_type():
    rules = {'/static': './public',
             '': {'filename': 'image.gif', 'content_type': 'text/plain'}}
    assert resolve(rules, '/static/') == f('./public/image.gif',
                                           'text/plain')
    # the default's content type applies only when the default is used
    assert resolve(rules, '/static/x.gif') == f('./public/x.gif', 'image/gif')


def test_empty_key_is_not_a_path_rule():
    rules = {'': 'image.gif'}
    assert resolve(rules, '/') is None
    assert resolve(rules, '/x.gif') is None


def test_default_file_for_folder_value_ending_in_slash():
    assert resolve({'/docs/': 'site/'}, '/docs/') == f('site/index.html',
                                                      'text/html')


# -- content types ------------------------------------------------------------

@pytest.mark.parametrize('ext, content_type', sorted(CONTENT_TYPES.items()))
def test_guide_content_types(ext, content_type):
    rules = {'/d': './d'}
    assert resolve(rules, f'/d/file.{ext}') == f(f'./d/file.{ext}',
                                                 content_type)


def test_guide_table():
    assert CONTENT_TYPES == {
        'html': 'text/html', 'css': 'text/css',
        'js': 'application/javascript', 'json': 'application/json',
        'jpg': 'image/jpeg', 'png': 'image/png', 'gif': 'image/gif',
        'txt': 'text/plain'}


def test_guide_table_beats_mimetypes():
    # mimetypes says text/javascript for .js on recent Pythons
    assert content_type_for('a.js') == 'application/javascript'


def test_extension_case_is_ignored():
    assert content_type_for('INDEX.HTML') == 'text/html'


@pytest.mark.parametrize('name', ['doc.pdf', 'pic.svg', 'clip.mp4',
                                  'page.xml', 'font.woff2'])
def test_mimetypes_fallback(name):
    expected = mimetypes.guess_type(name, strict=False)[0]
    assert expected is not None
    assert content_type_for(name) == expected
    assert resolve({'/d': 'd'}, '/d/' + name)['content_type'] == expected


@pytest.mark.parametrize('name', ['README', 'x.unknownext', 'a.tar.gz',
                                  'b.gz', 'dir.d/noext', '.hidden'])
def test_octet_stream_default(name):
    assert content_type_for(name) == 'application/octet-stream'


# -- traversal and malformed paths --------------------------------------------

TRAVERSALS = [
    '/static/../secret.txt',
    '/static/../../etc/passwd',
    '/static/css/../../secret.txt',
    '/static/..',
    '/static/../',
    '/static/./x.css',
    '/static/%2e%2e/secret.txt',
    '/static/%2E%2E/secret.txt',
    '/static/%2e%2e%2fsecret.txt',
    '/static/..%2fsecret.txt',
    '/static/x%2f..%2f..%2fsecret.txt',
    '/static/%2e%2e%5csecret.txt',
    '/static/%252e%252e/secret.txt',
    '/static//etc/passwd',
    '/static/a//b.txt',
    '/static/..\\secret.txt',
    '/static/a\\b.txt',
    '/static/a\x00.txt',
    '/static/a%00.txt',
    'static/x.txt',
    '',
]


@pytest.mark.parametrize('path', TRAVERSALS)
def test_traversal_attempts_do_not_match(path):
    rules = {'/static': './public', '/': './root'}
    # '/static/%252e%252e/...' reaches us decoded once, as the literal
    # segment '%2e%2e': harmless on disk, refused anyway.
    assert resolve(rules, path) is None


def test_filenames_with_dots_are_fine():
    rules = {'/static': './public'}
    assert resolve(rules, '/static/..x/a...b.txt') == \
        f('./public/..x/a...b.txt', 'text/plain')
    assert resolve(rules, '/static/100%25.txt') == \
        f('./public/100%25.txt', 'text/plain')


def test_non_string_path():
    assert resolve({'/': 'x'}, None) is None
    assert resolve({'/': 'x'}, b'/') is None


# -- validation ---------------------------------------------------------------

def test_validate_accepts_guide_shapes():
    rules = {'/': 'a.html', '/s': './p',
             '': {'filename': 'i.gif', 'content_type': 'text/plain'},
             '/x': {'filename': 'x'}}
    assert validate(rules) is rules
    assert validate(None) == {}


@pytest.mark.parametrize('bad', [
    ['/'], {1: 'x'}, {'/': 3}, {'/': {'content_type': 'text/plain'}},
    {'/': {'filename': 'a', 'content_type': 5}},
    {'/': {'filename': 'a', 'follow_symlinks': 'yes'}},
])
def test_validate_rejects(bad):
    with pytest.raises(ValueError):
        validate(bad)


def test_validate_accepts_follow_symlinks():
    rules = {'/s': {'filename': './p', 'follow_symlinks': True}}
    assert validate(rules) is rules


# -- locate: the file system, symbolic links ------------------------------------

@pytest.fixture
def tree(tmp_path):
    """public/ with a file, a link to a file inside, links to a file and a
    folder outside, and an index.html that is a link outside; secret.txt
    and private/ next to public/."""
    public = tmp_path / 'public'
    (public / 'sub').mkdir(parents=True)
    (public / 'page.html').write_bytes(b'page')
    (public / 'sub' / 'inner.txt').write_bytes(b'inner')
    (tmp_path / 'secret.txt').write_bytes(b'SECRET')
    (tmp_path / 'private').mkdir()
    (tmp_path / 'private' / 'key.txt').write_bytes(b'KEY')
    (tmp_path / 'private' / 'index.html').write_bytes(b'PRIVATE INDEX')
    os.symlink(public / 'sub' / 'inner.txt', public / 'alias.txt')
    os.symlink(tmp_path / 'secret.txt', public / 'leak.txt')
    os.symlink('../secret.txt', public / 'rel-leak.txt')
    os.symlink(tmp_path / 'private', public / 'priv')
    os.symlink(tmp_path / 'private' / 'index.html', public / 'sub' /
               'index.html')
    os.symlink(tmp_path / 'nowhere', public / 'dangling.txt')
    return tmp_path


def test_locate_serves_files_and_links_inside_the_folder(tree):
    rules = {'/s': str(tree / 'public')}
    page = locate(rules, '/s/page.html')
    assert page == f(os.path.realpath(tree / 'public' / 'page.html'),
                     'text/html')
    alias = locate(rules, '/s/alias.txt')
    # the link's name gives the type; the file opened is the real one
    assert alias == f(os.path.realpath(tree / 'public' / 'sub' /
                                       'inner.txt'), 'text/plain')


@pytest.mark.parametrize('path', [
    '/s/leak.txt', '/s/rel-leak.txt', '/s/priv/key.txt', '/s/priv/',
    '/s/sub/', '/s/dangling.txt', '/s/missing.txt', '/s/sub', '/s/',
])
def test_locate_refuses_what_leaves_the_folder_or_is_absent(tree, path):
    # resolve names a file for each: locate refuses it
    rules = {'/s': str(tree / 'public')}
    assert resolve(rules, path) is not None
    assert locate(rules, path) is None


def test_locate_follows_links_when_the_rule_says_so(tree):
    rules = {'/s': {'filename': str(tree / 'public'),
                    'follow_symlinks': True}}
    leak = locate(rules, '/s/leak.txt')
    assert leak is not None and \
        open(leak['filename'], 'rb').read() == b'SECRET'
    key = locate(rules, '/s/priv/key.txt')
    assert open(key['filename'], 'rb').read() == b'KEY'
    assert locate(rules, '/s/../secret.txt') is None   # still no traversal


def test_locate_serves_an_exact_rule_as_configured(tree):
    # the user named that file: a link there is theirs to make
    rules = {'/secret': str(tree / 'public' / 'leak.txt')}
    assert locate(rules, '/secret') == f(
        str(tree / 'public' / 'leak.txt'), 'text/plain')


def test_locate_through_a_linked_folder(tree):
    # the configured folder may itself be a link: its real path is the root
    os.symlink(tree / 'public', tree / 'www')
    rules = {'/w': str(tree / 'www')}
    assert locate(rules, '/w/page.html')['filename'] == \
        os.path.realpath(tree / 'public' / 'page.html')
    assert locate(rules, '/w/leak.txt') is None


def test_locate_a_folder_rule_on_the_current_directory(tree, monkeypatch):
    monkeypatch.chdir(tree / 'public')
    rules = {'/c': ''}
    assert locate(rules, '/c/page.html') is not None
    assert locate(rules, '/c/leak.txt') is None


def test_locate_a_prefix_that_shares_the_folder_name(tree):
    # /public-x is not inside /public though it starts with its name
    (tree / 'public-x').mkdir()
    (tree / 'public-x' / 'f.txt').write_bytes(b'X')
    os.symlink(tree / 'public-x' / 'f.txt', tree / 'public' / 'x.txt')
    assert locate({'/s': str(tree / 'public')}, '/s/x.txt') is None
