"""The engine's observation points (protocol/instrument.py), sans-I/O: which
steps reach each hook, what a hook returns is what the engine sends or
reads, and an engine without hooks (never instrumented, or restored) runs
its own methods only. Also: HttpPolicy.text is payload_answer + the cookie +
finish, written out (the two forms must stay equal)."""

import gzip

import pytest

from engineio_fast import _accel
from engineio_fast.protocol import engine as E
from engineio_fast.protocol import instrument as hooks_mod
from engineio_fast.protocol.http import (
    HttpPolicy,
    Request,
    Response,
    payload_answer,
)

from .test_engine import open_polling, req


def own_methods_only(engine):
    shadows = set(vars(engine)) & set(hooks_mod.SHADOWED)
    return shadows == {'_reply'} and engine._reply == engine.policy.text


class Log(hooks_mod.EngineHooks):
    """Hooks that log; ``answer`` renders as the engine does and tags the
    response, ``received``/``sent`` upper-case text."""

    def __init__(self, engine, steps, read_post=True):
        self.engine = engine
        self.log = []
        self.read_post = read_post
        for name in steps:
            setattr(self, name, getattr(self, '_' + name))

    def _answer(self, req, text, jsonp, cookie):
        self.log.append(('answer', text, jsonp, cookie))
        if text is None:
            headers, body = [('Content-Type', 'text/plain')], b'OK!'
        else:
            headers, body = payload_answer(text, jsonp,
                                           _accel.active.jsonp_wrap)
        headers.append(('X-Tag', 'hooked'))
        return self.engine.policy.finish(req, 200, headers, body)

    def _post(self, session, req, run):
        self.log.append(('post', session.sid, req.body))
        if self.read_post:
            return run()
        return E.Outcome(E.RESPOND, Response(200, [], b'dropped'))

    def _received(self, link, data):
        self.log.append(('received', data))
        return data.upper() if isinstance(data, str) else data

    def _sent(self, link, items):
        self.log.append(('sent', list(items)))
        return [i.upper() if isinstance(i, str) else i for i in items]

    def _closed(self, link):
        self.log.append(('closed', link.session.sid))

    def _ping(self, session):
        self.log.append(('ping', session.sid))


def test_never_instrumented_runs_its_own_methods(make):
    engine = make()
    assert own_methods_only(engine)
    hooks_mod.instrument(engine, Log(engine, ['answer', 'post']))
    assert not own_methods_only(engine)
    hooks_mod.instrument(engine, None)
    assert own_methods_only(engine)


def test_answer_renders_every_polling_answer(make):
    engine = make()
    hooks = Log(engine, ['answer'])
    hooks_mod.instrument(engine, hooks)
    s, resp = open_polling(engine)
    assert ('X-Tag', 'hooked') in resp.headers
    hs = hooks.log[0]
    assert hs[0] == 'answer' and hs[1].startswith('0{"sid":"%s"' % s.sid)
    assert resp.body == hs[1].encode()
    post = engine.handle_http(req('POST', b'4abc', sid=s.sid), 1.0)
    assert (post.response.status, post.response.body) == (200, b'OK!')
    assert post.events == [('message', s.sid, 'abc')]
    engine.send(s, '4x')
    got = engine.handle_http(req(sid=s.sid, j='3'), 1.0)
    assert got.response.body == b'___eio[3]("4x");'
    assert hooks.log[1:] == [('answer', None, None, None),
                             ('answer', '4x', 3, None)]
    # errors are not answers: no hook
    bad = engine.handle_http(req(sid='nope'), 1.0)
    assert bad.response.status == 400 and len(hooks.log) == 3


def test_answer_gets_the_cookie_and_cors_is_added(make):
    engine = make(HttpPolicy(cookie='io', cors_allowed_origins='*'))
    hooks = Log(engine, ['answer'])
    hooks_mod.instrument(engine, hooks)
    out = engine.handle_http(req(headers={'origin': 'http://x'}), 0.0)
    resp = engine.connect_done(out, req(headers={'origin': 'http://x'}),
                               (True, None), 0.0).response
    cookie = hooks.log[0][3]
    assert cookie.startswith('io=' + out.session.sid)
    assert ('Access-Control-Allow-Origin', 'http://x') in resp.headers


