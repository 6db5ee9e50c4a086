"""Transforms vs direct NumPy/torch computations of torchvision's definitions, and properties."""

import math

import numpy as np
import pytest
import torch

import ember
from ember import transforms as T
from ember.transforms import functional as F

RNG = np.random.default_rng(0)


def img(*shape, dtype=np.float32):
    if dtype == np.uint8:
        return RNG.integers(0, 256, shape, dtype=np.uint8)
    return RNG.random(shape, dtype=np.float32)


def E(a):
    return ember.tensor(a)


# -- conversion and normalisation ---------------------------------------------------------------
def test_to_tensor():
    hwc = img(5, 7, 3, dtype=np.uint8)
    out = T.ToTensor()(hwc)
    assert out.dtype == ember.float32 and out.shape == (3, 5, 7)
    np.testing.assert_allclose(out.numpy(), hwc.transpose(2, 0, 1) / 255.0, rtol=1e-6)
    assert F.to_tensor(hwc[:, :, 0]).shape == (1, 5, 7)
    f64 = RNG.random((4, 4, 2))
    out = F.to_tensor(f64)
    assert out.dtype == ember.float64 and np.array_equal(out.numpy(), f64.transpose(2, 0, 1))
    with pytest.raises(ValueError, match=r"pic should be 2/3 dimensional. Got 1 dimensions"):
        F.to_tensor(np.zeros(3))


@pytest.mark.parametrize("shape", [(3, 4, 5), (2, 3, 4, 5)])
def test_normalize(shape):
    x = img(*shape)
    mean, std = [0.1, 0.2, 0.3], [0.5, 0.25, 2.0]
    out = T.Normalize(mean, std)(E(x))
    expected = (x - np.array(mean, np.float32)[:, None, None]) / np.array(std, np.float32)[
        :, None, None
    ]
    assert out.dtype == ember.float32
    np.testing.assert_allclose(out.numpy(), expected, rtol=1e-6)
    t = E(x)
    assert F.normalize(t, mean, std, inplace=True) is t
    np.testing.assert_allclose(t.numpy(), expected, rtol=1e-6)


def test_normalize_errors():
    with pytest.raises(TypeError, match="Input tensor should be a float tensor"):
        F.normalize(E(img(3, 2, 2, dtype=np.uint8)), [0], [1])
    with pytest.raises(ValueError, match="Expected tensor to be a tensor image of size"):
        F.normalize(E(img(2, 2)), [0], [1])
    with pytest.raises(ValueError, match="std evaluated to zero"):
        F.normalize(E(img(1, 2, 2)), [0], [0])


# -- resize ----------------------------------------------------------------------------------
def torch_resize(x, size, mode="bilinear", antialias=True):
    t = torch.tensor(x)
    dtype = t.dtype
    t4 = (
        t.reshape(-1, *t.shape[-3:]).float()
        if dtype == torch.uint8
        else t.reshape(-1, *t.shape[-3:])
    )
    align = False if mode in ("bilinear", "bicubic") else None
    aa = antialias and mode in ("bilinear", "bicubic")
    out = torch.nn.functional.interpolate(
        t4, size=size, mode=mode, align_corners=align, antialias=aa
    )
    if dtype == torch.uint8:
        if mode == "bicubic":
            out = out.clamp(0, 255)
        out = out.round().to(dtype)
    return out.reshape(*t.shape[:-2], *out.shape[-2:]).numpy()


@pytest.mark.parametrize("mode", ["bilinear", "bicubic", "nearest"])
@pytest.mark.parametrize("dtype", [np.float32, np.uint8])
@pytest.mark.parametrize(("shape", "size"), [((3, 12, 10), (5, 7)), ((2, 3, 6, 8), (9, 11))])
def test_resize_vs_interpolate(mode, dtype, shape, size):
    x = img(*shape, dtype=dtype)
    out = T.Resize(size, interpolation=mode)(E(x))
    expected = torch_resize(x, list(size), mode)
    assert out.dtype == E(x).dtype and out.shape == expected.shape
    atol = 1 if dtype == np.uint8 else 1e-5  # uint8: a rounding tie may land either way
    np.testing.assert_allclose(out.numpy().astype(np.float64), expected, atol=atol)


