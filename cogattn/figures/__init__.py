"""Named figure recipes: ``make_figure(name, out_dir)`` writes ``NAME.png`` and ``NAME.nc``."""

from cogattn.figures._registry import (
    FigureRecipe,
    FigureResult,
    get_recipe,
    list_figures,
    make_figure,
    register_figure,
    replot_figure,
)

__all__ = [
    "FigureRecipe",
    "FigureResult",
    "get_recipe",
    "list_figures",
    "make_figure",
    "register_figure",
    "replot_figure",
]