@pytest.mark.parametrize('read', [True, False])
def test_post_hook_reads_the_post_or_not(make, read):
    engine = make()
    hooks = Log(engine, ['post'], read_post=read)
    hooks_mod.instrument(engine, hooks)
    s, _ = open_polling(engine)
    out = engine.handle_http(req('POST', b'4one\x1e4two', sid=s.sid), 1.0)
    assert hooks.log == [('post', s.sid, b'4one\x1e4two')]
    if read:
        assert out.events == [('message', s.sid, 'one'),
                              ('message', s.sid, 'two')]
        assert out.response.body == b'ok'
    else:
        assert not out.events and out.response.body == b'dropped'
    # a POST the engine refuses before reading never reaches the hook
    engine.handle_http(req('POST', b'4x', sid='unknown'), 1.0)
    assert len(hooks.log) == 1


def open_ws(engine, now=0.0):
    out = engine.handle_http(req(ws=True), now)
    out = engine.connect_done(out, req(ws=True), (True, None), now)
    return out.session, out.link


def test_websocket_messages_in_and_out(make):
    engine = make()
    hooks = Log(engine, ['received', 'sent', 'closed'])
    hooks_mod.instrument(engine, hooks)
    s, link = open_ws(engine)
    first = engine.ws_take(link)
    assert first[0].startswith('0{"SID":')      # upper-cased by the hook
    assert engine.ws_receive(link, '4hello', 1.0) == [
        ('message', s.sid, 'HELLO')]
    engine.send(s, '4back')
    engine.send(s, b'\x01')
    assert engine.ws_take(link) == ['4BACK', b'\x01']
    assert engine.ws_take(link) == ()      # nothing taken: no hook call
    engine.ws_closed(link, 2.0)
    assert [e[0] for e in hooks.log] == ['sent', 'received', 'sent',
                                         'closed']
    assert hooks.log[2] == ('sent', ['4back', b'\x01'])


def test_ping_hook_decides_when_the_ping_goes(make):
    engine = make(ping_interval=1, ping_timeout=1)
    hooks = Log(engine, ['ping'])
    hooks_mod.instrument(engine, hooks)
    s, link = open_ws(engine)
    engine.ws_take(link)
    assert engine.tick(1.0) == []
    assert hooks.log == [('ping', s.sid)]
    assert engine.ws_take(link) == ()        # not sent by the engine
    engine.send_ping(s)
    assert engine.ws_take(link) == ['2']
    engine.ws_receive(link, '3', 1.5)
    assert engine.tick(2.0) == []            # the pong counted
    assert engine.tick(2.5) == [] and len(hooks.log) == 2
    # no pong: the session ends when its deadline passes, hook or not
    assert engine.tick(3.6) == [('disconnect', s.sid, 'ping timeout')]
    engine.send_ping(s)                      # closed: no ping queued
    assert engine.ws_take(link) == ['1'] and link.closing


# -- HttpPolicy.text: payload_answer + cookie + finish, written out ---------

@pytest.mark.parametrize('jsonp', [None, 7])
@pytest.mark.parametrize('cookie', [None, 'io=abc; Path=/'])
@pytest.mark.parametrize('size', [10, 5000])
def test_text_is_payload_answer_and_finish(kernels, jsonp, cookie, size):
    policy = HttpPolicy(cors_allowed_origins='*', compression_threshold=1024)
    request = Request('GET', {'EIO': '4', 'transport': 'polling'},
                      {'origin': 'http://a', 'accept-encoding': 'gzip'},
                      'http', None, False, {})
    text = '4' + 'x' * size + '\u00e9'
    one = policy.text(request, text, jsonp, cookie, kernels.jsonp_wrap)
    headers, body = payload_answer(text, jsonp, kernels.jsonp_wrap)
    if cookie is not None:
        headers.append(('Set-Cookie', cookie))
    two = policy.finish(request, 200, headers, body)
    assert (one.status, one.headers, one.body) == (two.status, two.headers,
                                                   two.body)
    if size > 1024:
        assert ('Content-Encoding', 'gzip') in one.headers
        assert gzip.decompress(one.body) == body
    assert one.headers[0] == ('Content-Type', 'text/javascript; charset=UTF-8'
                              if jsonp else 'text/plain; charset=UTF-8')
