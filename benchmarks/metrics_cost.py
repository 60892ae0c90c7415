"""What the Prometheus metrics cost per websocket echo message, in the
engine (where all the counting is), with metrics off and on in one run.

One echo is what the server's engine does for one message of the
websocket echo benchmark: ``ws_receive`` of a 32-byte text message, the
handler's ``send`` of it back, the adapter's ``ws_take``. Both engines run
the same loop in turns (off, on, off, on, ...), ``--rounds`` times; the
medians are printed with their difference, in ns per message and as a
share of the server's whole CPU time per message in the end-to-end
benchmark (``--per-message-us``, default 2.8 us: the built-in server on
``benchmarks/load/run.py`` S1 echo ws C=50 x16).

    flock -x /tmp/cpu.lock python benchmarks/metrics_cost.py
    # and what the counting steps cost when off, against a tree without them:
    flock -x /tmp/cpu.lock python benchmarks/metrics_cost.py --against ../main

End to end (servers and the load generator, medians of 3, server CPU per
message beside each rate):

    flock -x /tmp/cpu.lock python benchmarks/load/run.py \\
        --targets builtin builtin-metrics --scenarios S1 --out results-metrics
"""

import argparse
import json
import os
import statistics
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
if '--child' not in sys.argv:
    sys.path.insert(0, os.path.dirname(HERE))

import engineio_fast  # noqa: E402
from engineio_fast.protocol import engine as E  # noqa: E402
from engineio_fast.protocol.http import HttpPolicy, Request  # noqa: E402


def make_engine(metered):
    engine = E.Engine(E.EngineConfig(), HttpPolicy(), json.loads,
                      lambda o: json.dumps(o, separators=(',', ':')))
    if metered:
        from engineio_fast.protocol import stats as S
        S.meter(engine)
    req = Request('GET', {'EIO': '4', 'transport': 'websocket'}, {}, 'http',
                  None, True, {'REMOTE_ADDR': '127.0.0.1'})
    out = engine.handle_http(req, 0.0)
    engine.connect_done(out, req, (True, None), 0.0)
    link = out.link
    link.waker = lambda: None
    engine.ws_take(link)
    return engine, out.session, link


def echo_loop(engine, s, link, n):
    msg = '4' + 'x' * 31
    receive = engine.ws_receive
    send = engine.send
    take = engine.ws_take
    t0 = time.perf_counter()
    for _ in range(n):
        for ev in receive(link, msg, 1.0):
            send(s, '4' + ev[2])
        take(link)
    return (time.perf_counter() - t0) / n * 1e9


def main():
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument('--messages', type=int, default=200000)
    ap.add_argument('--rounds', type=int, default=7)
    ap.add_argument('--per-message-us', type=float, default=2.8)
    ap.add_argument('--against', default=None, metavar='TREE',
                    help='also time the engine of another source tree (metrics '
                         'off), in turns with this one, each in a process of its own')
    ap.add_argument('--child', action='store_true', help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child:
        # this tree's (PYTHONPATH's) engine, metrics off: the best of 5
        # (a process of its own: the other load of a shared machine only
        # ever adds time)
        t = make_engine(False)
        echo_loop(*t, args.messages // 10)
        print(min(echo_loop(*t, args.messages // 2) for _ in range(5)))
        return
    if args.against:
        return against(args)
    off = make_engine(False)
    on = make_engine(True)
    echo_loop(*off, args.messages // 10)     # warm both
    echo_loop(*on, args.messages // 10)
    times = {'off': [], 'on': []}
    for _ in range(args.rounds):
        times['off'].append(echo_loop(*off, args.messages))
        times['on'].append(echo_loop(*on, args.messages))
    m_off = statistics.median(times['off'])
    m_on = statistics.median(times['on'])
    extra = m_on - m_off
    print('engineio_fast %s, %s kernels, Python %s'
          % (engineio_fast.__version__, engineio_fast.IMPLEMENTATION,
             sys.version.split()[0]))
    print('engine steps per echoed message (receive + send + take), '
          'median of %d rounds of %d:' % (args.rounds, args.messages))
    print('  metrics off: %7.1f ns   (rounds: %s)'
          % (m_off, ' '.join('%.0f' % t for t in times['off'])))
    print('  metrics on:  %7.1f ns   (rounds: %s)'
          % (m_on, ' '.join('%.0f' % t for t in times['on'])))
    print('  counting:    %+7.1f ns per message = %.1f %% of %.1f us, the '
          'server CPU per message of the echo benchmark'
          % (extra, extra / (args.per_message_us * 1000) * 100,
             args.per_message_us))
    st = on[0].stats
    assert st.messages_in == st.messages_out > 0


def against(args):
    """This tree's engine and another's, metrics off, in turns."""
    trees = {'this tree': os.path.dirname(HERE),
             args.against: os.path.abspath(args.against)}
    times = {name: [] for name in trees}
    for _ in range(args.rounds):
        for name, tree in trees.items():
            out = subprocess.run(
                [sys.executable, os.path.abspath(__file__), '--child',
                 '--messages', str(args.messages)],
                env=dict(os.environ, PYTHONPATH=tree, PYTHONHASHSEED='0'),
                capture_output=True,
                text=True, timeout=300, check=True)
            times[name].append(float(out.stdout.split()[-1]))
    print('engine steps per echoed message, metrics off, median of %d '
          'processes (each the best of 5 rounds):' % args.rounds)
    for name, ts in times.items():
        print('  %-12s %7.1f ns   (rounds: %s)' % (
            name, statistics.median(ts), ' '.join('%.0f' % x for x in ts)))
    a, b = (statistics.median(ts) for ts in times.values())
    print('  difference:  %+7.1f ns per message = %.1f %% of %.1f us'
          % (a - b, (a - b) / (args.per_message_us * 1000) * 100,
             args.per_message_us))


if __name__ == '__main__':
    main()
