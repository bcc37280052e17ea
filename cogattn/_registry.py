"""A small name -> factory registry shared by backbones, gaze models and figures (private).

Entries are either callables or lazy ``"module:attribute"`` strings, so that heavy imports
run only when an entry is created. Registering a name twice warns. Third-party packages add
entries through the ``entry_points`` group given to the registry.
"""

from __future__ import annotations

import difflib
import fnmatch
import importlib
import warnings
from collections.abc import Callable
from importlib.metadata import entry_points
from typing import Any

__all__ = ["Registry"]


class Registry:
    """Map names to factories; resolve lazily; suggest close matches for unknown names.

    Parameters
    ----------
    kind : str
        What the registry holds, used in messages ("gaze model", "figure").
    entry_point_group : str, optional
        ``importlib.metadata`` entry-point group scanned once, on first lookup.
    """

    def __init__(self, kind: str, entry_point_group: str | None = None) -> None:
        self.kind = kind
        self._entries: dict[str, Callable[..., Any] | str] = {}
        self._group = entry_point_group
        self._scanned = entry_point_group is None

    def add(self, name: str, factory: Callable[..., Any] | str, *, overwrite: bool = False) -> None:
        """Register ``factory`` (a callable or ``"module:attr"``) under ``name``."""
        if name in self._entries and not overwrite:
            warnings.warn(
                f"{self.kind} {name!r} is already registered; the new entry replaces it",
                UserWarning,
                stacklevel=3,
            )
        self._entries[name] = factory

    def register(
        self, name: str, *, overwrite: bool = False
    ) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
        """Decorator form of :meth:`add`."""

        def deco(factory: Callable[..., Any]) -> Callable[..., Any]:
            self.add(name, factory, overwrite=overwrite)
            return factory

        return deco

    def _scan_entry_points(self) -> None:
        if self._scanned:
            return
        self._scanned = True
        for ep in entry_points(group=self._group):
            self._entries.setdefault(ep.name, ep.value)

    def names(self, pattern: str = "*") -> list[str]:
        """Sorted registered names matching a shell-style ``pattern``."""
        self._scan_entry_points()
        return sorted(n for n in self._entries if fnmatch.fnmatch(n, pattern))

    def __contains__(self, name: str) -> bool:
        self._scan_entry_points()
        return name in self._entries

    def get(self, name: str) -> Callable[..., Any]:
        """Return the factory for ``name``; ``KeyError`` with close matches if unknown."""
        self._scan_entry_points()
        if name not in self._entries:
            close = difflib.get_close_matches(name, list(self._entries), n=3, cutoff=0.5)
            hint = f"; did you mean {', '.join(map(repr, close))}?" if close else ""
            raise KeyError(
                f"unknown {self.kind} {name!r}{hint} (available: {', '.join(sorted(self._entries))})"
            )
        entry = self._entries[name]
        if isinstance(entry, str):
            module, _, attr = entry.partition(":")
            obj: Any = importlib.import_module(module)
            for part in attr.split("."):
                obj = getattr(obj, part)
            self._entries[name] = entry = obj
        return entry
