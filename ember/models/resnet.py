"""ResNet-18/34/50 with torchvision's module names and initialisation.

The attribute names (``conv1``, ``bn1``, ``layer1.0.conv1``, ``layer1.0.downsample.0``,
``fc``, ...) and parameter shapes are torchvision's, so a torchvision state_dict loads as is.
Follows ``torchvision.models.resnet`` (He et al. 2015, with the stride on the 3x3 conv of the
bottleneck: "ResNet v1.5").
"""

from __future__ import annotations

from ember import nn
from ember.tensor import Tensor

__all__ = ["BasicBlock", "Bottleneck", "ResNet", "resnet18", "resnet34", "resnet50"]


def _conv3x3(in_planes: int, out_planes: int, stride: int = 1) -> nn.Conv2d:
    return nn.Conv2d(in_planes, out_planes, 3, stride=stride, padding=1, bias=False)


def _conv1x1(in_planes: int, out_planes: int, stride: int = 1) -> nn.Conv2d:
    return nn.Conv2d(in_planes, out_planes, 1, stride=stride, bias=False)


class BasicBlock(nn.Module):
    """Two 3x3 convs with a residual. Mirrors ``torchvision.models.resnet.BasicBlock``."""

    expansion = 1

    def __init__(
        self, inplanes: int, planes: int, stride: int = 1, downsample: nn.Module | None = None
    ) -> None:
        super().__init__()
        self.conv1 = _conv3x3(inplanes, planes, stride)
        self.bn1 = nn.BatchNorm2d(planes)
        self.relu = nn.ReLU(inplace=True)
        self.conv2 = _conv3x3(planes, planes)
        self.bn2 = nn.BatchNorm2d(planes)
        self.downsample = downsample
        self.stride = stride

    def forward(self, x: Tensor) -> Tensor:
        identity = x if self.downsample is None else self.downsample(x)
        out = self.relu(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        return self.relu(out + identity)


class Bottleneck(nn.Module):
    """1x1 reduce, 3x3 (strided), 1x1 expand by 4, with a residual.

    Mirrors ``torchvision.models.resnet.Bottleneck`` (groups=1, base_width=64).
    """

    expansion = 4

    def __init__(
        self, inplanes: int, planes: int, stride: int = 1, downsample: nn.Module | None = None
    ) -> None:
        super().__init__()
        self.conv1 = _conv1x1(inplanes, planes)
        self.bn1 = nn.BatchNorm2d(planes)
        self.conv2 = _conv3x3(planes, planes, stride)
        self.bn2 = nn.BatchNorm2d(planes)
        self.conv3 = _conv1x1(planes, planes * self.expansion)
        self.bn3 = nn.BatchNorm2d(planes * self.expansion)
        self.relu = nn.ReLU(inplace=True)
        self.downsample = downsample
        self.stride = stride

    def forward(self, x: Tensor) -> Tensor:
        identity = x if self.downsample is None else self.downsample(x)
        out = self.relu(self.bn1(self.conv1(x)))
        out = self.relu(self.bn2(self.conv2(out)))
        out = self.bn3(self.conv3(out))
        return self.relu(out + identity)


class ResNet(nn.Module):
    """Classify images with a residual network. Mirrors ``torchvision.models.ResNet``.

    Shapes: input (N, 3, H, W) -> logits (N, num_classes).

    Args:
        block: ``BasicBlock`` or ``Bottleneck``.
        layers: number of blocks in each of the four stages.
        num_classes: size of the final ``fc`` layer.
        zero_init_residual: zero the last BatchNorm weight of every block, as torchvision.
        stem: ``"imagenet"`` (7x7 stride-2 conv + 3x3 max-pool, torchvision's) or ``"cifar"``
            (3x3 stride-1 conv, no max-pool, for 32x32 inputs).

    Differences from PyTorch: ``groups``, ``width_per_group``, dilation and ``norm_layer``
    are not offered; ``stem`` is Ember's (torchvision has the ImageNet stem only).
    """

    def __init__(
        self,
        block: type[BasicBlock | Bottleneck],
        layers: list[int],
        num_classes: int = 1000,
        zero_init_residual: bool = False,
        stem: str = "imagenet",
    ) -> None:
        super().__init__()
        if stem not in ("imagenet", "cifar"):
            raise ValueError(f"stem must be 'imagenet' or 'cifar', got {stem!r}")
        self.inplanes = 64
        if stem == "imagenet":
            self.conv1 = nn.Conv2d(3, 64, 7, stride=2, padding=3, bias=False)
        else:
            self.conv1 = nn.Conv2d(3, 64, 3, stride=1, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(64)
        self.relu = nn.ReLU(inplace=True)
        self.maxpool = nn.MaxPool2d(3, stride=2, padding=1) if stem == "imagenet" else nn.Identity()
        self.layer1 = self._make_layer(block, 64, layers[0])
        self.layer2 = self._make_layer(block, 128, layers[1], stride=2)
        self.layer3 = self._make_layer(block, 256, layers[2], stride=2)
        self.layer4 = self._make_layer(block, 512, layers[3], stride=2)
        self.avgpool = nn.AdaptiveAvgPool2d((1, 1))
        self.fc = nn.Linear(512 * block.expansion, num_classes)
        self._init_weights(zero_init_residual)

    def _init_weights(self, zero_init_residual: bool) -> None:
        for m in self.modules():
            if isinstance(m, nn.Conv2d):
                nn.init.kaiming_normal_(m.weight, mode="fan_out", nonlinearity="relu")
            elif isinstance(m, nn.BatchNorm2d):
                nn.init.constant_(m.weight, 1)
                nn.init.constant_(m.bias, 0)
        if zero_init_residual:
            for m in self.modules():
                if isinstance(m, Bottleneck):
                    nn.init.constant_(m.bn3.weight, 0)
                elif isinstance(m, BasicBlock):
                    nn.init.constant_(m.bn2.weight, 0)

    def _make_layer(
        self, block: type[BasicBlock | Bottleneck], planes: int, blocks: int, stride: int = 1
    ) -> nn.Sequential:
        downsample = None
        # A projection shortcut only where the shape changes (stride or channel count).
        if stride != 1 or self.inplanes != planes * block.expansion:
            downsample = nn.Sequential(
                _conv1x1(self.inplanes, planes * block.expansion, stride),
                nn.BatchNorm2d(planes * block.expansion),
            )
        layers = [block(self.inplanes, planes, stride, downsample)]
        self.inplanes = planes * block.expansion
        layers += [block(self.inplanes, planes) for _ in range(1, blocks)]
        return nn.Sequential(*layers)

    def forward(self, x: Tensor) -> Tensor:
        x = self.maxpool(self.relu(self.bn1(self.conv1(x))))  # (N, 64, H/4, W/4) for imagenet
        x = self.layer4(self.layer3(self.layer2(self.layer1(x))))  # (N, 512*exp, H/32, W/32)
        x = self.avgpool(x).flatten(1)  # (N, 512*exp)
        return self.fc(x)


def resnet18(
    num_classes: int = 1000, stem: str = "imagenet", zero_init_residual: bool = False
) -> ResNet:
    """Build ResNet-18 (BasicBlock, [2, 2, 2, 2]). Mirrors ``torchvision.models.resnet18``.

    Differences from PyTorch: no ``weights`` argument (load a state_dict instead); ``stem``.
    """
    return ResNet(BasicBlock, [2, 2, 2, 2], num_classes, zero_init_residual, stem)


def resnet34(
    num_classes: int = 1000, stem: str = "imagenet", zero_init_residual: bool = False
) -> ResNet:
    """Build ResNet-34 (BasicBlock, [3, 4, 6, 3]). Mirrors ``torchvision.models.resnet34``.

    Differences from PyTorch: no ``weights`` argument (load a state_dict instead); ``stem``.
    """
    return ResNet(BasicBlock, [3, 4, 6, 3], num_classes, zero_init_residual, stem)


def resnet50(
    num_classes: int = 1000, stem: str = "imagenet", zero_init_residual: bool = False
) -> ResNet:
    """Build ResNet-50 (Bottleneck, [3, 4, 6, 3]). Mirrors ``torchvision.models.resnet50``.

    Differences from PyTorch: no ``weights`` argument (load a state_dict instead); ``stem``.
    """
    return ResNet(Bottleneck, [3, 4, 6, 3], num_classes, zero_init_residual, stem)
