"""Convolutions and transposed convolutions as one GEMM over an im2col view."""

__all__: list[str] = []
