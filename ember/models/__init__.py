"""The model zoo: reference models written nanoGPT-style on ``ember.nn``.

Vision and small models (MLP, LeNet5, ResNet, VAE, DCGAN, ESPCN, CharRNN, GPT) live here
beside the pretrained-weight models (BERT, GPT-2) that load Hugging Face folders.
"""

from ember.models import dcgan
from ember.models.char_rnn import CharRNN
from ember.models.dcgan import Discriminator as DCGANDiscriminator
from ember.models.dcgan import Generator as DCGANGenerator
from ember.models.gpt import GPT, GPTConfig
from ember.models.mlp import MLP, LeNet5
from ember.models.resnet import BasicBlock, Bottleneck, ResNet, resnet18, resnet34, resnet50
from ember.models.super_resolution import ESPCN
from ember.models.vae import VAE

# isort: split
# --- pretrained models (bert.py, gpt2.py, sentence.py, generation.py): exports below ---
from ember.models.bert import BertConfig, BertModel
from ember.models.generation import generate
from ember.models.gpt2 import GPT2Config, GPT2LMHeadModel, GPT2Model
from ember.models.outputs import (
    BaseModelOutputWithPast,
    BaseModelOutputWithPooling,
    CausalLMOutputWithPast,
)
from ember.models.sentence import SentenceEmbedder

# --- end of pretrained models ---

__all__ = [
    "GPT",
    "MLP",
    "VAE",
    "BasicBlock",
    "Bottleneck",
    "CharRNN",
    "DCGANDiscriminator",
    "DCGANGenerator",
    "ESPCN",
    "GPTConfig",
    "LeNet5",
    "ResNet",
    "dcgan",
    "resnet18",
    "resnet34",
    "resnet50",
    # --- pretrained models: names below ---
    "BaseModelOutputWithPast",
    "BaseModelOutputWithPooling",
    "BertConfig",
    "BertModel",
    "CausalLMOutputWithPast",
    "GPT2Config",
    "GPT2LMHeadModel",
    "GPT2Model",
    "SentenceEmbedder",
    "generate",
    # --- end of pretrained models ---
]
