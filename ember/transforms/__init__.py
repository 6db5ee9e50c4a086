"""Image transforms on tensors (C, H, W) and batches (N, C, H, W). Mirrors torchvision's.

``ember.transforms.functional`` holds the functions (``F.resize``, ``F.rotate``, ...); the
classes here (``Compose``, ``RandomCrop``, ...) call them, drawing random parameters from
``ember.manual_seed``'s generator or their own ``generator``.
"""

from ember.transforms import functional
from ember.transforms.image import InterpolationMode
from ember.transforms.transforms import *
from ember.transforms.transforms import __all__ as _classes

__all__ = ["InterpolationMode", "functional", *_classes]