def test_resize_smaller_edge_and_max_size():
    x = E(img(3, 10, 20))
    assert F.resize(x, 5).shape == (3, 5, 10)
    assert F.resize(x, [5]).shape == (3, 5, 10)
    assert F.resize(E(img(3, 20, 10)), 5).shape == (3, 10, 5)
    assert F.resize(x, 5, max_size=8).shape == (3, 4, 8)
    assert F.resize(x, (10, 20)) is x  # already that size
    with pytest.raises(ValueError, match="max_size = 5 must be strictly greater"):
        F.resize(x, 5, max_size=5)
    with pytest.raises(ValueError, match="max_size should only be passed if size specifies"):
        F.resize(x, (5, 6), max_size=8)
    with pytest.raises(ValueError, match="If size is a sequence, it should have 1 or 2 values"):
        T.Resize((1, 2, 3))
    with pytest.raises(TypeError, match="Size should be int or sequence"):
        T.Resize(2.5)


# -- crops and padding --------------------------------------------------------------------------
@pytest.mark.parametrize("mode", ["constant", "edge", "reflect", "symmetric"])
@pytest.mark.parametrize("padding", [2, (1, 3), (1, 2, 3, 0)])
def test_pad_vs_numpy(mode, padding):
    x = img(2, 3, 5, 6)
    ltrb = {2: (2, 2, 2, 2), (1, 3): (1, 3, 1, 3), (1, 2, 3, 0): (1, 2, 3, 0)}[padding]
    left, top, right, bottom = ltrb
    kwargs = {"constant_values": 0.5} if mode == "constant" else {}
    expected = np.pad(x, [(0, 0), (0, 0), (top, bottom), (left, right)], mode=mode, **kwargs)
    out = F.pad(E(x), padding, fill=0.5, padding_mode=mode)
    np.testing.assert_array_equal(out.numpy(), expected)


def test_pad_errors():
    with pytest.raises(ValueError, match="Padding mode should be either"):
        F.pad(E(img(1, 2, 2)), 1, padding_mode="wrap")
    with pytest.raises(ValueError, match="Padding must be an int or a 1, 2, or 4 element tuple"):
        F.pad(E(img(1, 2, 2)), (1, 2, 3))


@pytest.mark.parametrize(
    ("h", "w", "size"), [(7, 8, (3, 4)), (6, 6, 3), (5, 9, (4, 4)), (3, 4, (6, 5))]
)
def test_center_crop(h, w, size):
    x = img(2, 3, h, w)
    ch, cw = (size, size) if isinstance(size, int) else size
    out = T.CenterCrop(size)(E(x)).numpy()
    if ch <= h and cw <= w:
        top, left = round((h - ch) / 2), round((w - cw) / 2)  # Python's round, as torchvision
        np.testing.assert_array_equal(out, x[..., top : top + ch, left : left + cw])
    else:  # zero padding around the image, the extra pixel on the bottom/right
        pt, pl = (ch - h) // 2, (cw - w) // 2
        expected = np.zeros((2, 3, ch, cw), np.float32)
        expected[..., pt : pt + h, pl : pl + w] = x
        np.testing.assert_array_equal(out, expected)


def test_crop_outside_pads_with_zeros():
    x = img(1, 4, 4)
    out = F.crop(E(x), -1, 2, 3, 4).numpy()
    expected = np.zeros((1, 3, 4), np.float32)
    expected[:, 1:, :2] = x[:, :2, 2:]
    np.testing.assert_array_equal(out, expected)


