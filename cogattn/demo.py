"""The main job (``make demo``): run the embedded-default figures and write a short report.

Each step is a named figure recipe (see :mod:`cogattn.figures`); the report lists what every
step wrote, its summary and how long it took. A failing step is reported and the demo exits
non-zero after running the others.
"""

from __future__ import annotations

import argparse
import logging
import sys
import time
import traceback
from collections.abc import Sequence
from pathlib import Path

from tqdm.auto import tqdm

__all__ = ["DEMO_STEPS", "run_demo"]

logger = logging.getLogger(__name__)

# (figure name, options) run by `make demo`, in order.
DEMO_STEPS: tuple[tuple[str, dict], ...] = (
    ("data-summary", {}),
    ("compare-scanpaths", {}),
    ("rsa-profile", {}),
    ("encoder-comparison", {}),
    ("glass-brain-scores", {}),
    ("search-displays", {}),
    ("search-asymmetry", {"progress": False}),
    # random-weight tiny CLIP (no download): shows the algorithm at the spec's 10 × 20 steps
    ("nevaclip-scanpaths", {"backbone": "open_clip:cogattn-test-vit"}),
    ("retinotopy", {}),
    ("aad-window-accuracy", {}),
    ("aad-trf", {}),
)


def run_demo(
    out_dir: str | Path,
    *,
    small: bool = False,
    device: str = "cpu",
    only: Sequence[str] | None = None,
) -> bool:
    """Run the demo steps into ``out_dir``; write ``report.md``; return True if all passed."""
    from cogattn.figures import make_figure

    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    lines = ["# cogattn demo report", "", f"small={small}, device={device}", ""]
    ok = True
    steps = [s for s in DEMO_STEPS if only is None or s[0] in only]
    for name, options in tqdm(steps, desc="demo", unit="figure"):
        start = time.perf_counter()
        try:
            result = make_figure(name, out, small=small, device=device, **options)
        except Exception:  # the report must say which step failed and why
            ok = False
            logger.error("demo step %s failed", name)
            lines += [f"## {name} — FAILED", "", "```", traceback.format_exc().rstrip(), "```", ""]
            continue
        lines += [
            f"## {name}",
            "",
            f"- figure: `{result.figure_path.name}`, data: `{result.data_path.name if result.data_path else '-'}`",
            f"- time: {time.perf_counter() - start:.1f} s",
            "",
            result.report.strip(),
            "",
        ]
    report = out / "report.md"
    tmp = report.with_name(".report.md.tmp")
    tmp.write_text("\n".join(lines) + "\n")
    tmp.replace(report)
    return ok


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m cogattn.demo", description=__doc__)
    parser.add_argument("--out", default="outputs")
    parser.add_argument("--small", action="store_true")
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--only", nargs="*", help="run only these steps")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    ok = run_demo(args.out, small=args.small, device=args.device, only=args.only)
    logger.info("report: %s", Path(args.out) / "report.md")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
