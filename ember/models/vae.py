"""The variational autoencoder of PyTorch's ``examples/vae`` (Kingma and Welling 2013)."""

from __future__ import annotations

from ember import nn
from ember.nn import functional as F
from ember.ops.random import randn_like
from ember.tensor import Tensor

__all__ = ["VAE"]


class VAE(nn.Module):
    """Encode to a diagonal Gaussian, sample by reparameterisation, decode to Bernoulli means.

    Mirrors the ``VAE`` of PyTorch's ``examples/vae``: the same layers (``fc1``, ``fc21`` for
    the mean, ``fc22`` for the log-variance, ``fc3``, ``fc4``) and forward.

    Shapes: input (N, *) with in_features elements per sample (e.g. (N, 1, 28, 28)) ->
    (recon (N, in_features) in (0, 1), mu (N, latent), logvar (N, latent)).

    Differences from the example: in eval mode ``reparameterize`` returns ``mu`` (no sampling),
    so evaluation is deterministic; the example samples in both modes.
    """

    def __init__(self, in_features: int = 784, hidden: int = 400, latent: int = 20) -> None:
        super().__init__()
        self.in_features = in_features
        self.fc1 = nn.Linear(in_features, hidden)
        self.fc21 = nn.Linear(hidden, latent)
        self.fc22 = nn.Linear(hidden, latent)
        self.fc3 = nn.Linear(latent, hidden)
        self.fc4 = nn.Linear(hidden, in_features)

    def encode(self, x: Tensor) -> tuple[Tensor, Tensor]:
        """Return the posterior's mean and log-variance, each (N, latent)."""
        h1 = F.relu(self.fc1(x))
        return self.fc21(h1), self.fc22(h1)

    def reparameterize(self, mu: Tensor, logvar: Tensor) -> Tensor:
        """Sample z = mu + eps * exp(logvar / 2) with eps ~ N(0, 1) (training); mu in eval."""
        if not self.training:
            return mu
        std = (0.5 * logvar).exp()
        return mu + randn_like(std) * std

    def decode(self, z: Tensor) -> Tensor:
        """Map latent codes (N, latent) to Bernoulli means (N, in_features)."""
        return F.sigmoid(self.fc4(F.relu(self.fc3(z))))

    def forward(self, x: Tensor) -> tuple[Tensor, Tensor, Tensor]:
        mu, logvar = self.encode(x.reshape(-1, self.in_features))  # (N, latent) each
        z = self.reparameterize(mu, logvar)
        return self.decode(z), mu, logvar

    @staticmethod
    def loss_function(recon_x: Tensor, x: Tensor, mu: Tensor, logvar: Tensor) -> Tensor:
        """Return the negative ELBO summed over the batch: BCE + KL(q(z|x) || N(0, I))."""
        bce = F.binary_cross_entropy(recon_x, x.reshape(recon_x.shape), reduction="sum")
        # KL of a diagonal Gaussian from the standard normal (Appendix B of the paper).
        kld = -0.5 * (1 + logvar - mu.pow(2) - logvar.exp()).sum()
        return bce + kld
