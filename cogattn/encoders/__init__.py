"""Shared attention backbones (timm, open_clip, Hugging Face)."""
