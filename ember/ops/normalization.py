"""Batch, layer, group, instance, RMS and local-response normalisation."""

__all__: list[str] = []
