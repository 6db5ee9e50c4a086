"""Module state-dict machinery: the load plan, state_dict post-hooks, positional arguments.

The load plan runs the load pre-hooks and sorts out every key before anything is copied.
Split from module_hooks.py to keep files short; module.py's state_dict and load_state_dict
call it.
"""

from __future__ import annotations

import warnings
from collections import OrderedDict
from typing import Any

from ember.nn.module_hooks import _EXTRA_STATE_KEY_SUFFIX, ModuleExtras
from ember.tensor import Tensor


class LoadPlan:
    """What load_state_dict will do, gathered (with the load pre-hooks run) before copying."""

    def __init__(self) -> None:
        self.loads: list[tuple[str, Tensor, Any]] = []  # (key, target, source)
        self.extras: list[tuple[Any, Any]] = []  # (module, extra state)
        self.missing: list[str] = []
        self.unexpected: list[str] = []
        self.errors: list[str] = []
        self.post: list[Any] = []  # modules with load post-hooks, children first


def plan_load(root: Any, state_dict: Any, assign: bool = False) -> LoadPlan:
    """Walk the modules as PyTorch's load does: pre-hooks, own keys, unexpected keys."""
    metadata = getattr(state_dict, "_metadata", None)
    state_dict = OrderedDict(state_dict)  # pre-hooks may edit their copy
    if metadata is not None:
        state_dict._metadata = metadata  # type: ignore[attr-defined]
    plan = LoadPlan()
    _plan_module(root, state_dict, "", metadata, assign, plan)
    return plan


def _plan_module(
    module: Any, local: dict, prefix: str, metadata: Any, assign: bool, plan: LoadPlan
) -> None:
    local_metadata = {} if metadata is None else metadata.get(prefix[:-1], {})
    if assign:
        local_metadata["assign_to_params_buffers"] = assign
    for hook in module._load_state_dict_pre_hooks.values():
        hook(local, prefix, local_metadata, True, plan.missing, plan.unexpected, plan.errors)
    own = {k: v for k, v in module._parameters.items() if v is not None}
    skip = module._non_persistent_buffers_set
    own.update((k, v) for k, v in module._buffers.items() if v is not None and k not in skip)
    for name, target in own.items():
        key = prefix + name
        if key in local:
            plan.loads.append((key, target, local[key]))
        else:
            plan.missing.append(key)
    extra_key = prefix + _EXTRA_STATE_KEY_SUFFIX
    if type(module).set_extra_state is not ModuleExtras.set_extra_state:
        if extra_key in local:
            plan.extras.append((module, local[extra_key]))
        else:
            plan.missing.append(extra_key)
    elif extra_key in local:
        plan.unexpected.append(extra_key)
    for key in local:
        if key.startswith(prefix) and key != extra_key:
            head, dot, _ = key[len(prefix) :].partition(".")
            if (dot and head not in module._modules) or (not dot and head not in own):
                plan.unexpected.append(key)
    for name, child in module._modules.items():
        if child is not None:
            sub = prefix + name + "."
            child_dict = {k: v for k, v in local.items() if k.startswith(sub)}
            _plan_module(child, child_dict, sub, metadata, assign, plan)
    if module._load_state_dict_post_hooks:
        plan.post.append(module)


def positional_state_dict_args(
    args: tuple, destination: Any, prefix: str, keep_vars: bool
) -> tuple[Any, str, bool]:
    """state_dict(destination, prefix, keep_vars) given positionally: deprecated, as PyTorch."""
    warnings.warn(
        "Positional args are being deprecated, use kwargs instead. Refer to "
        "https://pytorch.org/docs/main/generated/torch.nn.Module.html#torch.nn.Module.state_dict"
        " for details.",
        FutureWarning,
        stacklevel=3,
    )
    if destination is None:
        destination = args[0]
    if len(args) > 1 and prefix == "":
        prefix = args[1]
    if len(args) > 2 and keep_vars is False:
        keep_vars = args[2]
    return destination, prefix, keep_vars


def run_state_dict_hooks(module: Any, destination: Any, prefix: str, metadata: dict) -> Any:
    """Run state_dict post-hooks; only private-API hooks may return a new dict."""
    for hook in module._state_dict_hooks.values():
        result = hook(module, destination, prefix, metadata)
        if not getattr(hook, "_from_public_api", False):
            if result is not None:
                destination = result
        elif result is not None:
            raise RuntimeError("state_dict post-hook must return None")
    return destination
