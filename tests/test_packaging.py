"""The installed layout: only ``ising_diffusion`` is a package; the CLI never imports the repo-only folders."""
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_only_the_library_is_installed():
    """pyproject's package discovery (as ``pip install .`` runs it) finds ising_diffusion and its experiments, and no
    top-level ``configs`` or ``experiments`` (they would clash with other projects' packages in site-packages)."""
    import tomllib

    from setuptools import find_namespace_packages

    find = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]["packages"]["find"]
    assert find.get("namespaces", True)  # the default: setuptools uses namespace discovery
    packages = find_namespace_packages(str(ROOT), include=find["include"], exclude=find.get("exclude", ()))
    assert {"ising_diffusion", "ising_diffusion.experiments", "ising_diffusion.experiments.configs"} <= set(packages)
    assert all(p.split(".")[0] == "ising_diffusion" for p in packages), packages
    # and the unfiltered discovery would have found the repo-only folder: the filter is what keeps it out
    assert "experiments" in find_namespace_packages(str(ROOT), include=["experiments*"])


def test_cli_imports_no_top_level_experiment_package():
    code = ("import sys; from ising_diffusion import cli; cli.main(['run', 'fig3', '--preset', 'tiny', "
            "'--print-config']); print(sorted(m for m in sys.modules if m.split('.')[0] in ('configs', 'experiments')))")
    res = subprocess.run([sys.executable, "-c", code], cwd=ROOT / "tests", env=dict(os.environ, PYTHONPATH=str(ROOT)),
                         capture_output=True, text=True, timeout=120)
    assert res.returncode == 0, res.stderr
    assert res.stdout.strip().splitlines()[-1] == "[]"
