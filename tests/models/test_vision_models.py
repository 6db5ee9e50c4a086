"""Vision models of the zoo against PyTorch: LeNet5, ResNet, DCGAN, ESPCN.

PyTorch does not ship these (torchvision is not installed), so each is written compactly in
torch here, from the public reference code (torchvision's resnet.py, examples/dcgan,
examples/super_resolution); torch's state_dict is copied into Ember's and outputs and
gradients are compared (check_module).
"""

import math

import numpy as np
import pytest
import torch
from torch import nn as tnn
from torch.nn import functional as TF

import ember
from ember import models
from ember.models import dcgan
from tests.helpers import assert_same, check_module, state_dict_to_ember, to_numpy

# -- torch references ------------------------------------------------------------------------


class TorchLeNet5(tnn.Module):
    def __init__(self, num_classes=10):
        super().__init__()
        self.conv1 = tnn.Conv2d(1, 6, 5, padding=2)
        self.conv2 = tnn.Conv2d(6, 16, 5)
        self.fc1 = tnn.Linear(400, 120)
        self.fc2 = tnn.Linear(120, 84)
        self.fc3 = tnn.Linear(84, num_classes)

    def forward(self, x):
        x = TF.max_pool2d(TF.relu(self.conv1(x)), 2)
        x = TF.max_pool2d(TF.relu(self.conv2(x)), 2)
        x = torch.flatten(x, 1)
        return self.fc3(TF.relu(self.fc2(TF.relu(self.fc1(x)))))


