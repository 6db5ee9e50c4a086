"""Parameter initialisation. Mirrors ``torch.nn.init``."""
