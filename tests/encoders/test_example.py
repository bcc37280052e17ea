"""The encoders gallery example runs at tiny size and draws one panel per head."""

from __future__ import annotations

import runpy
from pathlib import Path

import matplotlib.pyplot as plt

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "encoders" / "plot_attention_heads.py"


def test_plot_attention_heads_small(monkeypatch):
    monkeypatch.setenv("COGATTN_EXAMPLE_SMALL", "1")
    ns = runpy.run_path(str(EXAMPLE), run_name="__main__")
    fig = plt.gcf()
    # stimulus + 3 heads (ViT-Tiny) + rollout = 5 drawn panels
    drawn = [ax for ax in fig.axes if ax.images]
    assert len(drawn) == 5
    assert "weights" in fig._suptitle.get_text()
    assert ns["maps"].shape == (1, 1, 3, 512, 512)
