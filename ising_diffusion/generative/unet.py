"""The noise-prediction network shared by the diffusion generators (DDPM and D3PM): the paper's MLP "inspired by
U-Nets", written with Flax NNX, and its pure ``apply`` over a nested dict of parameters."""

from __future__ import annotations

import math

import jax
import jax.numpy as jnp
from flax import nnx
from jaxtyping import Array, Float

__all__ = ["UNetMLP", "network_fns", "timestep_embedding"]


def timestep_embedding(t: Array, dim: int, max_period: float = 10000.0) -> Float[Array, "B D"]:
    """Sinusoidal embedding (Vaswani et al.; Ho et al.) of integer or real time steps ``t`` of shape ``(B,)``."""
    half = dim // 2
    freqs = jnp.exp(-math.log(max_period) * jnp.arange(half, dtype=jnp.float32) / half)
    args = jnp.asarray(t, jnp.float32)[:, None] * freqs[None, :]
    return jnp.concatenate([jnp.sin(args), jnp.cos(args)], axis=-1)


class UNetMLP(nnx.Module):
    """The paper's noise-prediction MLP "inspired by U-Nets".

    With ``widths = (w1, w2, w3)``: encoder ``N -> w1 -> w2 -> w3``; decoder ``w3 -> w3``, then inputs
    ``w3 + w3 -> w2``, ``w2 + w2 -> w1``, ``w1 + w1 -> N`` where ``+`` concatenates the encoder activation of the same
    width (when ``skip``). GELU after every hidden layer; the sinusoidal time embedding is concatenated to every
    layer's input (equivalent to adding a learned linear projection of it to every pre-activation).
    """

    def __init__(self, n_spins: int, widths=(128, 256, 512), *, skip: bool = True, time_embed_dim: int = 32,
                 rngs: nnx.Rngs):
        self.skip = skip
        self.time_embed_dim = time_embed_dim
        d = time_embed_dim
        enc, prev = [], n_spins
        for w in widths:
            enc.append(nnx.Linear(prev + d, w, rngs=rngs))
            prev = w
        self.encoder = nnx.List(enc)
        self.middle = nnx.Linear(widths[-1] + d, widths[-1], rngs=rngs)
        dec = []
        outs = list(reversed(widths[:-1])) + [n_spins]
        prev = widths[-1]
        for w_skip, w_out in zip(reversed(widths), outs):
            dec.append(nnx.Linear(prev + (w_skip if skip else 0) + d, w_out, rngs=rngs))
            prev = w_out
        self.decoder = nnx.List(dec)

    def __call__(self, x: Float[Array, "B N"], t: Array) -> Float[Array, "B N"]:
        emb = timestep_embedding(t, self.time_embed_dim)
        cat = lambda *a: jnp.concatenate(a + (emb,), axis=-1)  # noqa: E731
        skips = []
        h = x
        for layer in self.encoder:
            h = jax.nn.gelu(layer(cat(h)))
            skips.append(h)
        h = jax.nn.gelu(self.middle(cat(h)))
        n_dec = len(self.decoder)
        for i, layer in enumerate(self.decoder):
            inp = cat(h, skips[-1 - i]) if self.skip else cat(h)
            h = layer(inp)
            if i < n_dec - 1:
                h = jax.nn.gelu(h)
        return h


def network_fns(config, n_spins: int):
    """``(build, apply)``: ``build(key) -> UNetMLP`` and the pure ``apply(params, x (B, N), t (B,)) -> (B, N)`` over a
    nested dict of parameters; ``config`` supplies ``widths``, ``skip`` and ``time_embed_dim`` (a ``DDPMConfig`` or
    ``D3PMConfig``)."""

    def build(key):
        return UNetMLP(n_spins, config.widths, skip=config.skip, time_embed_dim=config.time_embed_dim,
                       rngs=nnx.Rngs(params=key))

    graphdef, _ = nnx.split(nnx.eval_shape(lambda: build(jax.random.key(0))))

    def apply(params, x, t):
        return nnx.merge(graphdef, params)(x, t)

    return build, apply
