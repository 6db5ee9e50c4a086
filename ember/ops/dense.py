"""Dense layers' math: F.linear and F.bilinear."""

__all__: list[str] = []
