"""Fast-path import of the prebuilt AWS provider bindings (`cdktf_cdktf_provider_aws` 20.1.0).

Why: the package's generated `__init__.py` ends with one `from . import <submodule>` line per
resource and data source (2,135 of them), so importing any one resource imports all of them. On
our 2-core machines that is ~14 s and ~1.16 GB (Python + node) per synth, of which our two stacks
use 42 submodules (measured side by side: docs/PERFORMANCE.md, figure 1). The same complaint
upstream: hashicorp/terraform-cdk#3753 and #2792; PR #3030 reports 30 s -> 2 s from lazy loading.

What `install()` does: it puts a finder for exactly that package name first on `sys.meta_path`.
When the package is imported, the finder's loader executes the package's own `__init__.py` source
from the installed file (nothing on disk is changed) **up to, not including**, the generated block

    # Loading modules to ensure their types are registered with the jsii runtime library
    from . import accessanalyzer_analyzer
    ...

and gives the package a module `__getattr__` (PEP 562) that imports a submodule on first access.
`from cdktf_cdktf_provider_aws.sqs_queue import SqsQueue` works as before through the normal
import system (the package's `__path__` is untouched). It also tells the jsii runtime which Python
submodule holds each jsii namespace (`@cdktf/provider-aws.sqsQueue` -> `...sqs_queue`), through the
map jsii 1.142 reads for lazily generated packages, so a type node hands back from a submodule not
yet imported is imported then instead of failing.

Why this is safe for this package: the eager block exists only so that every class registers its
jsii type with the runtime at import time. Each generated submodule imports nothing from the
package but `.._jsii` (checked over all 2,135; `tests/infrastructure/test_provider_loader.py`
re-checks it), so a submodule imported later registers exactly the same classes. Had a type been
missing, jsii raises `ValueError: Unknown type` - it cannot write different JSON. The guard test
(`test_environments.py`) byte-compares an eager synth with the fast one for every environment.

Fallback: if the generated code does not have the expected shape (see `split_eager_block`), or
`CDKTF_AWS_PROVIDER_IMPORT=eager`, the package is imported as shipped, with the cyclic GC paused
during the import and `gc.freeze()` after it (the ~1.1 M objects it creates are then never rescanned:
~7.6 s instead of ~14 s, same bytes). `CDKTF_AWS_PROVIDER_IMPORT=stock` installs nothing at all
(the package's own import, untouched: the benchmarks' baseline).
"""

from __future__ import annotations

import ast
import dataclasses
import gc
import importlib
import importlib.abc
import importlib.machinery
import os
import re
import sys
import warnings
from collections.abc import Callable, Mapping, Sequence
from types import ModuleType
from typing import Any, Literal

PACKAGE = "cdktf_cdktf_provider_aws"
JSII_ASSEMBLY = "@cdktf/provider-aws"
MODE_VARIABLE = "CDKTF_AWS_PROVIDER_IMPORT"
Mode = Literal["lazy", "eager", "stock"]
MODES: tuple[Mode, ...] = ("lazy", "eager", "stock")
# The comment jsii-pacmak writes above the eager block, verbatim.
EAGER_BLOCK_MARKER = "# Loading modules to ensure their types are registered with the jsii runtime library"
_SUBMODULE_IMPORT = re.compile(r"from \. import ([a-z][a-z0-9_]*)")


class UnexpectedShapeError(Exception):
    """The package's `__init__.py` is not the shape the fast path relies on; the message says how."""


@dataclasses.dataclass
class LoaderState:
    """What happened to the provider import in this process.

    `requested`: the mode asked for (`CDKTF_AWS_PROVIDER_IMPORT`, default `lazy`); `taken`: `lazy`
    or `eager` once the package was imported (`None` before), `stock` from `install()` on (no hook
    then); `fallback_reason`: why a requested `lazy` became `eager`; `submodules`: how many
    submodules the package declares (0 until imported through the hook).
    """

    requested: Mode = "lazy"
    taken: Mode | None = None
    fallback_reason: str | None = None
    submodules: int = 0


STATE = LoaderState()


