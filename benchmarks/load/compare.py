"""Two runs of the load suite side by side, for one target: its rate and
server CPU per operation in each, and its rate ratio to a reference target
(Node by default) in each run (ratios are taken within a run: the machine
changes between runs, a ratio much less).

    python benchmarks/load/compare.py BEFORE.json AFTER.json [--target builtin] [--ref node]

``BEFORE.json`` and ``AFTER.json`` are ``results.json`` files written by
``run.py``. Prints a Markdown table; a row missing from a run shows "—".
"""
import argparse
import json


def rows(path, target, ref):
    """``{(scenario, variant): (rate, cpu_us, ratio_to_ref, unit)}``."""
    with open(path) as f:
        data = json.load(f)
    out = {}
    for row in data['summary']:
        t = row['targets'].get(target)
        if not t or t.get('median') is None:
            continue
        r = row['targets'].get(ref) or {}
        ratio = t['median'] / r['median'] if r.get('median') else None
        out[(row['scenario'], row['variant'])] = (
            t['median'], t.get('server_cpu_us_per_op'), ratio, row['unit'])
    return out, data['info']


def fmt(value, spec):
    if value is None:
        return '—'
    if spec == ',.0f' and value < 100:
        spec = '.3g'      # KiB per session and the like
    return format(value, spec)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument('before')
    ap.add_argument('after')
    ap.add_argument('--target', default='builtin')
    ap.add_argument('--ref', default='node')
    args = ap.parse_args()
    before, info_b = rows(args.before, args.target, args.ref)
    after, info_a = rows(args.after, args.target, args.ref)
    print('before: %s (%s); after: %s (%s); target %s, ratios to %s in the same run\n' % (
        args.before, info_b.get('started', '?'), args.after, info_a.get('started', '?'), args.target, args.ref))
    print('| scenario | unit | rate before | rate after | CPU µs/op before | CPU µs/op after | '
          '/%s before | /%s after |' % (args.ref, args.ref))
    print('|---|---|---|---|---|---|---|---|')
    for key in list(before) + [k for k in after if k not in before]:
        b = before.get(key, (None, None, None, None))
        a = after.get(key, (None, None, None, None))
        unit = a[3] or b[3]
        print('| %s %s | %s | %s | %s | %s | %s | %s | %s |' % (
            key[0], key[1], unit, fmt(b[0], ',.0f'), fmt(a[0], ',.0f'), fmt(b[1], '.3g'), fmt(a[1], '.3g'),
            fmt(b[2], '.2f') + ('×' if b[2] else ''), fmt(a[2], '.2f') + ('×' if a[2] else '')))


if __name__ == '__main__':
    main()
