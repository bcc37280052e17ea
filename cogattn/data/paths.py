"""Where the real human data lives.

The test suite and the demo read the human data shipped beside the checkout
(``../shared/data``). Users point ``COGATTN_SHARED_DATA`` at their own copy.
"""

from __future__ import annotations

import os
from pathlib import Path

__all__ = ["shared_data_dir"]

_ENV = "COGATTN_SHARED_DATA"


def shared_data_dir(*, required: bool = True) -> Path | None:
    """Locate the shared human-data folder.

    Looks at ``$COGATTN_SHARED_DATA``, then ``../shared/data`` relative to the current
    directory and to the cogattn source checkout.

    Parameters
    ----------
    required : bool
        Raise ``FileNotFoundError`` (saying how to supply the folder) when it is not found;
        otherwise return ``None``.
    """
    candidates = []
    if os.environ.get(_ENV):
        candidates.append(Path(os.environ[_ENV]))
    candidates.append(Path.cwd().parent / "shared" / "data")
    candidates.append(Path(__file__).resolve().parents[3] / "shared" / "data")
    for path in candidates:
        if path.is_dir():
            return path
    if required:
        raise FileNotFoundError(
            f"shared human-data folder not found (looked in {[str(c) for c in candidates]}); "
            f"set {_ENV} to the folder holding coco_search18_tp_val/, kriegeskorte92/, ..."
        )
    return None
