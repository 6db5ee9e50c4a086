"""Max, average, adaptive and power-average pooling."""

__all__: list[str] = []
