"""Real data sets used by the experiments (never downloaded at run time)."""

from ising_diffusion.datasets.msa import MSA_ENV_VAR, MSAFamily, find_msa_family, load_msa_family
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
    "MSA_ENV_VAR",
    "MSAFamily",
    "find_msa_family",
    "load_msa_family",
    "RETINA_ENV_VAR",
    "RETINA_FILENAMES",
    "RetinaData",
    "find_retina_file",
    "load_retina",
    "load_retina_binary",
    "select_active_cells",
]