def requested_mode(environ: Mapping[str, str] = os.environ) -> Mode:
    """The mode in `CDKTF_AWS_PROVIDER_IMPORT` (empty or unset: `lazy`).

    Raises ValueError for any other value, naming the accepted ones: a typo must not silently
    pick a path.
    """
    value = environ.get(MODE_VARIABLE, "").strip().lower() or "lazy"
    for mode in MODES:
        if value == mode:
            return mode
    raise ValueError(f"{MODE_VARIABLE}={value!r}: expected one of {', '.join(MODES)}")


def split_eager_block(source: str) -> tuple[str, list[str]]:
    """Split the package's `__init__.py` source into (everything before the eager block, the
    submodule names the block imports, in order).

    The expected shape, each point checked (UnexpectedShapeError naming the first that fails):
    the marker comment appears once, on its own line; every non-blank line after it is
    `from . import <name>`; the part before it parses, imports nothing relative but
    `from ._jsii import *`, defines no `__getattr__`, and assigns `__all__` a list of string
    literals holding exactly the names the block imports (each once; the orders differ).
    """
    lines = source.splitlines(keepends=True)
    marker_lines = [number for number, line in enumerate(lines) if line.rstrip("\r\n") == EAGER_BLOCK_MARKER]
    if len(marker_lines) != 1:
        raise UnexpectedShapeError(f"the eager-import marker comment appears {len(marker_lines)} times, not once")
    head = "".join(lines[: marker_lines[0]])
    names = []
    for line in lines[marker_lines[0] + 1 :]:
        if not line.strip():
            continue
        match = _SUBMODULE_IMPORT.fullmatch(line.strip())
        if match is None:
            raise UnexpectedShapeError(f"unexpected line after the eager-import block marker: {line.strip()[:80]!r}")
        names.append(match.group(1))
    if not names:
        raise UnexpectedShapeError("no `from . import <submodule>` lines after the marker")
    declared = _declared_all(ast.parse(head))
    if sorted(declared) != sorted(names) or len(set(names)) != len(names):
        raise UnexpectedShapeError(
            f"__all__ ({len(declared)} names) differs from the eagerly imported submodules ({len(names)})"
        )
    return head, names


def _declared_all(tree: ast.Module) -> list[str]:
    declared: list[str] | None = None
    for node in tree.body:
        if isinstance(node, ast.ImportFrom) and node.level and (node.module, node.names[0].name) != ("_jsii", "*"):
            raise UnexpectedShapeError(f"a relative import before the eager block, line {node.lineno}")
        if isinstance(node, ast.FunctionDef) and node.name == "__getattr__":
            raise UnexpectedShapeError("the package already defines a module __getattr__")
        if (
            isinstance(node, ast.Assign)
            and [getattr(target, "id", None) for target in node.targets] == ["__all__"]
            and isinstance(node.value, ast.List)
            and all(isinstance(item, ast.Constant) and isinstance(item.value, str) for item in node.value.elts)
        ):
            declared = [item.value for item in node.value.elts]  # type: ignore[attr-defined]
    if declared is None:
        raise UnexpectedShapeError("no `__all__ = [...]` list of string literals before the eager block")
    return declared


def jsii_namespace(submodule: str) -> str:
    """The jsii namespace jsii-pacmak turned into `submodule`: `sqs_queue` -> `sqsQueue`.

    Holds for every submodule of 20.1.0 (checked against each one's `jsii_type` strings in
    `tests/infrastructure/test_provider_loader.py`).
    """
    first, *rest = submodule.split("_")
    return first + "".join(part[:1].upper() + part[1:] for part in rest)


def _submodule_getattr(package: str, names: Sequence[str]) -> Callable[[str], ModuleType]:
    known = frozenset(names)

    def __getattr__(name: str) -> ModuleType:  # PEP 562 module hook
        if name in known:
            return importlib.import_module(f"{package}.{name}")
        raise AttributeError(f"module {package!r} has no attribute {name!r}")

    return __getattr__


def _register_namespaces_with_jsii(names: Sequence[str]) -> None:
    # jsii >= 1.142 resolves an unknown type by importing the submodule this map names (the map
    # newer jsii-pacmak output provides itself). Older runtimes lack it: then an unregistered type
    # stays a loud `ValueError: Unknown type`, as it was before the map existed.
    from jsii import _reference_map

    fqn_map = getattr(_reference_map, "_submodule_fqn_map", None)
    if isinstance(fqn_map, dict):
        fqn_map.update({f"{JSII_ASSEMBLY}.{jsii_namespace(name)}": f"{PACKAGE}.{name}" for name in names})


