"""docs/augmentation.md's "Public API" block against the code: every name, field and default it shows is the real one
(the block had fallen behind the code: missing fields, an old default solver penalty)."""
import ast
import dataclasses
import inspect
import re
from pathlib import Path

import pytest

from ising_diffusion import DDPMConfig, augment, augment_seeds, make_generator
from ising_diffusion.augment import (
    DEFAULT_SOLVER,
    DEFAULT_SOLVER_OPTIONS,
    AugmentConfig,
    AugmentResult,
    load_checkpointed_state,
)
from ising_diffusion.augment.config import FLAT_FIELDS
from ising_diffusion.monitor import StoppingCurve

DOC = Path(__file__).resolve().parents[1] / "docs" / "augmentation.md"


def _block() -> str:
    text = DOC.read_text()
    body = text.index("```\n", text.index("## Public API")) + 4
    return text[body:text.index("\n```", body)]


def _call(name: str) -> str:
    """The argument text of ``name(...)`` in the block (parentheses balanced)."""
    block = _block()
    m = re.search(rf"(?m)^{re.escape(name)}\(", block)
    assert m, f"{name}(...) missing from the Public API block"
    depth, i = 1, m.end()
    while depth:
        depth += {"(": 1, ")": -1}.get(block[i], 0)
        i += 1
    return block[m.end():i - 1]


def _split(args: str) -> list[str]:
    parts, depth, cur = [], 0, ""
    for ch in args:
        depth += {"(": 1, ")": -1}.get(ch, 0)
        if ch == "," and depth == 0:
            parts.append(cur.strip())
            cur = ""
        else:
            cur += ch
    return [p for p in (*parts, cur.strip()) if p]


def _defaults(name: str) -> dict:
    """``{keyword: default}`` of the block's ``name(...)``, defaults shown with ``...`` left out (as None-valued)."""
    out = {}
    for part in _split(_call(name)):
        if "=" in part:
            key, value = part.split("=", 1)
            out[key.strip()] = None if "..." in value else ast.literal_eval(value)
    return out


@pytest.mark.parametrize("name,cls", [("AugmentResult", AugmentResult), ("StoppingCurve", StoppingCurve)])
def test_named_tuples_list_their_fields_in_order(name, cls):
    assert [p.strip() for p in _split(_call(name))] == list(cls._fields)


@pytest.mark.parametrize("fn", [augment, load_checkpointed_state, make_generator])
def test_function_keywords_and_defaults(fn):
    shown = _defaults(fn.__name__)
    params = inspect.signature(fn).parameters
    with_default = {k: p.default for k, p in params.items() if p.default is not inspect.Parameter.empty}
    assert set(shown) == set(with_default)
    for key, value in shown.items():
        assert value == with_default[key], key


def test_augment_seeds_takes_augments_keywords_and_validate():
    extra = set(inspect.signature(augment_seeds).parameters) - set(inspect.signature(augment).parameters)
    assert extra == {"keys", "validate"} and "validate=True" in _call("augment_seeds")


@pytest.mark.parametrize("name,defaults", [
    ("AugmentConfig", lambda: {k: getattr(AugmentConfig(), k) for k in FLAT_FIELDS}),
    ("DDPMConfig", lambda: {f.name: f.default for f in dataclasses.fields(DDPMConfig)}),
])
def test_config_defaults(name, defaults):
    shown, real = _defaults(name), defaults()
    assert set(shown) == set(real)
    for key, value in shown.items():
        if value is not None or real[key] is None:
            assert value == real[key] or tuple(value) == tuple(real[key]), key


def test_default_solver_line():
    line = next(ln for ln in _block().splitlines() if ln.startswith("DEFAULT_SOLVER"))
    assert f'DEFAULT_SOLVER = "{DEFAULT_SOLVER}"' in line
    assert ast.literal_eval(line.split("DEFAULT_SOLVER_OPTIONS = ")[1].split("}")[0] + "}") == DEFAULT_SOLVER_OPTIONS
