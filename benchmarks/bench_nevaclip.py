"""Scanpaths/s of NevaClip (10 fixations × 20 signed-gradient steps) with a CLIP ViT-B-32.

Random weights (speed does not depend on them), 224-px inputs, fp32 vs bf16 weights, batch 1
vs 16. Every NevaClip step is one forward and one backward pass (to the fixation) of the
foveated batch, and all 200 steps of a scanpath cost the same, so by default the step time
is measured (median over repeats of a few steps, through ``NevaClip.fixate_batch``) and
scanpaths/s is extrapolated as ``batch / (200 · step time)``; ``--exact`` times complete
10 × 20 scanpaths instead (use it on a GPU).

The peer is the per-image loop of the original code path (batch 1, fp32): the ratios say
what batching and bf16 buy. On CPUs without AVX512-BF16 / AMX bf16 is emulated and slower.

Run: ``python -m benchmarks -k nevaclip [--quick] [--device cuda] [--exact]``.
``--quick`` (< 1 min on a laptop CPU) uses cogattn's tiny test CLIP at 64 px, batches 1
and 4, and says so.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time

import torch

from cogattn.gaze.models.nevaclip import NevaClip, NevaClipConfig

N_FIXATIONS, N_ITERATIONS = 10, 20


def _sync(device: str) -> None:
    if device.startswith("cuda"):
        torch.cuda.synchronize()


def _time_steps(model: NevaClip, batch: int, *, steps: int, repeats: int, device: str) -> float:
    """Median seconds per NevaClip step (forward + backward of a foveated batch)."""
    s = model.input_size_px
    gen = torch.Generator().manual_seed(0)
    x = torch.rand(batch, 3, s, s, generator=gen).to(device)
    dim = model.embed_texts(["a photo"]).shape[1]
    tgt = torch.randn(batch, dim, generator=gen)
    model.fixate_batch(x, tgt, n_fixations=1)  # warm-up
    times = []
    for _ in range(repeats):
        _sync(device)
        t0 = time.perf_counter()
        model.fixate_batch(x, tgt, n_fixations=1)
        _sync(device)
        times.append((time.perf_counter() - t0) / steps)
    return statistics.median(times)


def _time_exact(model: NevaClip, batch: int, *, device: str) -> float:
    s = model.input_size_px
    gen = torch.Generator().manual_seed(0)
    x = torch.rand(batch, 3, s, s, generator=gen).to(device)
    tgt = torch.randn(batch, model.embed_texts(["a photo"]).shape[1], generator=gen)
    model.fixate_batch(x, tgt, n_fixations=1)  # warm-up
    _sync(device)
    t0 = time.perf_counter()
    model.fixate_batch(x, tgt, n_fixations=N_FIXATIONS)
    _sync(device)
    return time.perf_counter() - t0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="tiny CLIP, batches 1 and 4")
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--backbone", default="open_clip:ViT-B-32")
    parser.add_argument("--batches", type=int, nargs="+", default=[1, 16])
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--exact", action="store_true", help="time complete 10x20 scanpaths")
    args = parser.parse_args(sys.argv[1:] if argv is None else argv)
    backbone, batches = args.backbone, args.batches
    if args.quick:
        backbone, batches = "open_clip:cogattn-test-vit", [1, 4]
    steps = 3
    print(
        f"NevaClip {N_FIXATIONS} fixations x {N_ITERATIONS} steps, {backbone} (random weights), "
        f"device {args.device}, torch threads {torch.get_num_threads()}"
        + (" [--quick: tiny test CLIP, not ViT-B-32]" if args.quick else "")
    )
    rows = []
    for dtype_name, dtype in (("fp32", None), ("bf16", torch.bfloat16)):
        model = NevaClip(
            backbone,
            weights=None,
            device=args.device,
            dtype=dtype,
            config=NevaClipConfig(n_iterations=N_ITERATIONS if args.exact else steps),
        )
        for b in batches:
            if args.exact:
                total = _time_exact(model, b, device=args.device)
                per_s = b / total
                step = total / (N_FIXATIONS * N_ITERATIONS)
            else:
                step = _time_steps(model, b, steps=steps, repeats=args.repeats, device=args.device)
                per_s = b / (step * N_FIXATIONS * N_ITERATIONS)
            rows.append((dtype_name, b, step, per_s))
            print(
                f"  {dtype_name:4s} batch {b:3d}: {1e3 * step:9.1f} ms/step  "
                f"{per_s:9.4f} scanpaths/s" + ("" if args.exact else " (extrapolated)"),
                flush=True,
            )
    base = next(r for r in rows if r[0] == "fp32" and r[1] == batches[0])
    print(f"ratios vs the per-image fp32 loop (batch {batches[0]}, {base[3]:.4f} scanpaths/s):")
    for dtype_name, b, _, per_s in rows:
        print(f"  {dtype_name:4s} batch {b:3d}: x{per_s / base[3]:.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
