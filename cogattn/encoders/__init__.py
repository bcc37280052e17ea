"""Shared attention backbones: one API over timm, open_clip and Hugging Face models.

>>> from cogattn.encoders import load_backbone
>>> bb = load_backbone("timm:vit_tiny_patch16_224", img_size=64, depth=2)  # random weights
>>> feats = bb.features(images, layers=["blocks.1"])  # doctest: +SKIP
>>> attn = bb.attention(images)  # (stimulus, layer, head, query, key)  # doctest: +SKIP

See ``docs/encoders.md`` for the layer names per family, the weights policy, the
differentiable path and the feature cache.
"""

from cogattn.encoders.attention import attention_rollout, cls_attention_maps
from cogattn.encoders.backbone import Backbone, InputSpec, TokenLayout, UnknownBackboneError
from cogattn.encoders.cache import FeatureCache
from cogattn.encoders.registry import list_backbones, load_backbone, register_backbone
from cogattn.encoders.weights import CheckpointMismatchError, WeightsUnavailableError

__all__ = [
    "Backbone",
    "CheckpointMismatchError",
    "FeatureCache",
    "InputSpec",
    "TokenLayout",
    "UnknownBackboneError",
    "WeightsUnavailableError",
    "attention_rollout",
    "cls_attention_maps",
    "list_backbones",
    "load_backbone",
    "register_backbone",
]
