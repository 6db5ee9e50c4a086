import os

import numpy as np
import pytest

import ember


@pytest.fixture(autouse=True)
def _seed_and_defaults():
    """Each test starts from seed 0 and float32 as the default dtype."""
    ember.manual_seed(0)
    np.random.seed(0)
    yield
    ember.set_default_dtype(ember.float32)


def pytest_configure(config):
    os.environ.setdefault("EMBER_TEST_DEVICE", "cpu")
