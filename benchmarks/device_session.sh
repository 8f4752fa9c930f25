#!/usr/bin/env bash
# One lease of a GPU machine, as one command (run from the repository root; the machine's own jax/flax/optax):
#   1. versions and devices;  2. benchmarks/device_check.py (timings + one Fig. 2 point fitted to $BUDGET_S);
#   3. `run msa --preset paper --estimate` (the paper preset priced on this device);
#   (SKIP_DC=1 skips 2 and 3)
#   4. `run msa --preset paper` restricted by $MSA_SET, until $TOTAL_S seconds after the start (rows are saved per
#      subsample, so a stopped run keeps what finished; its tables are copied to $OUT).
#   RESUME=<run folder> (e.g. a committed docs/figures/msa_paper_* folder): its config.json and results.json seed the
#      run, so `--set n_seeds=5` (more subsamples, depths or methods: configs.msa.GROWABLE) adds rows to its rows.
# Needs the alignments in $ISING_DIFFUSION_MSA (default .msa_data: copy ../shared/data/msa there and carry it).
# CPU dry run:  OUT=/tmp/ds TINY=1 bash benchmarks/device_session.sh
set -u
START=$(date +%s)
OUT=${OUT:-/tmp/device_session}
mkdir -p "$OUT"
export PYTHONPATH=$PWD PYTHONUNBUFFERED=1 ISING_DIFFUSION_MSA=${ISING_DIFFUSION_MSA:-$PWD/.msa_data}
PY=${PY:-python3}
TOTAL_S=${TOTAL_S:-570}
BUDGET_S=${BUDGET_S:-120}
MSA_SET=${MSA_SET:---set depths=200 --set n_seeds=2 --set ceiling=False --set methods=plm_cv,augment:ddpm_onehot,augment:d3pm_categorical}
CLI='import sys; from ising_diffusion.cli import main; sys.exit(main())'
LOG=$OUT/log.txt
left() { echo $((TOTAL_S - ($(date +%s) - START))); }
{
  date -u
  nvidia-smi -L 2>/dev/null
  $PY -c "import jax, flax, optax, numpy, scipy, orbax.checkpoint; print('jax', jax.__version__, 'flax', flax.__version__, 'optax', optax.__version__, 'numpy', numpy.__version__, 'scipy', scipy.__version__); print(jax.devices())"
  echo "== device_check ($(left) s left)"
  if [ -n "${SKIP_DC:-}" ]; then
    echo "skipped (SKIP_DC)"
  elif [ -n "${TINY:-}" ]; then
    timeout 120 $PY benchmarks/device_check.py --tiny --out "$OUT/dc"
  else
    timeout $((BUDGET_S + 200)) $PY benchmarks/device_check.py --budget-s "$BUDGET_S" --out "$OUT/dc"
  fi
  echo "== msa paper estimate ($(left) s left)"
  [ -z "${SKIP_DC:-}" ] && timeout 120 $PY -c "$CLI" run msa --preset paper --estimate
  echo "== msa run ($(left) s left): $MSA_SET"
  RUN=/tmp/msa_device_run
  if [ -n "${RESUME:-}" ]; then
    mkdir -p "$RUN" && cp "$RESUME/config.json" "$RESUME/results.json" "$RUN/" && echo "seeded from $RESUME"
  fi
  if [ -n "${TINY:-}" ]; then
    timeout 200 $PY -c "$CLI" run msa --preset tiny --set methods=plm_cv,augment:d3pm_categorical --out "$RUN" --no-progress
  else
    # shellcheck disable=SC2086
    timeout $(( $(left) - 20 )) $PY -c "$CLI" run msa --preset paper $MSA_SET --out "$RUN" --no-progress
  fi
  echo "== msa run ended with rc $? ($(left) s left)"
  ls -la "$RUN"
  # what a later `--out` folder needs to resume (config, results.json) and the rows to read: 4 files (at most 8 come back)
  for f in config.json results.json results.csv summary.csv; do [ -f "$RUN/$f" ] && cp "$RUN/$f" "$OUT/msa_$f"; done
  date -u
} 2>&1 | tee "$LOG"
