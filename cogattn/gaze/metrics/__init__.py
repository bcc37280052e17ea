"""Scanpath, saliency and search-efficiency metrics (pure, vectorised functions)."""