# torchvision.models.resnet, condensed (groups=1, base_width=64, no dilation).
class TorchBasicBlock(tnn.Module):
    expansion = 1

    def __init__(self, inplanes, planes, stride=1, downsample=None):
        super().__init__()
        self.conv1 = tnn.Conv2d(inplanes, planes, 3, stride, 1, bias=False)
        self.bn1 = tnn.BatchNorm2d(planes)
        self.relu = tnn.ReLU(inplace=True)
        self.conv2 = tnn.Conv2d(planes, planes, 3, 1, 1, bias=False)
        self.bn2 = tnn.BatchNorm2d(planes)
        self.downsample = downsample

    def forward(self, x):
        identity = x
        out = self.relu(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        if self.downsample is not None:
            identity = self.downsample(x)
        out += identity
        return self.relu(out)


class TorchBottleneck(tnn.Module):
    expansion = 4

    def __init__(self, inplanes, planes, stride=1, downsample=None):
        super().__init__()
        self.conv1 = tnn.Conv2d(inplanes, planes, 1, bias=False)
        self.bn1 = tnn.BatchNorm2d(planes)
        self.conv2 = tnn.Conv2d(planes, planes, 3, stride, 1, bias=False)
        self.bn2 = tnn.BatchNorm2d(planes)
        self.conv3 = tnn.Conv2d(planes, planes * 4, 1, bias=False)
        self.bn3 = tnn.BatchNorm2d(planes * 4)
        self.relu = tnn.ReLU(inplace=True)
        self.downsample = downsample

    def forward(self, x):
        identity = x
        out = self.relu(self.bn1(self.conv1(x)))
        out = self.relu(self.bn2(self.conv2(out)))
        out = self.bn3(self.conv3(out))
        if self.downsample is not None:
            identity = self.downsample(x)
        out += identity
        return self.relu(out)


class TorchResNet(tnn.Module):
    def __init__(self, block, layers, num_classes=1000, stem="imagenet"):
        super().__init__()
        self.inplanes = 64
        if stem == "imagenet":
            self.conv1 = tnn.Conv2d(3, 64, 7, 2, 3, bias=False)
        else:
            self.conv1 = tnn.Conv2d(3, 64, 3, 1, 1, bias=False)
        self.bn1 = tnn.BatchNorm2d(64)
        self.relu = tnn.ReLU(inplace=True)
        self.maxpool = tnn.MaxPool2d(3, 2, 1) if stem == "imagenet" else tnn.Identity()
        self.layer1 = self._make_layer(block, 64, layers[0])
        self.layer2 = self._make_layer(block, 128, layers[1], 2)
        self.layer3 = self._make_layer(block, 256, layers[2], 2)
        self.layer4 = self._make_layer(block, 512, layers[3], 2)
        self.avgpool = tnn.AdaptiveAvgPool2d((1, 1))
        self.fc = tnn.Linear(512 * block.expansion, num_classes)
        for m in self.modules():
            if isinstance(m, tnn.Conv2d):
                tnn.init.kaiming_normal_(m.weight, mode="fan_out", nonlinearity="relu")

    def _make_layer(self, block, planes, blocks, stride=1):
        downsample = None
        if stride != 1 or self.inplanes != planes * block.expansion:
            downsample = tnn.Sequential(
                tnn.Conv2d(self.inplanes, planes * block.expansion, 1, stride, bias=False),
                tnn.BatchNorm2d(planes * block.expansion),
            )
        layers = [block(self.inplanes, planes, stride, downsample)]
        self.inplanes = planes * block.expansion
        layers += [block(self.inplanes, planes) for _ in range(1, blocks)]
        return tnn.Sequential(*layers)

    def forward(self, x):
        x = self.maxpool(self.relu(self.bn1(self.conv1(x))))
        x = self.layer4(self.layer3(self.layer2(self.layer1(x))))
        return self.fc(torch.flatten(self.avgpool(x), 1))


def torch_resnet(depth, **kwargs):
    block, layers = {
        18: (TorchBasicBlock, [2, 2, 2, 2]),
        34: (TorchBasicBlock, [3, 4, 6, 3]),
        50: (TorchBottleneck, [3, 4, 6, 3]),
    }[depth]
    return TorchResNet(block, layers, **kwargs)


def ember_resnet(depth, **kwargs):
    return {18: models.resnet18, 34: models.resnet34, 50: models.resnet50}[depth](**kwargs)


def randomize_bn_stats(model, seed=0):
    """Give the torch BatchNorms non-trivial affine parameters and running statistics."""
    gen = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for m in model.modules():
            if isinstance(m, tnn.BatchNorm2d):
                m.weight.uniform_(0.5, 1.5, generator=gen)
                m.bias.uniform_(-0.2, 0.2, generator=gen)
                m.running_mean.uniform_(-0.1, 0.1, generator=gen)
                m.running_var.uniform_(0.5, 2.0, generator=gen)
    return model


def load_into_ember(t_model, e_model):
    e_model.load_state_dict(state_dict_to_ember(t_model.state_dict()))
    return e_model


# -- LeNet5 ------------------------------------------------------------------------------------


@pytest.mark.parametrize("num_classes", [10, 3])
def test_lenet5_matches_torch(num_classes):
    check_module(
        lambda m: TorchLeNet5(num_classes) if m is torch else models.LeNet5(num_classes),
        (2, 1, 28, 28),
    )


def test_lenet5_noncontiguous_input():
    x = np.random.default_rng(0).standard_normal((28, 28, 2, 1)).astype(np.float32)
    x = x.transpose(2, 3, 0, 1)  # (2, 1, 28, 28), not C-contiguous
    check_module(lambda m: TorchLeNet5() if m is torch else models.LeNet5(), inputs=[x])


def test_lenet5_parameter_count():
    # 156 + 2416 + 48120 + 10164 + 850: the classic 61,706 of LeNet-5 with 10 classes.
    assert sum(p.numel() for p in models.LeNet5().parameters()) == 61706


def test_lenet5_wrong_channels_names_the_layer():
    with pytest.raises(RuntimeError, match=r"^Conv2d\(1, 6, .*expected input\[2, 3, 28, 28\]"):
        models.LeNet5()(ember.randn(2, 3, 28, 28))


def test_lenet5_wrong_size_names_the_layer():
    with pytest.raises(RuntimeError, match=r"^Linear\(in_features=400.*cannot be multiplied"):
        models.LeNet5()(ember.randn(2, 1, 32, 32))


# -- ResNet: torchvision's names and shapes ----------------------------------------------------

# Public facts about torchvision's resnet18 / resnet50 state_dicts.
RESNET18_SHAPES = {
    "conv1.weight": (64, 3, 7, 7),
    "bn1.running_var": (64,),
    "layer1.0.conv1.weight": (64, 64, 3, 3),
    "layer1.1.bn2.num_batches_tracked": (),
    "layer2.0.conv1.weight": (128, 64, 3, 3),
    "layer2.0.downsample.0.weight": (128, 64, 1, 1),
    "layer2.0.downsample.1.running_mean": (128,),
    "layer3.1.conv2.weight": (256, 256, 3, 3),
    "layer4.0.downsample.0.weight": (512, 256, 1, 1),
    "layer4.1.bn2.bias": (512,),
    "fc.weight": (1000, 512),
    "fc.bias": (1000,),
}
RESNET50_SHAPES = {
    "conv1.weight": (64, 3, 7, 7),
    "layer1.0.conv1.weight": (64, 64, 1, 1),
    "layer1.0.conv3.weight": (256, 64, 1, 1),
    "layer1.0.downsample.0.weight": (256, 64, 1, 1),
    "layer1.2.conv3.weight": (256, 64, 1, 1),
    "layer2.0.conv2.weight": (128, 128, 3, 3),
    "layer2.0.downsample.0.weight": (512, 256, 1, 1),
    "layer3.5.bn3.running_var": (1024,),
    "layer4.0.downsample.0.weight": (2048, 1024, 1, 1),
    "layer4.2.conv3.weight": (2048, 512, 1, 1),
    "fc.weight": (1000, 2048),
}


@pytest.mark.parametrize(
    "depth, n_params, n_entries, n_tensors, shapes",
    [
        (18, 11_689_512, 122, 62, RESNET18_SHAPES),
        (34, 21_797_672, 218, 110, {"layer3.5.conv2.weight": (256, 256, 3, 3)}),
        (50, 25_557_032, 320, 161, RESNET50_SHAPES),
    ],
)
def test_resnet_state_dict_is_torchvisions(depth, n_params, n_entries, n_tensors, shapes):
    e_model = ember_resnet(depth)
    e_sd = e_model.state_dict()
    assert len(e_sd) == n_entries
    assert len(list(e_model.parameters())) == n_tensors
    assert sum(p.numel() for p in e_model.parameters()) == n_params  # torchvision's counts
    for key, shape in shapes.items():
        assert tuple(e_sd[key].shape) == shape, key
    t_sd = torch_resnet(depth).state_dict()
    assert list(e_sd) == list(t_sd)
    assert [tuple(v.shape) for v in e_sd.values()] == [tuple(v.shape) for v in t_sd.values()]


def test_resnet18_downsample_only_where_the_shape_changes():
    keys = models.resnet18().state_dict()
    assert "layer1.0.downsample.0.weight" not in keys
    assert "layer2.1.downsample.0.weight" not in keys
    assert all(f"layer{i}.0.downsample.0.weight" in keys for i in (2, 3, 4))


@pytest.mark.parametrize("stem", ["imagenet", "cifar"])
@pytest.mark.parametrize("train", [False, True])
def test_resnet18_matches_torch(stem, train):
    make = lambda m: (  # noqa: E731
        randomize_bn_stats(torch_resnet(18, num_classes=10, stem=stem))
        if m is torch
        else models.resnet18(num_classes=10, stem=stem)
    )
    # Train-mode BatchNorm over 2 values per channel (1x1 maps at layer4) is ill-conditioned:
    # 64x64 leaves 2x2 maps there.
    size = 64 if stem == "imagenet" else 16
    e_model, t_model = check_module(make, (2, 3, size, size), train=train, rtol=1e-3, atol=1e-4)
    e_sd, t_sd = e_model.state_dict(), t_model.state_dict()
    for key in ("bn1.running_mean", "layer3.0.bn2.running_var", "layer4.1.bn1.num_batches_tracked"):
        assert_same(e_sd[key], t_sd[key], rtol=1e-4, atol=1e-5)


def test_resnet_cifar_stem_keeps_resolution():
    model = models.resnet18(num_classes=10, stem="cifar")
    assert tuple(model.conv1.weight.shape) == (64, 3, 3, 3)
    assert model.conv1.stride == (1, 1)
    assert isinstance(model.maxpool, ember.nn.Identity)
    assert tuple(model(ember.randn(2, 3, 32, 32)).shape) == (2, 10)


def test_resnet50_one_image_eval():
    t_model = randomize_bn_stats(torch_resnet(50, num_classes=7)).eval()
    e_model = load_into_ember(t_model, models.resnet50(num_classes=7)).eval()
    x = np.random.default_rng(0).standard_normal((1, 3, 32, 32)).astype(np.float32)
    with torch.no_grad(), ember.no_grad():
        assert_same(e_model(ember.tensor(x)), t_model(torch.tensor(x)), rtol=1e-3, atol=1e-4)


def test_resnet_init():
    ember.manual_seed(0)
    model = models.resnet50(zero_init_residual=False)
    # kaiming_normal_(mode="fan_out", nonlinearity="relu"): std = sqrt(2 / (out * kh * kw)).
    w = to_numpy(model.conv1.weight)
    assert abs(w.std() / math.sqrt(2 / (64 * 49)) - 1) < 0.05
    assert abs(w.mean()) < 0.002
    w = to_numpy(model.layer3[0].conv2.weight)
    assert abs(w.std() / math.sqrt(2 / (256 * 9)) - 1) < 0.05
    for m in model.modules():
        if isinstance(m, ember.nn.BatchNorm2d):
            assert (to_numpy(m.weight) == 1).all() and (to_numpy(m.bias) == 0).all()
    zero = models.ResNet(models.Bottleneck, [1, 1, 1, 1], zero_init_residual=True)
    assert (to_numpy(zero.layer2[0].bn3.weight) == 0).all()
    assert (to_numpy(zero.layer2[0].bn1.weight) == 1).all()


def test_resnet_errors():
    with pytest.raises(ValueError, match="stem must be 'imagenet' or 'cifar'"):
        models.resnet18(stem="mnist")
    with pytest.raises(RuntimeError, match=r"^Conv2d\(3, 64.*to have 3 channels, but got 1"):
        models.resnet18()(ember.randn(1, 1, 32, 32))


# -- DCGAN ------------------------------------------------------------------------------------


class TorchGenerator(tnn.Module):  # examples/dcgan, generalised to 32x32 by one stage fewer
    def __init__(self, nz, ngf, nc, image_size):
        super().__init__()
        w = ngf * (8 if image_size == 64 else 4)
        layers = [
            tnn.ConvTranspose2d(nz, w, 4, 1, 0, bias=False),
            tnn.BatchNorm2d(w),
            tnn.ReLU(True),
        ]
        while w > ngf:
            layers += [
                tnn.ConvTranspose2d(w, w // 2, 4, 2, 1, bias=False),
                tnn.BatchNorm2d(w // 2),
                tnn.ReLU(True),
            ]
            w //= 2
        layers += [tnn.ConvTranspose2d(ngf, nc, 4, 2, 1, bias=False), tnn.Tanh()]
        self.main = tnn.Sequential(*layers)

    def forward(self, input):
        return self.main(input)


class TorchDiscriminator(tnn.Module):
    def __init__(self, ndf, nc, image_size):
        super().__init__()
        layers = [tnn.Conv2d(nc, ndf, 4, 2, 1, bias=False), tnn.LeakyReLU(0.2, inplace=True)]
        w, top = ndf, ndf * (8 if image_size == 64 else 4)
        while w < top:
            layers += [
                tnn.Conv2d(w, w * 2, 4, 2, 1, bias=False),
                tnn.BatchNorm2d(w * 2),
                tnn.LeakyReLU(0.2, inplace=True),
            ]
            w *= 2
        layers += [tnn.Conv2d(w, 1, 4, 1, 0, bias=False), tnn.Sigmoid()]
        self.main = tnn.Sequential(*layers)

    def forward(self, input):
        return self.main(input).view(-1, 1).squeeze(1)


@pytest.mark.parametrize("image_size", [32, 64])
@pytest.mark.parametrize("train", [True, False])
def test_dcgan_generator_matches_torch(image_size, train):
    make = lambda m: (  # noqa: E731
        randomize_bn_stats(TorchGenerator(8, 4, 3, image_size))
        if m is torch
        else models.DCGANGenerator(nz=8, ngf=4, nc=3, image_size=image_size)
    )
    e_model, _ = check_module(make, (2, 8, 1, 1), train=train, rtol=1e-3, atol=1e-4)
    assert tuple(e_model(ember.randn(2, 8, 1, 1)).shape) == (2, 3, image_size, image_size)


@pytest.mark.parametrize("image_size", [32, 64])
@pytest.mark.parametrize("train", [True, False])
def test_dcgan_discriminator_matches_torch(image_size, train):
    make = lambda m: (  # noqa: E731
        randomize_bn_stats(TorchDiscriminator(4, 1, image_size))
        if m is torch
        else models.DCGANDiscriminator(ndf=4, nc=1, image_size=image_size)
    )
    check_module(make, (3, 1, image_size, image_size), train=train, rtol=1e-3, atol=1e-5)


def test_dcgan_init_statistics():
    ember.manual_seed(0)
    gen = models.DCGANGenerator(nz=100, ngf=64, nc=3, image_size=64)
    w = to_numpy(gen.main[3].weight)  # ConvTranspose2d(512, 256, 4, 2, 1): 2M values
    assert abs(w.mean()) < 1e-3 and abs(w.std() - 0.02) < 1e-3
    bn = gen.main[1]
    assert (
        abs(to_numpy(bn.weight).mean() - 1) < 0.01 and abs(to_numpy(bn.weight).std() - 0.02) < 5e-3
    )
    assert (to_numpy(bn.bias) == 0).all()
    disc = models.DCGANDiscriminator(ndf=64, nc=3)
    w = to_numpy(disc.main[5].weight)  # Conv2d(128, 256, 4, 2, 1)
    assert abs(w.std() - 0.02) < 1e-3


def test_dcgan_weights_init_is_reusable():
    layer = ember.nn.Conv2d(16, 32, 3)
    dcgan.weights_init(layer)
    assert abs(to_numpy(layer.weight).std() - 0.02) < 2e-3
    assert layer.bias is not None  # left alone, as in the example


def test_dcgan_errors():
    with pytest.raises(ValueError, match="image_size 32 or 64, got 48"):
        models.DCGANGenerator(image_size=48)
    with pytest.raises(ValueError, match="image_size 32 or 64, got 128"):
        models.DCGANDiscriminator(image_size=128)


# -- ESPCN ------------------------------------------------------------------------------------


class TorchESPCN(tnn.Module):  # examples/super_resolution/model.py, with num_channels
    def __init__(self, upscale_factor, num_channels=1):
        super().__init__()
        self.relu = tnn.ReLU()
        self.conv1 = tnn.Conv2d(num_channels, 64, (5, 5), (1, 1), (2, 2))
        self.conv2 = tnn.Conv2d(64, 64, (3, 3), (1, 1), (1, 1))
        self.conv3 = tnn.Conv2d(64, 32, (3, 3), (1, 1), (1, 1))
        self.conv4 = tnn.Conv2d(32, num_channels * upscale_factor**2, (3, 3), (1, 1), (1, 1))
        self.pixel_shuffle = tnn.PixelShuffle(upscale_factor)

    def forward(self, x):
        x = self.relu(self.conv1(x))
        x = self.relu(self.conv2(x))
        x = self.relu(self.conv3(x))
        return self.pixel_shuffle(self.conv4(x))


@pytest.mark.parametrize("upscale_factor, num_channels", [(3, 1), (2, 3)])
def test_espcn_matches_torch(upscale_factor, num_channels):
    make = lambda m: (  # noqa: E731
        TorchESPCN(upscale_factor, num_channels)
        if m is torch
        else models.ESPCN(upscale_factor, num_channels)
    )
    e_model, _ = check_module(make, (2, num_channels, 6, 5), rtol=1e-3, atol=1e-5)
    out = e_model(ember.randn(1, num_channels, 6, 5))
    assert tuple(out.shape) == (1, num_channels, 6 * upscale_factor, 5 * upscale_factor)


def test_espcn_orthogonal_init():
    model = models.ESPCN(3)
    relu_gain = math.sqrt(2)
    for conv, gain in [(model.conv1, relu_gain), (model.conv3, relu_gain), (model.conv4, 1.0)]:
        w = to_numpy(conv.weight).reshape(conv.weight.shape[0], -1).astype(np.float64)
        rows, cols = w.shape
        gram = w @ w.T if rows <= cols else w.T @ w  # orthonormal along the shorter side
        np.testing.assert_allclose(gram, gain**2 * np.eye(min(rows, cols)), atol=1e-5)


def test_espcn_wrong_channels_names_the_layer():
    with pytest.raises(RuntimeError, match=r"^Conv2d\(1, 64.*to have 1 channels, but got 3"):
        models.ESPCN(2)(ember.randn(1, 3, 8, 8))
