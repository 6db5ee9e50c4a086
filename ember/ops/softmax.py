"""softmax, log_softmax and softmin, fused and numerically stable."""

__all__: list[str] = []
