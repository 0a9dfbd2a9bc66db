"""The fast-path loader of the AWS provider bindings: it ran in this session, the installed package
has the shape it relies on, and any other shape falls back to the eager import."""

from __future__ import annotations

import gc
import importlib.machinery
import importlib.util
import re
import sys
from pathlib import Path
from types import ModuleType

import pytest

from modules import provider_loader
from modules.provider_loader import (
    EAGER_BLOCK_MARKER,
    PACKAGE,
    LoaderState,
    UnexpectedShapeError,
    _ProviderLoader,
    jsii_namespace,
    requested_mode,
    split_eager_block,
)
from tests.infrastructure.synth import SynthesizedApp

pytestmark = pytest.mark.synth
PACKAGE_DIR = Path(importlib.util.find_spec(PACKAGE).submodule_search_locations[0])  # type: ignore[index, union-attr]
SUBMODULES = sorted(
    path.parent.name for path in PACKAGE_DIR.glob("*/__init__.py") if not path.parent.name.startswith("_")
)


def test_the_session_synth_took_the_fast_path(app: SynthesizedApp) -> None:
    """A silent fallback to the eager import would load every submodule: this fails then."""
    if provider_loader.STATE.requested != "lazy":
        pytest.skip(f"{provider_loader.MODE_VARIABLE} asks for {provider_loader.STATE.requested}")
    loaded = provider_loader.loaded_submodules()
    assert provider_loader.STATE.taken == "lazy", provider_loader.STATE.fallback_reason
    assert provider_loader.STATE.submodules == len(SUBMODULES) > 2000
    assert "sqs_queue" in loaded
    assert len(loaded) < len(SUBMODULES) / 20, f"{len(loaded)} of {len(SUBMODULES)} provider submodules imported"


def test_the_installed_package_has_the_shape_the_fast_path_relies_on() -> None:
    _, names = split_eager_block((PACKAGE_DIR / "__init__.py").read_text(encoding="utf-8"))
    assert sorted(names) == SUBMODULES


def test_submodules_import_nothing_of_the_package_but_jsii_and_name_their_namespace() -> None:
    """Why lazy loading is safe, and why the jsii namespace map is right, over all 2,135 submodules."""
    package_import = re.compile(
        rb"^\s*(?:from \.+\w*|import cdktf_cdktf_provider_aws|from cdktf_cdktf_provider_aws)\b.*$", re.M
    )
    namespace = re.compile(rb'jsii_type="@cdktf/provider-aws\.(\w+)\.')
    for name in SUBMODULES:
        source = (PACKAGE_DIR / name / "__init__.py").read_bytes()
        assert [line.strip() for line in package_import.findall(source)] == [b"from .._jsii import *"], name
        assert {found.decode() for found in namespace.findall(source)} == {jsii_namespace(name)}, name


def test_unknown_types_resolve_through_the_registered_namespace_map(app: SynthesizedApp) -> None:
    if provider_loader.STATE.taken != "lazy":
        pytest.skip("the namespace map is registered by the fast path only")
    from jsii import _reference_map

    assert _reference_map._submodule_fqn_map["@cdktf/provider-aws.wafv2WebAcl"] == f"{PACKAGE}.wafv2_web_acl"


@pytest.mark.parametrize(
    ("value", "mode"), [(None, "lazy"), ("", "lazy"), ("lazy", "lazy"), ("EAGER", "eager"), ("stock", "stock")]
)
def test_requested_mode(value: str | None, mode: str) -> None:
    assert requested_mode({} if value is None else {provider_loader.MODE_VARIABLE: value}) == mode


def test_an_unknown_mode_is_refused() -> None:
    with pytest.raises(ValueError, match="expected one of lazy, eager, stock"):
        requested_mode({provider_loader.MODE_VARIABLE: "fast"})


GOOD = f'''"""A generated package."""
value = 1
from ._jsii import *
__all__ = ["beta", "alpha"]
{EAGER_BLOCK_MARKER}
from . import alpha
from . import beta
'''


@pytest.mark.parametrize(
    ("source", "reason"),
    [
        (GOOD.replace(EAGER_BLOCK_MARKER, "# another comment"), "appears 0 times"),
        (GOOD + "alpha.setup()\n", "unexpected line"),
        (GOOD.replace('"beta", "alpha"', '"alpha"'), "__all__ (1 names)"),
        (GOOD.replace("from ._jsii import *", "from . import alpha"), "relative import before"),
        (GOOD.replace("value = 1", "def __getattr__(name): pass"), "already defines"),
        (GOOD.replace('__all__ = ["beta", "alpha"]', "__all__ = names()"), "no `__all__"),
        (GOOD + "from . import alpha\n", "differs"),
    ],
)
def test_any_other_shape_is_refused(source: str, reason: str) -> None:
    with pytest.raises(UnexpectedShapeError, match=re.escape(reason)):
        split_eager_block(source)


def _fake_package(root: Path, name: str, init_source: str) -> None:
    package = root / name
    (package / "_jsii").mkdir(parents=True)
    (package / "_jsii" / "__init__.py").write_text("")
    (package / "__init__.py").write_text(init_source)
    for submodule in ("alpha", "beta"):
        (package / submodule).mkdir()
        (package / submodule / "__init__.py").write_text("from .._jsii import *\nLOADED = True\n")


def _load(root: Path, name: str, state: LoaderState) -> ModuleType:
    spec = importlib.machinery.PathFinder.find_spec(name, [str(root)])
    assert spec is not None and spec.loader is not None
    spec.loader = _ProviderLoader(spec.loader, "lazy", state, register_with_jsii=False)
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


def test_the_fast_path_serves_submodules_on_first_access(tmp_path: Path) -> None:
    _fake_package(tmp_path, "fakeprov_lazy", GOOD)
    state = LoaderState()
    try:
        module = _load(tmp_path, "fakeprov_lazy", state)
        assert (state.taken, state.submodules) == ("lazy", 2)
        assert "fakeprov_lazy.alpha" not in sys.modules
        assert module.alpha.LOADED is True
        assert "fakeprov_lazy.alpha" in sys.modules and "fakeprov_lazy.beta" not in sys.modules
        with pytest.raises(AttributeError, match="no attribute 'gamma'"):
            _ = module.gamma
    finally:
        for name in [name for name in sys.modules if name.startswith("fakeprov_lazy")]:
            del sys.modules[name]


def test_another_shape_falls_back_to_the_eager_import_with_the_gc_restored(tmp_path: Path) -> None:
    _fake_package(tmp_path, "fakeprov_eager", GOOD + "alpha.LOADED\n")
    state = LoaderState()
    try:
        with pytest.warns(RuntimeWarning, match="eager import instead of the fast path: unexpected line"):
            _load(tmp_path, "fakeprov_eager", state)
        assert state.taken == "eager" and "unexpected line" in (state.fallback_reason or "")
        assert "fakeprov_eager.alpha" in sys.modules and "fakeprov_eager.beta" in sys.modules
        assert gc.isenabled()
    finally:
        for name in [name for name in sys.modules if name.startswith("fakeprov_eager")]:
            del sys.modules[name]