def test_random_crop_is_a_window_and_seeded():
    x = img(2, 3, 8, 9)
    padded = np.pad(x, [(0, 0), (0, 0), (2, 2), (2, 2)], mode="reflect")
    crop = T.RandomCrop((5, 6), padding=2, padding_mode="reflect")
    windows = {(i, j): padded[..., i : i + 5, j : j + 6] for i in range(8) for j in range(8)}
    ember.manual_seed(3)
    first = [crop(E(x)).numpy() for _ in range(6)]
    for out in first:
        assert out.shape == (2, 3, 5, 6)
        assert any(np.array_equal(out, w) for w in windows.values())
    assert len({o.tobytes() for o in first}) > 1  # not always the same window
    ember.manual_seed(3)
    assert all(np.array_equal(a, crop(E(x)).numpy()) for a in first)
    g = ember.Generator().manual_seed(3)
    seeded = T.RandomCrop((5, 6), padding=2, padding_mode="reflect", generator=g)
    assert all(np.array_equal(a, seeded(E(x)).numpy()) for a in first)


def test_random_crop_pad_if_needed_and_error():
    x = E(img(3, 4, 5))
    out = T.RandomCrop((6, 7), pad_if_needed=True, fill=1.0)(x)
    assert out.shape == (3, 6, 7)
    assert T.RandomCrop((4, 5))(x).numpy().tobytes() == x.numpy().tobytes()
    with pytest.raises(ValueError, match=r"Required crop size \(6, 7\) is larger than input"):
        T.RandomCrop((6, 7))(x)


# -- flips -------------------------------------------------------------------------------------
@pytest.mark.parametrize("cls", [T.RandomHorizontalFlip, T.RandomVerticalFlip])
def test_flips(cls):
    x = img(2, 3, 4, 5)
    axis = -1 if cls is T.RandomHorizontalFlip else -2
    np.testing.assert_array_equal(cls(p=1.0)(E(x)).numpy(), np.flip(x, axis))
    np.testing.assert_array_equal(cls(p=1.0)(cls(p=1.0)(E(x))).numpy(), x)  # twice = identity
    np.testing.assert_array_equal(cls(p=0.0)(E(x)).numpy(), x)
    ember.manual_seed(0)
    flips = [not np.array_equal(cls()(E(x)).numpy(), x) for _ in range(200)]
    assert 60 < sum(flips) < 140
    ember.manual_seed(0)
    assert flips == [not np.array_equal(cls()(E(x)).numpy(), x) for _ in range(200)]


# -- rotations and affine warps -----------------------------------------------------------------
def torch_warp(x, matrix, mode, fill, ow, oh):
    """torchvision's F_t._gen_affine_grid + _apply_grid_transform, written with torch."""
    t = torch.tensor(x)
    n, c, h, w = t.shape
    theta = torch.tensor(matrix, dtype=t.dtype).reshape(1, 2, 3)
    base = torch.empty(1, oh, ow, 3, dtype=t.dtype)
    base[..., 0].copy_(torch.linspace(-ow * 0.5 + 0.5, ow * 0.5 - 0.5, steps=ow))
    base[..., 1].copy_(torch.linspace(-oh * 0.5 + 0.5, oh * 0.5 - 0.5, steps=oh).unsqueeze(-1))
    base[..., 2].fill_(1)
    rescaled = theta.transpose(1, 2) / torch.tensor([0.5 * w, 0.5 * h], dtype=t.dtype)
    grid = base.view(1, oh * ow, 3).bmm(rescaled).view(1, oh, ow, 2).expand(n, oh, ow, 2)
    t = torch.cat((t, torch.ones(n, 1, h, w, dtype=t.dtype)), dim=1)
    out = torch.nn.functional.grid_sample(
        t, grid, mode=mode, padding_mode="zeros", align_corners=False
    )
    out, mask = out[:, :-1], out[:, -1:].expand(n, c, oh, ow)
    fill_img = torch.tensor([float(fill)] * c, dtype=t.dtype).view(1, c, 1, 1).expand_as(out)
    if mode == "nearest":
        out = torch.where(mask < 0.5, fill_img, out)
    else:
        out = out * mask + (1.0 - mask) * fill_img
    return out.numpy()


