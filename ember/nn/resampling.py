"""Resampling layers: PixelShuffle, Upsample, ChannelShuffle, ..."""

__all__: list[str] = []
