"""The msa presets (issue 23): DCA contact precision on shallow random subsamples of protein families.

Presets to read, copy and pass by path (this folder is not installed; the installed command runs the same presets as
``--preset quick|paper|tiny`` from ``ising_diffusion/experiments/configs/msa.py``, which these build on)::

    ising-diffusion run msa --config configs/msa.py:quick
    ising-diffusion run msa --config configs/msa.py:paper --print-config    # every field, as JSON

A preset is a config dataclass instance at module level; change fields with ``dataclasses.replace`` (or ``--set
FIELD=VALUE`` on the command line, e.g. ``--set depths=50,100 --set methods=plm_cv,mf,augment:d3pm_categorical``).
An ``augment:<generator>`` method writes two rows per subsample (``augment``'s answer, and CV pseudolikelihood on
training + generated sequences as ``augment:<generator>:mix``); its budget is the ``augment`` field.
"""

from ising_diffusion.experiments.configs import msa as package

quick = package.get_config("quick")  # CPU: depths 50/100, 3 subsamples, plm / plm_cv / mf
paper = package.get_config("paper")  # depths 50..1000, 5 subsamples, + augment:d3pm_categorical, augment:ddpm_onehot
tiny = package.get_config("tiny")  # the committed 300-sequence subsample: a smoke test
