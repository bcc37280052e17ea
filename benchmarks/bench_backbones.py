"""Images/s of a plain forward vs ``features`` vs ``attention`` for shared backbones.

Models (random weights, 224 px): timm ``vit_small_patch16_224``, timm ``resnet50``,
open_clip ``ViT-B-32``; fp32 and bf16 weights. For the timm ViT, the usual research-code way of
getting attention (switch timm's fused attention off and hook ``attn_drop``) is timed as the
peer. The goal is attention extraction within 10 % of the plain forward pass.

Run: ``python -m benchmarks -k backbones [--quick]`` or ``python benchmarks/bench_backbones.py``.
On CPUs without AVX512-BF16 / AMX (check ``lscpu``), bf16 matmuls are emulated and slower
than fp32; with AMX (Intel Sapphire Rapids and later) or on a GPU they are faster.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from collections.abc import Callable

import torch

from cogattn.encoders import load_backbone

MODELS = ("timm:vit_small_patch16_224", "timm:resnet50", "open_clip:ViT-B-32")


def _median_times(fns: dict[str, Callable[[], object]], repeats: int) -> dict[str, float]:
    """Median wall time per call, modes interleaved round-robin so load drift hits all alike."""
    for fn in fns.values():
        fn()  # warm-up
    times: dict[str, list[float]] = {k: [] for k in fns}
    for _ in range(repeats):
        for key, fn in fns.items():
            t0 = time.perf_counter()
            fn()
            times[key].append(time.perf_counter() - t0)
    return {k: statistics.median(v) for k, v in times.items()}


def _unfused_attention_peer(bb, x: torch.Tensor) -> Callable[[], object]:
    """Research-code baseline: timm's non-fused attention path with hooks on attn_drop."""

    def run() -> object:
        probs, handles = [], []
        for blk in bb.model.blocks:
            blk.attn.fused_attn = False
            handles.append(
                blk.attn.attn_drop.register_forward_hook(lambda m, a, o: probs.append(o.float()))
            )
        try:
            with torch.inference_mode():
                bb.model.forward_features(x)
        finally:
            for blk in bb.model.blocks:
                blk.attn.fused_attn = True
            for h in handles:
                h.remove()
        return probs

    return run


def _size_kwargs(name: str, size: int | None) -> dict:
    if size is None:
        return {}
    if name.startswith("open_clip:"):
        return {"force_image_size": size}
    if "vit" in name:
        return {"img_size": size}
    return {"input_size": size}


def bench(
    name: str, dtype: torch.dtype, batch: int, repeats: int, device: str, size: int | None = None
) -> list[dict]:
    torch.manual_seed(0)
    bb = load_backbone(name, dtype=dtype, device=device, **_size_kwargs(name, size))
    x = torch.randn(batch, 3, *bb.input_size)
    xd = x.to(device=bb.device, dtype=bb.dtype)

    def plain() -> object:
        with torch.inference_mode():
            return bb._forward_images(xd)

    fns: dict[str, Callable[[], object]] = {
        "plain": plain,
        "features(last)": lambda: bb.features(x, bb.layer_names[-1:], batch_size=batch),
        "features(all)": lambda: bb.features(x, batch_size=batch),
    }
    if bb.attention_layer_names:
        fns["attention(all)"] = lambda: bb.attention(x, batch_size=batch)
        fns["attention(cls row)"] = lambda: bb.attention(x, batch_size=batch, query=0)
        if name.startswith("timm:vit"):
            fns["peer: unfused+hooks"] = _unfused_attention_peer(bb, xd)
    dt = str(dtype).split(".")[-1]
    times = _median_times(fns, repeats)
    t_plain = times["plain"]
    rows = [dict(model=name, dtype=dt, mode=k, t=t) for k, t in times.items()]
    for r in rows:
        r["img_s"] = batch / r["t"]
        r["ratio"] = r["t"] / t_plain
    return rows


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--quick", action="store_true", help="batch 2 at 64 px, 1 thread, fp32 + bf16 (< 1 min)"
    )
    parser.add_argument("--size", type=int, default=None, help="input size (default 224)")
    parser.add_argument(
        "--threads",
        type=int,
        default=None,
        help="torch CPU threads (default: 1 with --quick, else torch's default); on a loaded "
        "machine several threads spin-wait on each other and timings become meaningless",
    )
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--batch", type=int, default=None)
    parser.add_argument("--repeats", type=int, default=None)
    parser.add_argument("--models", nargs="*", default=list(MODELS))
    args = parser.parse_args(sys.argv[1:] if argv is None else argv)
    batch = args.batch or (2 if args.quick else 16)
    repeats = args.repeats or (3 if args.quick else 7)
    size = args.size or (64 if args.quick else None)
    threads = args.threads or (1 if args.quick else None)
    if threads:
        torch.set_num_threads(threads)
    print(
        f"device={args.device} torch={torch.__version__} threads={torch.get_num_threads()} "
        f"batch={batch} size={size or 224}px repeats={repeats} (median time per call; ratio = time / plain forward)"
    )
    print(f"{'model':28s} {'dtype':9s} {'mode':20s} {'images/s':>10s} {'ratio':>7s}")
    for dtype in (torch.float32, torch.bfloat16):
        for name in args.models:
            for r in bench(name, dtype, batch, repeats, args.device, size):
                print(
                    f"{r['model']:28s} {r['dtype']:9s} {r['mode']:20s} "
                    f"{r['img_s']:10.1f} {r['ratio']:7.3f}",
                    flush=True,
                )
    return 0


if __name__ == "__main__":
    sys.exit(main())
