"""ESPCN, the sub-pixel super-resolution net of PyTorch's ``examples/super_resolution``."""

from __future__ import annotations

from ember import nn
from ember.nn import init
from ember.tensor import Tensor

__all__ = ["ESPCN"]


class ESPCN(nn.Module):
    """Upscale images by ``upscale_factor`` with an efficient sub-pixel conv net (Shi et al. 2016).

    Mirrors the example's ``Net``: conv1 64@5x5, conv2 64@3x3, conv3 32@3x3 with ReLU, conv4 to
    num_channels * r^2 channels, then ``pixel_shuffle``; orthogonal init with ReLU gain for
    conv1-3 and gain 1 for conv4.

    Shapes: input (N, num_channels, H, W) -> (N, num_channels, H * r, W * r).
    """

    def __init__(self, upscale_factor: int, num_channels: int = 1) -> None:
        super().__init__()
        self.relu = nn.ReLU()
        self.conv1 = nn.Conv2d(num_channels, 64, (5, 5), (1, 1), (2, 2))
        self.conv2 = nn.Conv2d(64, 64, (3, 3), (1, 1), (1, 1))
        self.conv3 = nn.Conv2d(64, 32, (3, 3), (1, 1), (1, 1))
        self.conv4 = nn.Conv2d(32, num_channels * upscale_factor**2, (3, 3), (1, 1), (1, 1))
        self.pixel_shuffle = nn.PixelShuffle(upscale_factor)
        self._initialize_weights()

    def _initialize_weights(self) -> None:
        gain = init.calculate_gain("relu")
        init.orthogonal_(self.conv1.weight, gain)
        init.orthogonal_(self.conv2.weight, gain)
        init.orthogonal_(self.conv3.weight, gain)
        init.orthogonal_(self.conv4.weight)

    def forward(self, x: Tensor) -> Tensor:
        x = self.relu(self.conv1(x))
        x = self.relu(self.conv2(x))
        x = self.relu(self.conv3(x))
        return self.pixel_shuffle(self.conv4(x))  # (N, C * r^2, H, W) -> (N, C, H r, W r)