@pytest.mark.parametrize("mode", ["nearest", "bilinear"])
@pytest.mark.parametrize("angle", [17.0, -45.0, 90.0])
def test_rotate_vs_torch(mode, angle):
    x = img(2, 3, 7, 9)
    matrix = F.inverse_affine_matrix([0.0, 0.0], -angle, [0.0, 0.0], 1.0, [0.0, 0.0])
    expected = torch_warp(x, matrix, mode, 0.25, 9, 7)
    out = F.rotate(E(x), angle, mode, fill=0.25).numpy()
    np.testing.assert_allclose(out, expected, atol=1e-5)


def test_inverse_affine_matrix_is_a_rotation():
    m = F.inverse_affine_matrix([0.0, 0.0], 30.0, [0.0, 0.0], 2.0, [0.0, 0.0])
    c, s = math.cos(math.radians(30)), math.sin(math.radians(30))
    np.testing.assert_allclose(m, [c / 2, s / 2, 0, -s / 2, c / 2, 0], atol=1e-12)


def torch_expanded_hw(angle, h, w):
    """torchvision's _compute_affine_output_size (corners through the matrix, rounded out)."""
    m = F.inverse_affine_matrix([0.0, 0.0], -angle, [0.0, 0.0], 1.0, [0.0, 0.0])
    pts = torch.tensor([[-w / 2, -h / 2, 1.0], [-w / 2, h / 2, 1.0], [w / 2, h / 2, 1.0],
                        [w / 2, -h / 2, 1.0]])  # fmt: skip
    new = pts @ torch.tensor(m, dtype=torch.float).view(2, 3).T
    low = new.min(dim=0)[0] + torch.tensor((w * 0.5, h * 0.5))
    high = new.max(dim=0)[0] + torch.tensor((w * 0.5, h * 0.5))
    size = torch.ceil((high / 1e-4).trunc() * 1e-4) - torch.floor((low / 1e-4).trunc() * 1e-4)
    return int(size[1]), int(size[0])


def test_rotate_properties():
    x = img(3, 6, 6)
    np.testing.assert_allclose(F.rotate(E(x), 90.0).numpy(), np.rot90(x, 1, axes=(1, 2)), atol=0)
    np.testing.assert_array_equal(F.rotate(E(x), 0.0).numpy(), x)
    for angle, h, w in ((90.0, 5, 8), (30.0, 6, 6), (-45.0, 4, 9)):
        out = F.rotate(E(img(3, h, w)), angle, expand=True)
        assert out.shape == (3, *torch_expanded_hw(angle, h, w))
    u8 = img(3, 6, 6, dtype=np.uint8)
    out = F.rotate(E(u8), 180.0)
    assert out.dtype == ember.uint8
    np.testing.assert_array_equal(out.numpy(), u8[:, ::-1, ::-1])


def test_affine_translation_and_vs_torch():
    x = img(2, 3, 6, 7)
    out = F.affine(E(x), 0.0, [2, -1], 1.0, 0.0, fill=0.0).numpy()
    expected = np.zeros_like(x)
    expected[..., 0:5, 2:7] = x[..., 1:6, 0:5]  # out[y, x] = in[y + 1, x - 2]
    np.testing.assert_array_equal(out, expected)
    m = F.inverse_affine_matrix([0.0, 0.0], 20.0, [1.0, 2.0], 1.2, [10.0, -5.0])
    expected = torch_warp(x, m, "bilinear", 0.0, 7, 6)
    out = F.affine(E(x), 20.0, [1, 2], 1.2, [10.0, -5.0], "bilinear", fill=0.0).numpy()
    np.testing.assert_allclose(out, expected, atol=1e-5)


