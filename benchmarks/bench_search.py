"""Displays/s of eccNET visual search: batched vs one display at a time, CPU and GPU.

The original eccNET code (TensorFlow) searches one display at a time; cogattn batches the
field-of-view forward passes of all displays still searching. This benchmark times
``EccNet.search`` on a batch of orientation displays (``homo_t0``, set size 8; random VGG16
weights, which do not change the cost) with ``batch_size=1`` (the per-display loop, the
peer) and ``batch_size=B``, each search capped at a fixed number of fixations so that every
mode does the same work, and prints medians, displays/s and the ratio. On a GPU it also
times bf16.

Run: ``python -m benchmarks -k search [--quick]`` or ``python benchmarks/bench_search.py``.
``--quick``: a tiny random VGG-shaped CNN at 6 px/deg (< 1 min on a CPU).
Options: ``--px-per-deg`` (default 10 on CPU, 30 — the paper's — on GPU), ``--n-displays``,
``--fixations``, ``--device``.
"""

from __future__ import annotations

import argparse
import dataclasses
import statistics
import sys
import time

import torch

from cogattn.gaze.models._search import SearchConfig
from cogattn.gaze.models.eccnet import EccNet
from cogattn.stimuli.search_arrays import asymmetry_displays


def _median_time(fn, repeats: int) -> float:
    fn()  # warm-up (mask caches, cuDNN autotune)
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def _run(
    device: str, backbone: str, ppd: float, n: int, fixations: int, repeats: int, dtype
) -> None:
    displays = asymmetry_displays(
        "homo_t0", set_sizes=(8,), n_per_set_size=n, px_per_deg=ppd, seed=0
    )
    config = SearchConfig(max_fixations=fixations, ior="object", recognise_first_fixation=False)
    # no target masks -> every display runs to the cap: identical work in every mode
    displays = [dataclasses.replace(d, target_mask=None) for d in displays]
    side = displays[0].image.shape[0]
    print(
        f"device={device} backbone={backbone} dtype={str(dtype).replace('torch.', '')} "
        f"{n} displays of {side}x{side} px ({ppd:g} px/deg), {fixations} fixations each"
    )
    results = {}
    for batch in (1, n):
        model = EccNet(backbone, device=device, batch_size=batch, search=config, dtype=dtype)

        def go(model=model):
            model.search(displays, progress=False)
            if device.startswith("cuda"):
                torch.cuda.synchronize()

        results[batch] = _median_time(go, repeats)
        label = "per-display loop (peer)" if batch == 1 else f"batched (batch_size={batch})"
        print(
            f"  {label:28s} median {results[batch]:8.3f} s   {n / results[batch]:8.2f} displays/s"
        )
    print(f"  speed-up batched / per-display: {results[1] / results[n]:.2f}x")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--device", default=None)
    parser.add_argument("--px-per-deg", type=float, default=None)
    parser.add_argument("--n-displays", type=int, default=None)
    parser.add_argument("--fixations", type=int, default=None)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args(sys.argv[1:])
    devices = (
        [args.device] if args.device else ["cpu"] + (["cuda"] if torch.cuda.is_available() else [])
    )
    for device in devices:
        gpu = device.startswith("cuda")
        if args.quick:
            backbone, ppd, n, fix = "tiny-vgg", 6.0, 4, 3
        else:
            backbone = "timm:vgg16"
            ppd = args.px_per_deg or (30.0 if gpu else 10.0)
            n = args.n_displays or (16 if gpu else 4)
            fix = args.fixations or (6 if gpu else 3)
        repeats = 1 if args.quick else args.repeats
        _run(device, backbone, ppd, n, fix, repeats, torch.float32)
        if gpu and not args.quick:
            _run(device, backbone, ppd, n, fix, repeats, torch.bfloat16)
    return 0


if __name__ == "__main__":
    sys.exit(main())
