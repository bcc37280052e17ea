"""``cogattn figure NAME --out DIR``: compute and write a named figure and its data."""

from __future__ import annotations

import argparse


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("figure", help="make a named figure (PNG + the netCDF data behind it)")
    p.add_argument("name", nargs="?", help="figure name (see --list)")
    p.add_argument("--out", default="outputs", help="output folder (default: outputs)")
    p.add_argument("--list", action="store_true", help="list the available figures")
    p.add_argument("--small", action="store_true", help="tiny sizes (a quick pipeline check)")
    p.add_argument("--device", default="cpu", help="torch device, e.g. cpu, cuda, cuda:1")
    p.add_argument(
        "--from-data", metavar="NC", help="re-plot from a netCDF written earlier (no models run)"
    )
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from cogattn.figures import get_recipe, list_figures, make_figure, replot_figure

    if args.list or not args.name:
        for name in list_figures():
            print(f"{name:28s} {get_recipe(name).description}")
        return 0
    if args.from_data:
        result = replot_figure(args.name, args.from_data, args.out)
    else:
        result = make_figure(args.name, args.out, small=args.small, device=args.device)
    print(f"wrote {result.figure_path}" + (f" and {result.data_path}" if result.data_path else ""))
    if result.report:
        print(result.report)
    return 0