class _ProviderLoader(importlib.abc.Loader):
    """Wraps the package's own loader: lazy execution when the shape matches, else eager."""

    def __init__(
        self, inner: importlib.abc.Loader, mode: Mode, state: LoaderState, *, register_with_jsii: bool = True
    ) -> None:
        self._inner = inner
        self._mode = mode
        self._state = state
        self._register_with_jsii = register_with_jsii

    def __getattr__(self, name: str) -> Any:  # resource readers etc. stay the package's own
        return getattr(self._inner, name)

    def create_module(self, spec: importlib.machinery.ModuleSpec) -> ModuleType | None:
        return self._inner.create_module(spec)

    def exec_module(self, module: ModuleType) -> None:
        if self._mode == "lazy":
            try:
                head, names = split_eager_block(self._source(module.__name__))
            except UnexpectedShapeError as error:
                self._state.fallback_reason = str(error)
                warnings.warn(
                    f"{PACKAGE}: eager import instead of the fast path: {error}", RuntimeWarning, stacklevel=2
                )
            else:
                self._state.submodules = len(names)
                exec(compile(head, module.__file__ or PACKAGE, "exec", dont_inherit=True), module.__dict__)  # noqa: S102
                module.__getattr__ = _submodule_getattr(module.__name__, names)  # type: ignore[attr-defined]
                if self._register_with_jsii:
                    _register_namespaces_with_jsii(names)
                self._state.taken = "lazy"
                return
        self._exec_eagerly(module)

    def _source(self, name: str) -> str:
        get_source = getattr(self._inner, "get_source", None)
        source = get_source(name) if get_source else None
        if source is None:
            raise UnexpectedShapeError("the package's loader gives no source")
        return source

    def _exec_eagerly(self, module: ModuleType) -> None:
        # The import allocates ~1.1 M long-lived objects; each automatic collection rescans them
        # all (~2.9 s in total). Pausing the collector and freezing what survives keeps the bytes
        # the same and the cost out of every later collection.
        was_enabled = gc.isenabled()
        gc.disable()
        try:
            self._inner.exec_module(module)  # type: ignore[attr-defined]
        finally:
            if was_enabled:
                gc.enable()
            gc.freeze()
        self._state.submodules = len(getattr(module, "__all__", ()))
        self._state.taken = "eager"


class _ProviderFinder(importlib.abc.MetaPathFinder):
    def __init__(self, mode: Mode) -> None:
        self.mode = mode

    def find_spec(
        self, fullname: str, path: Sequence[str] | None, target: ModuleType | None = None
    ) -> importlib.machinery.ModuleSpec | None:
        if fullname != PACKAGE:
            return None
        spec = importlib.machinery.PathFinder.find_spec(fullname, path)
        if spec is None or spec.loader is None:
            return spec
        spec.loader = _ProviderLoader(spec.loader, self.mode, STATE)
        return spec


def install(environ: Mapping[str, str] = os.environ) -> LoaderState:
    """Install the finder for the mode in `environ` (see `requested_mode`); idempotent.

    Call it before anything imports `cdktf_cdktf_provider_aws` (`modules/__init__.py` does). If the
    package is already imported, nothing changes and `STATE.taken` stays as it was. Returns `STATE`.
    """
    mode = requested_mode(environ)
    STATE.requested = mode
    if PACKAGE in sys.modules or any(isinstance(finder, _ProviderFinder) for finder in sys.meta_path):
        return STATE
    if mode == "stock":
        STATE.taken = "stock"
        return STATE
    sys.meta_path.insert(0, _ProviderFinder(mode))
    return STATE


def loaded_submodules() -> list[str]:
    """Names of the provider's submodules imported in this process so far (sorted)."""
    prefix = PACKAGE + "."
    return sorted(
        name[len(prefix) :]
        for name in sys.modules
        if name.startswith(prefix) and name.count(".") == 1 and not name.startswith(prefix + "_")
    )
