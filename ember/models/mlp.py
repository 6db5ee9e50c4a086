"""Small reference models: a multilayer perceptron and LeNet-5."""

from __future__ import annotations

from collections.abc import Callable, Sequence

from ember import nn
from ember.nn import functional as F
from ember.tensor import Tensor

__all__ = ["MLP", "LeNet5"]


class MLP(nn.Sequential):
    """Stack Linear -> activation -> Dropout per hidden layer, then a final Linear.

    The layers are the entries of a ``Sequential``, so the state_dict keys are ``0.weight``,
    ``0.bias``, ``3.weight``, ... (three entries per hidden layer), as in
    ``torchvision.ops.MLP`` without its normalisation layers and final dropout.

    Shapes: input (*, in_features) -> output (*, out_features).

    Args:
        in_features: size of each input sample.
        hidden_features: sizes of the hidden layers, in order (may be empty).
        out_features: size of each output sample.
        activation: a Module class (or any callable returning a Module) placed after every
            hidden Linear.
        dropout: dropout probability after every hidden activation.
    """

    def __init__(
        self,
        in_features: int,
        hidden_features: Sequence[int],
        out_features: int,
        activation: Callable[[], nn.Module] = nn.ReLU,
        dropout: float = 0.0,
    ) -> None:
        layers: list[nn.Module] = []
        width = in_features
        for hidden in hidden_features:
            layers += [nn.Linear(width, hidden), activation(), nn.Dropout(dropout)]
            width = hidden
        layers.append(nn.Linear(width, out_features))
        super().__init__(*layers)
        self.in_features = in_features
        self.out_features = out_features


class LeNet5(nn.Module):
    """Classify 1x28x28 images with LeNet-5 as common PyTorch ports write it.

    conv1 6@5x5 (padding 2, so 28x28 stays 28x28) -> ReLU -> max-pool 2 -> conv2 16@5x5 ->
    ReLU -> max-pool 2 -> fc1 120 -> fc2 84 -> fc3 num_classes.

    Shapes: input (N, 1, 28, 28) -> logits (N, num_classes).

    Differences from the 1998 paper: ReLU and max-pooling in place of scaled tanh and
    trainable sub-sampling, and a plain fully connected C5/F6, as in the PyTorch ports.
    """

    def __init__(self, num_classes: int = 10) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(1, 6, 5, padding=2)
        self.conv2 = nn.Conv2d(6, 16, 5)
        self.fc1 = nn.Linear(16 * 5 * 5, 120)
        self.fc2 = nn.Linear(120, 84)
        self.fc3 = nn.Linear(84, num_classes)

    def forward(self, x: Tensor) -> Tensor:
        x = F.max_pool2d(F.relu(self.conv1(x)), 2)  # (N, 6, 14, 14)
        x = F.max_pool2d(F.relu(self.conv2(x)), 2)  # (N, 16, 5, 5)
        x = x.flatten(1)  # (N, 400)
        x = F.relu(self.fc1(x))
        x = F.relu(self.fc2(x))
        return self.fc3(x)
