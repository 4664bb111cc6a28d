"""K fully connected nets of one config as one module with stacked weights.

Layer ``l`` holds ``weight`` of shape ``(K, in, out)`` and ``bias`` ``(K, 1, out)``; a forward
pass is one batched matrix product per layer for all K members, each on its own batch.
:class:`StackedAdam` steps each member exactly as ``torch.optim.Adam`` would step it alone,
and leaves members that are not active untouched.
"""

from __future__ import annotations

import torch
from torch import nn
from torch.optim.adam import adam

from nndl.models.configs import FCNConfig
from nndl.models.nets import FCN

__all__ = ["StackedAdam", "StackedFCN"]

_ACT = {"sigmoid": torch.sigmoid, "relu": torch.relu, "tanh": torch.tanh}


def _dropout(x: torch.Tensor, p: float) -> torch.Tensor:
    """Inverted dropout from a uniform draw: the same distribution as ``F.dropout``, and on
    CPU about 3x faster for the small activations of these nets (bernoulli is slow there)."""
    keep = (torch.rand(x.shape, device=x.device) >= p).to(x.dtype).mul_(1.0 / (1.0 - p))
    return x * keep


class StackedFCN(nn.Module):
    """K members of ``config``; input ``(K, B, in)``, output ``(K, B, out)``.

    All weights live in one ``(K, D)`` tensor ``flat``; each layer's ``(K, in, out)`` weight
    and ``(K, 1, out)`` bias are views into it, so an optimizer updates every layer of every
    member with a handful of whole-tensor operations.
    """

    def __init__(
        self, config: FCNConfig, members: list[FCN], device: torch.device | str = "cpu"
    ) -> None:
        super().__init__()
        self.config = config
        self.k = len(members)
        linears = [[m for m in net.modules() if isinstance(m, nn.Linear)] for net in members]
        blocks = [
            torch.cat(
                [torch.cat([lin.weight.detach().t().reshape(-1), lin.bias.detach()]) for lin in net]
            )
            for net in linears
        ]
        self.flat = torch.stack(blocks).to(device).contiguous()
        self.grad_flat = torch.zeros_like(self.flat)
        self.weights = nn.ParameterList()
        self.biases = nn.ParameterList()
        offset = 0
        for lin in linears[0]:
            n_in, n_out = lin.in_features, lin.out_features
            self.weights.append(self._view(offset, (n_in, n_out)))
            offset += n_in * n_out
            self.biases.append(self._view(offset, (1, n_out)))
            offset += n_out

    def _view(self, offset: int, shape: tuple[int, int]) -> nn.Parameter:
        """A parameter sharing ``flat``'s storage; its gradient accumulates into ``grad_flat``."""
        end = offset + shape[0] * shape[1]
        param = nn.Parameter(self.flat[:, offset:end].view(self.k, *shape))
        param.grad = self.grad_flat[:, offset:end].view(self.k, *shape)
        return param

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        act = _ACT[self.config.activation]
        dropout = self.config.dropout
        last = len(self.weights) - 1
        for i, (w, b) in enumerate(zip(self.weights, self.biases, strict=True)):
            x = torch.baddbmm(b, x, w)
            if i < last:
                x = act(x)
                if self.training and dropout and dropout[i] > 0:
                    x = _dropout(x, dropout[i])
        return x

    def member(self, k: int) -> FCN:
        """Member ``k`` as a plain :class:`FCN` (a copy, on the CPU)."""
        net = FCN(self.config)
        linears = [m for m in net.modules() if isinstance(m, nn.Linear)]
        with torch.no_grad():
            for lin, w, b in zip(linears, self.weights, self.biases, strict=True):
                lin.weight.copy_(w[k].t())
                lin.bias.copy_(b[k, 0])
        return net


def _fused_adam_works(device: torch.device) -> bool:
    """Whether torch's fused Adam kernel runs on ``device`` (torch >= 2.4 on CPU)."""
    try:
        one = [torch.zeros(1, device=device)]
        adam(one, [torch.ones(1, device=device)], [torch.zeros(1, device=device)],
             [torch.zeros(1, device=device)], [], [torch.zeros((), device=device)], fused=True,
             amsgrad=False, beta1=0.9, beta2=0.999, lr=1e-3, weight_decay=0.0, eps=1e-8, maximize=False)  # fmt: skip
    except (RuntimeError, TypeError):
        return False
    return True


class StackedAdam:
    """Adam (L2 weight decay, as ``torch.optim.Adam``) on a stacked net, member by member.

    Member ``k``'s weights, gradients and moments are row ``k`` of ``(K, D)`` tensors, with
    its own step count; :meth:`step` updates only the members it is given, through torch's
    own (fused where available) Adam kernel, so each member moves exactly as it would alone.
    """

    def __init__(
        self,
        model: StackedFCN,
        lr: float,
        weight_decay: float = 0.0,
        betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-8,
    ) -> None:
        self.model = model
        self.lr, self.weight_decay, self.betas, self.eps = lr, weight_decay, betas, eps
        self.m = torch.zeros_like(model.flat)
        self.v = torch.zeros_like(model.flat)
        self.steps = [torch.zeros((), device=model.flat.device) for _ in range(model.k)]
        self.fused = _fused_adam_works(model.flat.device)

    def zero_grad(self) -> None:
        self.model.grad_flat.zero_()

    @torch.no_grad()
    def step(self, members: list[int]) -> None:
        """Update the listed members; the others stay exactly as they are."""
        flat, grad = self.model.flat, self.model.grad_flat
        adam(
            [flat[k] for k in members], [grad[k] for k in members], [self.m[k] for k in members],
            [self.v[k] for k in members], [], [self.steps[k] for k in members],
            fused=self.fused or None, foreach=None if self.fused else True, amsgrad=False,
            beta1=self.betas[0], beta2=self.betas[1], lr=self.lr, weight_decay=self.weight_decay,
            eps=self.eps, maximize=False,
        )  # fmt: skip
