"""What an :func:`~ising_diffusion.augment.augment` run checkpoints at each monitor point, and reading it back.

Each monitor point saves ``{"state": ..., "record": ...}``: the kernel's :class:`AugmentState` without its constant
``ref`` (the data and ``w_train``, recomputed by ``init``), and that point's :class:`StepInfo`, so a resumed run has
the whole curve. :func:`load_checkpointed_state` reads the generator state of any saved point.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp

from ising_diffusion.augment.kernel import AugmentState, StepInfo
from ising_diffusion.checkpoint import Checkpointer, read_run_meta
from ising_diffusion.generative import GENERATOR_CONFIGS, make_generator
from ising_diffusion.ising import IsingParams
from ising_diffusion.potts import PottsParams

__all__ = ["point_tree", "load_checkpointed_state"]


def point_tree(state: AugmentState, info: StepInfo) -> dict:
    """The tree saved at a monitor point (arrays or ``ShapeDtypeStruct``s alike: it is also the restore target)."""
    saved = state._asdict()
    del saved["ref"]
    return {"state": saved, "record": info._asdict()}


def load_checkpointed_state(checkpoint_dir, epoch: float | None = None, *, n_spins: int, generator: str = "ddpm",
                            generator_config=None, n_seeds: int | None = None, step: int | None = None):
    """The generator state that ``augment`` / ``augment_seeds`` saved at a monitor point.

    Args:
      checkpoint_dir: the ``checkpoint_dir`` of that run.
      epoch: a monitored epoch (``result.stop_epoch``, ``result.curve.epochs[i]``), or
      step: a monitored optimiser step (``result.stop_step``, ``result.curve.steps[i]``); checkpoints are keyed by
        step, and ``epoch`` is converted with the run's recorded steps per epoch.
      n_spins: ``N`` (for an alignment's run: its length ``L``).
      generator, generator_config: as passed to that run (for a q-state generator, with the run's ``n_states``).
      n_seeds: ``S`` for a run of ``augment_seeds`` (state with a leading seed axis); ``None`` for ``augment``.

    Returns:
      The generator state pytree; draw samples with ``make_generator(generator, generator_config, n_spins).sample``.
    """
    if (epoch is None) == (step is None):
        raise ValueError("give exactly one of epoch and step")
    meta = read_run_meta(checkpoint_dir)
    if step is None:
        spe = meta.get("steps_per_epoch")
        if spe is None:
            raise ValueError(f"{checkpoint_dir} holds no augment run")
        step = int(round(float(epoch) * spe))
    if generator_config is None:
        generator_config = GENERATOR_CONFIGS[generator]()
    gen = make_generator(generator, generator_config, n_spins)
    s = 1 if n_seeds is None else int(n_seeds)
    if meta.get("n_seeds", s) != s:
        raise ValueError(f"{checkpoint_dir} holds a run of {meta['n_seeds']} seed(s), not {s} (n_seeds)")
    gen_t = jax.eval_shape(lambda k: jax.vmap(gen.init)(k, jnp.ones((s, 2, n_spins), jnp.float32)),
                           jax.random.split(jax.random.key(0), s))
    f32, i32 = (lambda *shape: jax.ShapeDtypeStruct((s,) + shape, jnp.float32),  # noqa: E731
                lambda *shape: jax.ShapeDtypeStruct((s,) + shape, jnp.int32))
    n_mix = int(meta.get("n_mix", 0))
    q = getattr(generator_config, "n_states", None)  # a q-state generator's run (alignments) keeps Potts fits
    best_t = IsingParams(f32(n_spins), f32(n_spins, n_spins)) if q is None else \
        PottsParams(f32(n_spins, q), f32(n_spins, n_spins, q, q))
    state_t = AugmentState(gen_t, gen_t, best_t, f32(), i32(), i32(), i32(), None)
    target = point_tree(state_t, StepInfo(f32(), f32(), f32(), f32(), f32(n_mix), f32(n_mix)))
    with Checkpointer(checkpoint_dir) as ckpt:
        if int(step) not in ckpt.steps():
            raise ValueError(f"no checkpoint for step {step} in {checkpoint_dir}; saved steps: {ckpt.steps()}")
        state = ckpt.restore(int(step), target)["state"]["gen"]
    return jax.tree.map(lambda a: a[0], state) if n_seeds is None else state
