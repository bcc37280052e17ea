"""``cogattn data info PATH`` and ``cogattn data convert IN OUT``: thin wrappers over
:func:`cogattn.data.describe_file`, :func:`cogattn.data.load_file` and
:func:`cogattn.data.save`."""

from __future__ import annotations

import argparse

_FORMATS = (
    "coco-search18",
    "amazon-covers",
    "fixation-tsv",
    "csv",
    "rdms",
    "responses",
    "stimuli",
    "search-outputs",
    "netcdf",
)


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("data", help="inspect and convert human-data files")
    data_sub = p.add_subparsers(dest="data_command", metavar="ACTION")

    info = data_sub.add_parser(
        "info", help="summarise a data file or folder (schema, sizes, subjects, units)"
    )
    info.add_argument("path", help="a data file or folder")
    info.set_defaults(func=run_info)

    convert = data_sub.add_parser(
        "convert", help="load any supported file and write it as netCDF (.nc) or zarr (.zarr)"
    )
    convert.add_argument("input", help="a supported data file or folder")
    convert.add_argument("output", help="destination ending in .nc or .zarr (written atomically)")
    convert.add_argument("--format", choices=_FORMATS, help="input format (detected if omitted)")
    convert.add_argument(
        "--image-size",
        nargs=2,
        type=float,
        metavar=("WIDTH", "HEIGHT"),
        help="image size in px (generic CSV scanpaths)",
    )
    convert.add_argument(
        "--out-of-bounds",
        choices=("clip", "raise"),
        help="scanpaths: fixations outside the image (default clip, with a warning)",
    )
    convert.add_argument("--roi", help="RDMs: which region to load (e.g. IT, EVC, mIT)")
    convert.set_defaults(func=run_convert)
    p.set_defaults(func=lambda args: _usage(p))


def _usage(parser: argparse.ArgumentParser) -> int:
    parser.print_help()
    return 0


def run_info(args: argparse.Namespace) -> int:
    from cogattn.data import describe_file

    print(describe_file(args.path))
    return 0


def run_convert(args: argparse.Namespace) -> int:
    from cogattn.data import load_file, save

    options = {}
    if args.image_size:
        options["image_size_px"] = tuple(args.image_size)
    if args.out_of_bounds:
        options["out_of_bounds"] = args.out_of_bounds
    if args.roi:
        options["roi"] = args.roi
    ds = load_file(args.input, format=args.format, **options)
    path = save(ds, args.output)
    print(f"wrote {path} ({', '.join(f'{k}={v}' for k, v in ds.sizes.items())})")
    return 0
