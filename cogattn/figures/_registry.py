"""Figure recipes: ``compute`` (data + models -> xarray Dataset) and ``plot`` (Dataset -> Figure).

Splitting the two lets ``cogattn figure NAME --out DIR`` write the data behind every figure
(netCDF) so that it can be re-plotted later without re-running models
(``cogattn figure NAME --from-data DIR/NAME.nc``).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import xarray as xr

from cogattn._registry import Registry

__all__ = [
    "FigureRecipe",
    "FigureResult",
    "list_figures",
    "make_figure",
    "register_figure",
    "replot_figure",
]

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class FigureRecipe:
    """A named figure.

    Attributes
    ----------
    name : str
        Registry name (``cogattn figure NAME``).
    compute : callable
        ``compute(**options) -> xarray.Dataset``: runs data and models. Must accept
        ``small: bool`` (tiny sizes for CI) and ``device: str``; other keyword options are
        recipe-specific. The dataset's ``attrs["report"]`` (optional) is a short text summary.
    plot : callable
        ``plot(ds) -> matplotlib.figure.Figure`` from the computed data alone.
    description : str
        One line for ``cogattn figure --list``.
    """

    name: str
    compute: Callable[..., xr.Dataset]
    plot: Callable[[xr.Dataset], Any]
    description: str = ""


@dataclass
class FigureResult:
    """What :func:`make_figure` wrote."""

    name: str
    figure_path: Path
    data_path: Path | None
    report: str = ""
    seconds: float = 0.0
    extra: dict[str, Any] = field(default_factory=dict)


_REGISTRY = Registry("figure", entry_point_group="cogattn.figures")

# name -> "module:attr" of a FigureRecipe. Each recipe module holds one figure.
_BUILTIN: dict[str, str] = {
    "data-summary": "cogattn.figures.data_summary:RECIPE",
    "compare-scanpaths": "cogattn.figures.compare_scanpaths:RECIPE",
    "rsa-profile": "cogattn.figures.rsa_profile:RECIPE",
    "encoder-comparison": "cogattn.figures.encoder_comparison:RECIPE",
    "glass-brain-scores": "cogattn.figures.brain_scores:RECIPE",
    "search-asymmetry": "cogattn.figures.search_asymmetry:RECIPE",
    "search-displays": "cogattn.figures.search_displays:RECIPE",
    "nevaclip-scanpaths": "cogattn.figures.nevaclip_scanpaths:RECIPE",
    "retinotopy": "cogattn.figures.retinotopy:RECIPE",
    "aad-window-accuracy": "cogattn.figures.aad_window_accuracy:RECIPE",
    "aad-trf": "cogattn.figures.aad_trf:RECIPE",
}
for _name, _target in _BUILTIN.items():
    _REGISTRY.add(_name, _target)


def register_figure(recipe: FigureRecipe, *, overwrite: bool = False) -> FigureRecipe:
    """Register a :class:`FigureRecipe` under its name."""
    _REGISTRY.add(recipe.name, recipe, overwrite=overwrite)
    return recipe


def list_figures(pattern: str = "*") -> list[str]:
    """Names of registered figures."""
    return _REGISTRY.names(pattern)


def get_recipe(name: str) -> FigureRecipe:
    """The :class:`FigureRecipe` registered as ``name``."""
    recipe = _REGISTRY.get(name)
    if not isinstance(recipe, FigureRecipe):
        raise TypeError(f"figure entry {name!r} is a {type(recipe).__name__}, not a FigureRecipe")
    return recipe


def _write_figure(fig: Any, path: Path) -> None:
    import matplotlib.pyplot as plt

    tmp = path.with_name(f".{path.name}.tmp{path.suffix}")
    fig.savefig(tmp, dpi=120, bbox_inches="tight")
    tmp.replace(path)
    plt.close(fig)


def make_figure(name: str, out_dir: str | Path, **options: Any) -> FigureResult:
    """Compute, save the data (``NAME.nc``) and the figure (``NAME.png``) into ``out_dir``."""
    from cogattn.data import save

    recipe = get_recipe(name)
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    start = time.perf_counter()
    logger.info("figure %s: computing", name)
    ds = recipe.compute(**options)
    data_path = save(ds, out / f"{name}.nc")
    fig = recipe.plot(ds)
    fig_path = out / f"{name}.png"
    _write_figure(fig, fig_path)
    seconds = time.perf_counter() - start
    logger.info("figure %s: wrote %s and %s in %.1f s", name, fig_path, data_path, seconds)
    return FigureResult(name, fig_path, data_path, str(ds.attrs.get("report", "")), seconds)


def replot_figure(name: str, data_path: str | Path, out_dir: str | Path) -> FigureResult:
    """Re-plot a figure from the netCDF written by :func:`make_figure`."""
    from cogattn.data import load

    recipe = get_recipe(name)
    ds = load(data_path)
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    fig_path = out / f"{name}.png"
    _write_figure(recipe.plot(ds), fig_path)
    return FigureResult(name, fig_path, Path(data_path), str(ds.attrs.get("report", "")))
