"""``cogattn gaze compare MODEL HUMAN`` and ``cogattn gaze consistency HUMAN``.

Thin wrappers over :func:`cogattn.gaze.compare`, :func:`cogattn.gaze.human_consistency`
and :func:`cogattn.gaze.compare.summarize`: they load the scanpath files
(:func:`cogattn.data.load_scanpaths`, any supported format or a saved ``.nc``), score them,
write the per-trial scores as netCDF (``scores.nc``) and a summary table (``summary.csv``:
mean — over model trials for ``compare``, over all pairs for ``consistency`` — and bootstrap
interval per metric), and print the table.
"""

from __future__ import annotations

import argparse
from pathlib import Path

_SCANPATH_FORMATS = ("coco-search18", "amazon-covers", "fixation-tsv", "csv", "netcdf")


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("gaze", help="compare scanpaths (models vs humans, human consistency)")
    gaze_sub = p.add_subparsers(dest="gaze_command", metavar="ACTION")

    cmp = gaze_sub.add_parser(
        "compare",
        help="score model scanpaths against the human scanpaths of the same image and task",
    )
    cmp.add_argument("model", help="model scanpaths (any scanpath file, or .nc)")
    cmp.add_argument("human", help="human scanpaths (any scanpath file, or .nc)")
    cmp.add_argument(
        "--model-format", choices=_SCANPATH_FORMATS, help="model file format (detected if omitted)"
    )
    _common(cmp)
    cmp.set_defaults(func=run_compare)

    cons = gaze_sub.add_parser(
        "consistency", help="score human scanpaths against the other humans (the ceiling)"
    )
    cons.add_argument("human", help="human scanpaths (any scanpath file, or .nc)")
    cons.add_argument(
        "--protocol",
        choices=("pairwise", "leave-one-out"),
        default="pairwise",
        help="pairwise: all ordered pairs, clusters from all humans (default); "
        "leave-one-out: each human scored like a model",
    )
    _common(cons)
    cons.set_defaults(func=run_consistency)
    p.set_defaults(func=lambda args: _usage(p))


def _common(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--metric",
        action="append",
        dest="metrics",
        metavar="NAME",
        help="metric to compute (repeatable; default: sequence_score and multimatch); "
        "see cogattn.gaze.compare for the names",
    )
    p.add_argument("--out", required=True, help="output folder (scores.nc, summary.csv)")
    p.add_argument(
        "--format", choices=_SCANPATH_FORMATS, help="human file format (detected if omitted)"
    )
    p.add_argument(
        "--image-size",
        nargs=2,
        type=float,
        metavar=("WIDTH", "HEIGHT"),
        help="score in this frame (e.g. 512 320 for COCO-Search18 models)",
    )
    p.add_argument(
        "--max-fixations",
        type=int,
        default=7,
        help="sequence-score truncation (default 7; 0 = no truncation)",
    )
    p.add_argument("--n-boot", type=int, default=1000, help="bootstrap resamples (default 1000)")
    p.add_argument("--no-progress", action="store_true", help="hide progress bars")


def _usage(parser: argparse.ArgumentParser) -> int:
    parser.print_help()
    return 0


def _config(args: argparse.Namespace):  # -> CompareConfig
    from cogattn.gaze.compare import CompareConfig

    return CompareConfig(
        max_fixations=None if args.max_fixations == 0 else args.max_fixations,
        image_size_px=tuple(args.image_size) if args.image_size else None,
    )


def _write(result, args: argparse.Namespace) -> int:
    from cogattn.data import save
    from cogattn.gaze.compare import summarize

    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    nc = save(result, out / "scores.nc")
    summary = summarize(result, n_boot=args.n_boot).to_dataframe()
    table = out / "summary.csv"
    tmp = table.with_name(".summary.csv.tmp")
    summary.to_csv(tmp)
    tmp.replace(table)
    print(f"protocol: {result.attrs.get('protocol')}")
    print(summary.to_string(float_format=lambda v: f"{v:.4f}"))
    print(f"wrote {nc} and {table}")
    return 0


def _load(path: str, fmt: str | None):
    from cogattn.data import load_scanpaths

    return load_scanpaths(path, format=fmt)


def run_compare(args: argparse.Namespace) -> int:
    from cogattn.gaze import compare

    result = compare(
        _load(args.model, args.model_format),
        _load(args.human, args.format),
        args.metrics or ("sequence_score", "multimatch"),
        config=_config(args),
        progress=False if args.no_progress else None,
    )
    return _write(result, args)


def run_consistency(args: argparse.Namespace) -> int:
    from cogattn.gaze import human_consistency

    result = human_consistency(
        _load(args.human, args.format),
        args.metrics or ("sequence_score", "multimatch"),
        protocol=args.protocol,
        config=_config(args),
        progress=False if args.no_progress else None,
    )
    return _write(result, args)
