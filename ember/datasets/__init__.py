"""Datasets: real data sets with download code, and data that ships offline.

Mirrors ``torchvision.datasets`` for MNIST, FashionMNIST, KMNIST, CIFAR10, CIFAR100 and
ImageFolder, and adds ``CSVDataset`` (tabular), ``TextFile`` (language-model corpora) and the
offline loaders ``load_digits``, ``load_mnist_5k`` and ``shakespeare``.
"""

from ember.datasets.cifar import CIFAR10, CIFAR100, load_batch
from ember.datasets.download import (
    Resource,
    check_integrity,
    download_and_extract,
    download_resource,
    download_url,
    extract_archive,
)
from ember.datasets.folder import IMG_EXTENSIONS, DatasetFolder, ImageFolder
from ember.datasets.mnist import KMNIST, MNIST, FashionMNIST, read_idx
from ember.datasets.offline import (
    SHAKESPEARE_PLAYS,
    ImageData,
    load_digits,
    load_mnist_5k,
    shakespeare,
)
from ember.datasets.tabular import CSVDataset, NormalizationStats
from ember.datasets.text import TextFile, Vocabulary, tokenize

__all__ = [
    "CIFAR10",
    "CIFAR100",
    "IMG_EXTENSIONS",
    "KMNIST",
    "MNIST",
    "CSVDataset",
    "DatasetFolder",
    "FashionMNIST",
    "ImageData",
    "ImageFolder",
    "NormalizationStats",
    "SHAKESPEARE_PLAYS",
    "Resource",
    "TextFile",
    "Vocabulary",
    "check_integrity",
    "download_and_extract",
    "download_resource",
    "download_url",
    "extract_archive",
    "load_batch",
    "load_digits",
    "load_mnist_5k",
    "read_idx",
    "shakespeare",
    "tokenize",
]
