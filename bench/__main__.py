"""`python -m bench [--quick]`: embedding, reader, scale and end-to-end figures, then one JSON line.

--quick uses 200,000 synthetic passages for the index part (the full run 1,000,000) and fewer
rounds and questions everywhere. The real-text scale part (bench/scale.py, Reuters passages in
$QA_SCALE_WORK) measures, with --quick, the 1M index if `python -m bench.scale` has built it there,
else builds and measures 10k only and prints its 1M keys as null, saying so. The Reuters part
indexes Reuters-21578 with `qa index` in a fresh process (--quick: its first 2,000 stories; keys null
without ../shared). Every figure is a ratio or a recall measured against a baseline in the same
process (or, for cold starts, alternated processes): the 2-core machine is shared and its absolute
times move with its load.
"""

from __future__ import annotations

import argparse
import json
import platform
import time
from collections.abc import Sequence

from bench import cpu_model


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="200k passages and fewer rounds")
    parser.add_argument(
        "--only",
        choices=("embed", "reader", "ann", "e2e", "static", "scale", "reuters", "watch"),
        action="append",
        help="run only these parts",
    )
    args = parser.parse_args(argv)
    from bench import ann, e2e, embed, reader, reuters, scale, static, watch

    parts = {
        "embed": embed.run,
        "reader": reader.run,
        "ann": ann.run,
        "e2e": e2e.run,
        "static": static.run,
        "scale": scale.run,
        "reuters": reuters.run,
        "watch": watch.run,
    }
    results: dict[str, object] = {
        "quick": args.quick,
        "cpu": cpu_model(),
        "python": platform.python_version(),
    }
    started = time.perf_counter()
    for name in args.only or list(parts):
        print(f"\n== {name} ==", flush=True)
        part_started = time.perf_counter()
        results.update(parts[name](quick=args.quick))
        results[f"{name}_seconds"] = round(time.perf_counter() - part_started, 1)
    results["bench_seconds"] = round(time.perf_counter() - started, 1)
    print(json.dumps(results))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
