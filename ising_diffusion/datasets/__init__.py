"""Real data sets used by the experiments (never downloaded at run time)."""

from ising_diffusion.datasets.retina import (
    RETINA_ENV_VAR,
    RETINA_FILENAMES,
    RetinaData,
    find_retina_file,
    load_retina,
    load_retina_binary,
    select_active_cells,
)

__all__ = [
    "RETINA_ENV_VAR",
    "RETINA_FILENAMES",
    "RetinaData",
    "find_retina_file",
    "load_retina",
    "load_retina_binary",
    "select_active_cells",
]
