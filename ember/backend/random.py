"""Random number generators: one default generator per device, seeded by ``manual_seed``.

Ember draws from NumPy's PCG64 (CuPy's generator on the GPU), so the same seed gives the same
numbers on every run, but not the same numbers as PyTorch's Mersenne Twister.
"""

from __future__ import annotations

import json
from typing import Any

import numpy as np

from ember.backend.device import Device, as_device


class Generator:
    """A seeded source of random numbers. Mirrors ``torch.Generator``.

    Differences from PyTorch: the stream is NumPy's PCG64, so values differ from PyTorch's for
    the same seed; ``get_state`` returns a uint8 array encoding the bit generator's state.
    """

    def __init__(self, device: Any = "cpu") -> None:
        self.device: Device = as_device(device)
        self._seed = 67280421310721  # PyTorch's default initial seed
        self.engine = np.random.Generator(np.random.PCG64(self._seed))

    def manual_seed(self, seed: int) -> Generator:
        """Reseed the generator and return it. Mirrors ``torch.Generator.manual_seed``."""
        seed = int(seed)
        if seed < 0:
            seed &= 0xFFFF_FFFF_FFFF_FFFF
        self._seed = seed
        self.engine = np.random.Generator(np.random.PCG64(seed))
        return self

    def seed(self) -> int:
        """Seed from a non-deterministic source and return the seed. Mirrors ``Generator.seed``."""
        seed = int(np.random.SeedSequence().entropy) & 0xFFFF_FFFF_FFFF_FFFF
        self.manual_seed(seed)
        return seed

    def initial_seed(self) -> int:
        """Return the seed last set. Mirrors ``torch.Generator.initial_seed``."""
        return self._seed

    def get_state(self) -> np.ndarray:
        """Return the full state as a uint8 array. Mirrors ``torch.Generator.get_state``."""
        state = {"seed": self._seed, "bit_generator": self.engine.bit_generator.state}
        return np.frombuffer(json.dumps(state).encode(), dtype=np.uint8).copy()

    def set_state(self, new_state: Any) -> Generator:
        """Restore a state from ``get_state``. Mirrors ``torch.Generator.set_state``."""
        raw = np.asarray(getattr(new_state, "data", new_state), dtype=np.uint8).tobytes()
        try:
            state = json.loads(raw.decode())
            self.engine.bit_generator.state = state["bit_generator"]
        except (ValueError, KeyError, TypeError) as err:
            raise RuntimeError(f"Generator.set_state: not a state from get_state ({err})") from None
        self._seed = state["seed"]
        return self


default_generator = Generator("cpu")


def manual_seed(seed: int) -> Generator:
    """Seed the default generator (and CUDA's, once loaded). Mirrors ``torch.manual_seed``."""
    return default_generator.manual_seed(seed)


def seed() -> int:
    """Seed the default generator from fresh entropy and return the seed. Mirrors ``torch.seed``."""
    return default_generator.seed()


def initial_seed() -> int:
    """Return the default generator's seed. Mirrors ``torch.initial_seed``."""
    return default_generator.initial_seed()


def generator_for(generator: Generator | None) -> np.random.Generator:
    """Return the engine to draw from: the given generator's, or the default one's."""
    return (generator or default_generator).engine
