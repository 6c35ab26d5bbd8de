"""Full load of N demo rows three ways, as ratios in one run: the sandbox DMS engine with a table-settings
``parallel-load`` of type ``ranges``, the same engine without it, and a ``psql \\copy`` pipe.

    .venv/bin/python bench/parallel_load.py [--rows 10000000] [--segments 4] [--repeat 1]

Same two local clusters and the same seeded table as bench/engine_vs_psql.py (whose helpers this reuses). The ranges
split demo_accounts on accountnumber into ``--segments`` equal key ranges, loaded up to MaxFullLoadSubTasks (8) at
once, each on its own pair of sessions reading one exported snapshot. Every contender copies into the same
pre-created, emptied target table; each run's target is counted. Times are the best of ``--repeat`` runs, alternating.
"""

from __future__ import annotations

import argparse
import sys

import psycopg
from engine_vs_psql import Side, _conninfo, count, empty_target, engine_load, psql_pipe, seed, two_clusters

from dms_tui.dmstask.mappings import TableMappings, default_mappings


def ranged_mappings(rows: int, segments: int) -> TableMappings:
    document = default_mappings().to_dict()
    step = max(1, rows // segments)
    document["rules"].append(
        {
            "rule-type": "table-settings",
            "rule-id": "90",
            "rule-name": "parallel-ranges",
            "object-locator": {"schema-name": "demo_schema", "table-name": "demo_accounts"},
            "parallel-load": {
                "type": "ranges",
                "columns": ["accountnumber"],
                "boundaries": [[str(step * i)] for i in range(1, segments)],
            },
        }
    )
    return TableMappings.from_dict(document)


def compare(psql: str, source: Side, target: Side, rows: int, segments: int, repeat: int) -> None:
    source_url = psycopg.conninfo.make_conninfo("", **_conninfo(source))
    target_url = psycopg.conninfo.make_conninfo("", **_conninfo(target))
    seed(source_url, rows)
    contenders = {
        "psql \\copy pipe": lambda: psql_pipe(psql, source, target),
        "engine, one piece": lambda: engine_load(source, target, default_mappings()),
        f"engine, {segments} ranges": lambda: engine_load(source, target, ranged_mappings(rows, segments)),
    }
    times: dict[str, list[float]] = {name: [] for name in contenders}
    for _ in range(repeat):
        for name, run in contenders.items():
            empty_target(target_url)
            times[name].append(run())
            if count(target_url) != rows:
                raise SystemExit(f"{name} did not copy every row")
    best = {name: min(runs) for name, runs in times.items()}
    pipe = best["psql \\copy pipe"]
    one = best["engine, one piece"]
    print(f"rows                      {rows:>12,}")
    for name, seconds in best.items():
        print(f"{name:<24}  {seconds:>10.3f} s  ({rows / seconds:>12,.0f} rows/s)  {seconds / pipe:>5.2f} x pipe")
    ranged = best[f"engine, {segments} ranges"]
    print(f"ranges / one piece        {ranged / one:>10.2f}    (below 1.00: parallel-load is faster)")
    print("all runs (s): " + "; ".join(f"{n} {', '.join(f'{t:.3f}' for t in ts)}" for n, ts in times.items()))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, default=10_000_000)
    parser.add_argument("--segments", type=int, default=4)
    parser.add_argument("--repeat", type=int, default=1)
    args = parser.parse_args(argv)
    with two_clusters() as (psql, source, target):
        compare(psql, source, target, args.rows, args.segments, args.repeat)
    return 0


if __name__ == "__main__":
    sys.exit(main())
