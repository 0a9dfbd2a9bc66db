"""Handler reload (issue 22): an edit under handlers/ is served without re-applying Terraform; a broken
edit leaves the previous code serving. Before: every change cost a 2-minute restart."""

from __future__ import annotations

import os
import py_compile
import shutil
import sys
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from pipeline_tools.sandbox.reload import HandlerReloader

MODULE = f"reload_probe_{os.getpid()}"


def _write(folder: Path, version: str) -> None:
    (folder / f"{MODULE}.py").write_text(
        f"from {MODULE}_helper import tag\n\ndef handler(event, context):\n    return tag('{version}')\n"
    )
    (folder / f"{MODULE}_helper.py").write_text("def tag(version):\n    return version\n")


@pytest.fixture
def folders(tmp_path: Path) -> Iterator[tuple[Path, Path]]:
    source, code = tmp_path / "handlers", tmp_path / "lambda"
    source.mkdir()
    _write(source, "v1")
    shutil.copytree(source, code)
    # As the zip ships them: unchecked hash-based byte-code, which Python uses whatever the source says.
    for module in code.glob("*.py"):
        py_compile.compile(str(module), invalidation_mode=py_compile.PycInvalidationMode.UNCHECKED_HASH)
    sys.path.insert(0, str(code))
    yield source, code
    sys.path.remove(str(code))
    for name in (MODULE, f"{MODULE}_helper"):
        sys.modules.pop(name, None)


def test_an_edit_is_served_and_a_broken_one_is_not(folders: tuple[Path, Path]) -> None:
    source, code = folders
    import importlib

    current: dict[str, Any] = {"h": importlib.import_module(MODULE).handler}
    reloaded, lines = threading.Event(), []

    def swap(handlers: dict[str, Any]) -> None:
        current["h"] = handlers["h"]
        reloaded.set()

    reloader = HandlerReloader(source, code, {"h": f"{MODULE}.handler"}, swap, lines.append).start()
    try:
        assert current["h"]({}, None) == "v1"
        _write(source, "v2")
        assert reloaded.wait(10), lines
        assert current["h"]({}, None) == "v2"  # the stale unchecked .pyc was not used
        assert "serving the edited handlers" in lines[-1]
        reloaded.clear()
        (source / f"{MODULE}.py").write_text("def handler(event, context)\n    return 'broken'\n")
        for _ in range(100):  # up to 10 s
            if any("not loaded" in line for line in lines):
                break
            threading.Event().wait(0.1)
        assert not reloaded.is_set() and current["h"]({}, None) == "v2"
        assert "SyntaxError" in lines[-1] and "the previous code keeps serving" in lines[-1]
    finally:
        reloader.stop()


def test_the_sandbox_reloads_by_default_and_can_be_told_not_to() -> None:
    from pipeline_tools.__main__ import _parser
    from pipeline_tools.sandbox.runner import Sandbox

    assert Sandbox("sb").reload is True
    assert _parser().parse_args(["sandbox", "--no-reload"]).no_reload is True
