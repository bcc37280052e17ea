"""``cogattn brain fit ...`` (fit voxelwise encoders to a new fMRI dataset) and
``cogattn brain simulate --out DIR`` (a synthetic dataset to try it on): thin wrappers over
:mod:`cogattn.brain.fit_dataset`."""

from __future__ import annotations

import argparse
import json


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("brain", help="fMRI encoding: fit encoders to a new dataset")
    brain_sub = p.add_subparsers(dest="brain_command", metavar="ACTION")

    fit = brain_sub.add_parser(
        "fit",
        help="fit a voxelwise ridge encoder (features -> responses) and write maps",
        description=(
            "Fit a ridge encoder with one alpha per voxel to a BOLD run (4-D NIfTI + mask + "
            "events) or to per-stimulus responses (a Responses netCDF), score it on held-out "
            "data and write: model.joblib, scores.nc, score_r.nii.gz, best_alpha.nii.gz, "
            "score_map.png, roi_summary.csv, fit_info.json."
        ),
    )
    src = fit.add_argument_group("responses (one of)")
    src.add_argument("--bold", help="4-D BOLD NIfTI (one volume per TR)")
    src.add_argument("--responses", help="Responses netCDF (cogattn data convert writes one)")
    fit.add_argument("--mask", help="brain mask NIfTI in the BOLD's space (non-zero = in)")
    fit.add_argument(
        "--events",
        help="events CSV/TSV: onset (s), duration (s), stimulus (file name in --stimuli)",
    )
    fit.add_argument("--tr", type=float, help="repetition time in s (default: the header's)")
    fit.add_argument(
        "--roi",
        action="append",
        default=[],
        metavar="NAME=PATH",
        help="ROI mask NIfTI in the BOLD's space (repeatable; ROIs may overlap)",
    )
    feat = fit.add_argument_group("features (one of)")
    feat.add_argument("--features", help="features netCDF (stimulus × …)")
    feat.add_argument("--stimuli", help="folder with the stimulus images")
    fit.add_argument("--backbone", help="backbone name, e.g. timm:vit_base_patch16_224")
    fit.add_argument("--layer", help="layer name (or the variable of --features)")
    fit.add_argument(
        "--weights",
        default="hub",
        help="backbone weights: 'hub' (pretrained, default), a checkpoint path, or 'random'",
    )
    fit.add_argument(
        "--backbone-kwargs", default="{}", help="JSON constructor options, e.g. '{\"depth\": 2}'"
    )
    fit.add_argument("--pool", choices=("mean", "none"), default="mean", help="feature pooling")
    fit.add_argument(
        "--alphas",
        help="alpha grid: 'START:STOP:NUM' in log10 (e.g. -1:7:17) or comma-separated values",
    )
    fit.add_argument(
        "--cv", help="'loo' or a number of contiguous folds (default: 5 for runs, loo for stimuli)"
    )
    fit.add_argument("--delays", default="1,2,3,4", help="FIR delays in TRs (runs only)")
    fit.add_argument("--test-fraction", type=float, default=0.2, help="held-out share (0-1)")
    fit.add_argument(
        "--standardize",
        choices=("x", "y", "both", "none"),
        default="x",
        help="standardise features / responses (training statistics only)",
    )
    fit.add_argument("--seed", type=int, default=0, help="seed of the stimulus split")
    fit.add_argument("--device", default="cpu", help="torch device (cpu, cuda, cuda:1, mps)")
    fit.add_argument("--out", required=True, help="output folder")
    fit.set_defaults(func=run_fit)

    sim = brain_sub.add_parser(
        "simulate",
        help="write a synthetic BOLD run with known weights (inside the MNI152 mask)",
    )
    sim.add_argument("--out", required=True, help="output folder")
    sim.add_argument("--downsample", type=int, default=4, help="MNI 2 mm grid subsampling")
    sim.add_argument("--seed", type=int, default=0)
    sim.set_defaults(func=run_simulate)
    p.set_defaults(func=lambda args: _usage(p))


def _usage(parser: argparse.ArgumentParser) -> int:
    parser.print_help()
    return 0


def _alphas(text: str | None) -> tuple[float, ...] | None:
    if not text:
        return None
    if ":" in text:
        start, stop, num = text.split(":")
        import numpy as np

        return tuple(float(a) for a in np.logspace(float(start), float(stop), int(num)))
    return tuple(float(a) for a in text.split(","))


def run_fit(args: argparse.Namespace) -> int:
    from cogattn.brain.fit_dataset import FitConfig, run_fit

    rois = {}
    for item in args.roi:
        name, sep, path = item.partition("=")
        if not sep or not name or not path:
            raise ValueError(f"--roi expects NAME=PATH, got {item!r}")
        rois[name] = path
    try:
        backbone_kwargs = json.loads(args.backbone_kwargs)
    except json.JSONDecodeError as err:
        raise ValueError(f"--backbone-kwargs is not valid JSON: {err}") from None
    cv = None if args.cv is None else (args.cv if args.cv == "loo" else int(args.cv))
    config = FitConfig(
        alphas=_alphas(args.alphas),
        cv=cv,
        delays_tr=tuple(int(d) for d in args.delays.split(",")),
        test_fraction=args.test_fraction,
        standardize=None if args.standardize == "none" else args.standardize,
        pool=args.pool,
        seed=args.seed,
        device=args.device,
    )
    result, written = run_fit(
        out_dir=args.out,
        bold=args.bold,
        mask=args.mask,
        responses=args.responses,
        events=args.events,
        stimuli=args.stimuli,
        backbone=args.backbone,
        layer=args.layer,
        weights=None if args.weights == "random" else args.weights,
        backbone_kwargs=backbone_kwargs,
        features=args.features,
        rois=rois,
        tr_s=args.tr,
        config=config,
    )
    info = result.info
    print(
        f"fitted {info['n_voxels']} voxels ({info['mode']}: {info['n_train']} train / "
        f"{info['n_test']} test rows, {info['n_features']} features, cv={info['cv']})"
    )
    table = result.roi_table
    cols = [c for c in ("roi", "n_voxels", "r_mean", "r_median", "score_mean") if c in table]
    print(table[cols].to_string(index=False, float_format=lambda v: f"{v:.3f}"))
    for name, path in written.items():
        print(f"wrote {name}: {path}")
    return 0


def run_simulate(args: argparse.Namespace) -> int:
    from cogattn.brain.fit_dataset import simulate_dataset

    sim = simulate_dataset(args.out, downsample=args.downsample, seed=args.seed)
    print(f"simulated {sim.signal.size} voxels ({int(sim.signal.sum())} with signal)")
    for name, path in sim.paths.items():
        print(f"wrote {name}: {path}")
    roi_args = " ".join(f"--roi {k[4:]}={v}" for k, v in sim.paths.items() if k.startswith("roi_"))
    print(
        "try: cogattn brain fit "
        f"--bold {sim.paths['bold']} --mask {sim.paths['mask']} --events {sim.paths['events']} "
        f"--features {sim.paths['features']} {roi_args} --out {args.out}/fit"
    )
    return 0
