"""Resampling: pixel shuffle, interpolate, grid_sample, affine_grid, channel shuffle."""

__all__: list[str] = []