def test_random_rotation_and_affine_seeded():
    x = E(img(2, 3, 8, 8))
    for make in (
        lambda: T.RandomRotation(30),
        lambda: T.RandomAffine(20, translate=(0.1, 0.2), scale=(0.8, 1.2), shear=(-5, 5, -3, 3)),
    ):
        ember.manual_seed(5)
        a = [make()(x).numpy() for _ in range(3)]
        ember.manual_seed(5)
        b = [make()(x).numpy() for _ in range(3)]
        assert all(np.array_equal(p, q) for p, q in zip(a, b))
        assert not np.array_equal(a[0], a[1])
        assert a[0].shape == (2, 3, 8, 8)
    params = T.RandomAffine(10, translate=(0.5, 0.25), scale=(1, 2), shear=4).get_params([8, 8])
    angle, (tx, ty), scale, (sx, sy) = params
    assert -10 <= angle <= 10 and abs(tx) <= 4 and abs(ty) <= 2 and 1 <= scale <= 2
    assert -4 <= sx <= 4 and sy == 0.0


def test_rotation_affine_errors():
    with pytest.raises(ValueError, match="If degrees is a single number, it must be positive"):
        T.RandomRotation(-3)
    with pytest.raises(ValueError, match="If degrees is a sequence, it must be of len 2"):
        T.RandomRotation([1, 2, 3])
    with pytest.raises(ValueError, match="translation values should be between 0 and 1"):
        T.RandomAffine(0, translate=(2, 0))
    with pytest.raises(ValueError, match="scale values should be positive"):
        T.RandomAffine(0, scale=(0, 1))


# -- colour -------------------------------------------------------------------------------------
def gray(x):
    return 0.2989 * x[..., 0, :, :] + 0.587 * x[..., 1, :, :] + 0.114 * x[..., 2, :, :]


@pytest.mark.parametrize("factor", [0.0, 0.5, 1.7])
def test_adjust_colour_vs_numpy(factor):
    x = img(2, 3, 4, 5)
    out = F.adjust_brightness(E(x), factor).numpy()
    np.testing.assert_allclose(out, np.clip(factor * x, 0, 1), rtol=1e-6)
    mean = gray(x).mean(axis=(-2, -1), keepdims=True)[..., None, :, :]
    out = F.adjust_contrast(E(x), factor).numpy()
    np.testing.assert_allclose(out, np.clip(factor * x + (1 - factor) * mean, 0, 1), atol=1e-6)
    g = gray(x)[..., None, :, :]
    out = F.adjust_saturation(E(x), factor).numpy()
    np.testing.assert_allclose(out, np.clip(factor * x + (1 - factor) * g, 0, 1), atol=1e-6)


def test_adjust_uint8_truncates_like_torchvision():
    x = img(3, 4, 4, dtype=np.uint8)
    out = F.adjust_brightness(E(x), 1.5)
    assert out.dtype == ember.uint8
    expected = torch.clamp(1.5 * torch.tensor(x), 0, 255).to(torch.uint8).numpy()
    np.testing.assert_array_equal(out.numpy(), expected)


def test_color_jitter():
    x = E(img(3, 4, 4))
    ember.manual_seed(1)
    a = T.ColorJitter(brightness=0.5, contrast=0.5, saturation=0.5)(x).numpy()
    ember.manual_seed(1)
    b = T.ColorJitter(brightness=0.5, contrast=0.5, saturation=0.5)(x).numpy()
    np.testing.assert_array_equal(a, b)
    assert a.min() >= 0 and a.max() <= 1 and not np.array_equal(a, x.numpy())
    np.testing.assert_array_equal(T.ColorJitter()(x).numpy(), x.numpy())
    jitter = T.ColorJitter(brightness=(0.5, 0.5))  # a fixed factor
    np.testing.assert_allclose(jitter(x).numpy(), x.numpy() * 0.5, rtol=1e-6)
    with pytest.raises(
        ValueError, match="If brightness is a single number, it must be non negative"
    ):
        T.ColorJitter(brightness=-1)
    with pytest.raises(NotImplementedError, match="hue"):
        T.ColorJitter(hue=0.1)
    with pytest.raises(TypeError, match=r"permitted channel values are \[1, 3\], but found 2"):
        F.adjust_contrast(E(img(2, 3, 3)), 0.5)


