"""The command line's persistent compilation cache: on by default in a per-user folder, opt-out by environment."""

import jax

from ising_diffusion import compile_cache


def test_cache_folder_opt_out_and_user_choice(monkeypatch, tmp_path):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    assert compile_cache.default_cache_dir() == tmp_path / "ising_diffusion" / "jax"
    monkeypatch.setenv(compile_cache.OPT_OUT_ENV, "1")
    assert compile_cache.enable_compilation_cache() is None
    monkeypatch.delenv(compile_cache.OPT_OUT_ENV)
    monkeypatch.setenv("JAX_COMPILATION_CACHE_DIR", str(tmp_path / "mine"))
    # the test run's own cache (tests/conftest.py) is set aside: the user's folder is what is checked here
    test_cache = jax.config.jax_compilation_cache_dir
    jax.config.update("jax_compilation_cache_dir", None)
    try:
        _check_folders(monkeypatch, tmp_path)
    finally:
        jax.config.update("jax_compilation_cache_dir", test_cache)


def _check_folders(monkeypatch, tmp_path):
    assert not jax.config.jax_compilation_cache_dir
    updates = []
    monkeypatch.setattr(jax.config, "update", lambda name, value: updates.append((name, value)))
    # JAX is imported here, so the folder goes through jax.config; the user's JAX_COMPILATION_CACHE_DIR wins
    assert compile_cache.enable_compilation_cache() == tmp_path / "mine"
    assert updates == [("jax_compilation_cache_dir", str(tmp_path / "mine"))]
    monkeypatch.delenv("JAX_COMPILATION_CACHE_DIR")
    updates.clear()
    assert compile_cache.enable_compilation_cache() == tmp_path / "ising_diffusion" / "jax"
    assert updates == [("jax_compilation_cache_dir", str(tmp_path / "ising_diffusion" / "jax"))]
    monkeypatch.undo()  # jax.config.update back before the caller restores the test cache


def test_cli_enables_cache_before_running(monkeypatch):
    from ising_diffusion import cli

    calls = []
    monkeypatch.setattr(cli, "enable_compilation_cache", lambda: calls.append("cache"))
    monkeypatch.setattr(cli, "run_experiment", lambda name, argv: calls.append(name))
    assert cli.main(["main", "--preset", "tiny"]) == 0
    assert calls == ["cache", "main"]
