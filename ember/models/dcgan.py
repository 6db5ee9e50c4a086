"""The DCGAN generator and discriminator of PyTorch's ``examples/dcgan`` (Radford et al. 2015).

``Generator.main`` and ``Discriminator.main`` are the example's ``Sequential``s, so their
state_dict keys (``main.0.weight``, ``main.1.running_mean``, ...) match it.
"""

from __future__ import annotations

from ember import nn
from ember.tensor import Tensor

__all__ = ["Discriminator", "Generator", "weights_init"]


def _num_stages(image_size: int) -> int:
    if image_size not in (32, 64):
        raise ValueError(f"DCGAN supports image_size 32 or 64, got {image_size}")
    return 3 if image_size == 32 else 4  # stride-2 stages between 4x4 and the image


def weights_init(m: nn.Module) -> None:
    """Initialise convs N(0, 0.02) and BatchNorm weight N(1, 0.02), bias 0, as the example.

    Use as ``model.apply(weights_init)``; both DCGAN modules already do so.
    """
    if isinstance(m, nn.Conv2d | nn.ConvTranspose2d):
        nn.init.normal_(m.weight, 0.0, 0.02)
    elif isinstance(m, nn.BatchNorm2d):
        nn.init.normal_(m.weight, 1.0, 0.02)
        nn.init.zeros_(m.bias)


class Generator(nn.Module):
    """Map noise (N, nz, 1, 1) to images (N, nc, image_size, image_size) in (-1, 1).

    Mirrors the example's ``Generator``: a 4x4 transposed conv from the noise, then stride-2
    transposed convs halving the channels (ngf * 8, 4, 2, 1 for 64x64; ngf * 4, 2, 1 for
    32x32), BatchNorm + ReLU between, Tanh at the end.
    """

    def __init__(self, nz: int = 100, ngf: int = 64, nc: int = 3, image_size: int = 64) -> None:
        super().__init__()
        stages = _num_stages(image_size)
        width = ngf * 2 ** (stages - 1)
        layers: list[nn.Module] = [
            nn.ConvTranspose2d(nz, width, 4, 1, 0, bias=False),  # (N, width, 4, 4)
            nn.BatchNorm2d(width),
            nn.ReLU(True),
        ]
        for _ in range(stages - 1):  # each doubles H and W, halves the channels
            layers += [
                nn.ConvTranspose2d(width, width // 2, 4, 2, 1, bias=False),
                nn.BatchNorm2d(width // 2),
                nn.ReLU(True),
            ]
            width //= 2
        layers += [nn.ConvTranspose2d(width, nc, 4, 2, 1, bias=False), nn.Tanh()]
        self.main = nn.Sequential(*layers)
        self.apply(weights_init)

    def forward(self, input: Tensor) -> Tensor:
        return self.main(input)


class Discriminator(nn.Module):
    """Score images (N, nc, image_size, image_size) as real: probabilities (N,).

    Mirrors the example's ``Discriminator``: stride-2 4x4 convs doubling the channels
    (ndf, 2, 4, 8 for 64x64), BatchNorm (not after the first) + LeakyReLU(0.2), then a 4x4
    conv to one logit and a Sigmoid.
    """

    def __init__(self, ndf: int = 64, nc: int = 3, image_size: int = 64) -> None:
        super().__init__()
        stages = _num_stages(image_size)
        layers: list[nn.Module] = [
            nn.Conv2d(nc, ndf, 4, 2, 1, bias=False),  # (N, ndf, S/2, S/2)
            nn.LeakyReLU(0.2, inplace=True),
        ]
        width = ndf
        for _ in range(stages - 1):  # each halves H and W, doubles the channels
            layers += [
                nn.Conv2d(width, width * 2, 4, 2, 1, bias=False),
                nn.BatchNorm2d(width * 2),
                nn.LeakyReLU(0.2, inplace=True),
            ]
            width *= 2
        layers += [nn.Conv2d(width, 1, 4, 1, 0, bias=False), nn.Sigmoid()]  # (N, 1, 1, 1)
        self.main = nn.Sequential(*layers)
        self.apply(weights_init)

    def forward(self, input: Tensor) -> Tensor:
        return self.main(input).reshape(-1, 1).squeeze(1)  # (N,)