# -- erasing, lambda, compose -----------------------------------------------------------------
def test_random_erasing():
    x = img(3, 10, 12)
    ember.manual_seed(2)
    out = T.RandomErasing(p=1.0, value=(0.1, 0.2, 0.3))(E(x)).numpy()
    changed = np.any(out != x, axis=0)
    rows, cols = np.nonzero(changed)
    box = (slice(rows.min(), rows.max() + 1), slice(cols.min(), cols.max() + 1))
    assert changed[box].all()  # one filled rectangle
    np.testing.assert_allclose(out[:, box[0], box[1]].mean(axis=(1, 2)), [0.1, 0.2, 0.3], rtol=1e-6)
    ember.manual_seed(2)
    again = T.RandomErasing(p=1.0, value=(0.1, 0.2, 0.3))(E(x)).numpy()
    np.testing.assert_array_equal(out, again)
    np.testing.assert_array_equal(T.RandomErasing(p=0.0)(E(x)).numpy(), x)
    noisy = T.RandomErasing(p=1.0, value="random")(E(x))
    assert noisy.dtype == ember.float32 and not np.array_equal(noisy.numpy(), x)
    t = E(x.copy())
    assert T.RandomErasing(p=1.0, inplace=True)(t) is t


def test_random_erasing_errors():
    with pytest.raises(ValueError, match="If value is str, it should be 'random'"):
        T.RandomErasing(value="noise")
    with pytest.raises(ValueError, match="Scale should be between 0 and 1"):
        T.RandomErasing(scale=(0.5, 2))
    with pytest.raises(ValueError, match="Random erasing probability should be between 0 and 1"):
        T.RandomErasing(p=2)
    with pytest.raises(TypeError, match="Argument value should be either a number or str"):
        T.RandomErasing(value=object())
    with pytest.warns(UserWarning, match=r"Scale and ratio should be of kind \(min, max\)"):
        T.RandomErasing(scale=(0.3, 0.1))
    with pytest.raises(ValueError, match="it should have either a single value or 3"):
        T.RandomErasing(p=1.0, value=(1, 2))(E(img(3, 4, 4)))


def test_compose_lambda_pipeline():
    pipeline = T.Compose(
        [T.ToTensor(), T.Lambda(lambda t: t * 2), T.Normalize([0.5], [0.5]), T.CenterCrop(2)]
    )
    x = img(4, 4, 1, dtype=np.uint8)
    out = pipeline(x)
    expected = ((x.transpose(2, 0, 1) / 255.0 * 2 - 0.5) / 0.5)[:, 1:3, 1:3]
    np.testing.assert_allclose(out.numpy(), expected, rtol=1e-5)
    assert repr(pipeline).startswith("Compose(\n    ToTensor()\n    Lambda()\n    Normalize(")
    with pytest.raises(TypeError, match="Argument lambd should be callable"):
        T.Lambda(3)


def test_batch_matches_per_image():
    x = img(4, 3, 9, 9)
    for fn in (
        lambda t: F.resize(t, (5, 6)),
        lambda t: F.rotate(t, 33.0, "bilinear"),
        lambda t: F.adjust_contrast(t, 0.4),
        lambda t: F.center_crop(t, 4),
    ):
        batch = fn(E(x)).numpy()
        single = np.stack([fn(E(x[i])).numpy() for i in range(4)])
        np.testing.assert_allclose(batch, single, atol=1e-6)
