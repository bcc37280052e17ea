"""Run every ``benchmarks/bench_*.py`` module's ``main()`` in turn.

Usage: ``python -m benchmarks [--quick] [-k SUBSTRING]``. Remaining arguments (``--quick``)
are passed on to each benchmark through ``sys.argv``; ``-k`` selects modules whose name
contains SUBSTRING. A failing benchmark is reported and the others still run; the exit
status is non-zero if any failed.
"""

from __future__ import annotations

import argparse
import importlib
import sys
import time
import traceback
from pathlib import Path


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks", add_help=True)
    parser.add_argument("-k", dest="select", default="", help="run modules containing this")
    args, rest = parser.parse_known_args(sys.argv[1:] if argv is None else argv)
    here = Path(__file__).resolve().parent
    modules = sorted(p.stem for p in here.glob("bench_*.py") if args.select in p.stem)
    failed = []
    for name in modules:
        print(f"\n=== benchmarks.{name} ===", flush=True)
        t0 = time.perf_counter()
        saved = sys.argv
        sys.argv = [str(here / f"{name}.py"), *rest]
        try:
            module = importlib.import_module(f"benchmarks.{name}")
            status = module.main()
            if status not in (None, 0):
                failed.append(name)
        except SystemExit as exc:
            if exc.code not in (None, 0):
                failed.append(name)
        except Exception:
            traceback.print_exc()
            failed.append(name)
        finally:
            sys.argv = saved
        print(f"=== {name}: {time.perf_counter() - t0:.1f} s ===", flush=True)
    if failed:
        print(f"\nfailed: {', '.join(failed)}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
