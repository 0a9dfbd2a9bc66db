"""Deterministic Lambda zip of `handlers/` plus the pure-Python packages the runtime lacks.

Two synths of the same tree must give byte-identical zips, and `source_code_hash` must equal what
AWS reports as `CodeSha256`, so a plan after an apply shows no drift. Hence: entries sorted, one fixed
timestamp and mode, and the hash taken over the zip bytes themselves.

Byte-code is shipped: /var/task is read-only, so without it every cold start compiles Powertools and
the handlers again (measured in docs/PERFORMANCE.md). It is hash-based (no timestamps), compiled in
a fresh isolated interpreter so the output depends only on the sources and the Python 3.11 release.
"""

from __future__ import annotations

import base64
import dataclasses
import hashlib
import importlib.metadata
import io
import json
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent
HANDLERS_DIR = PROJECT_ROOT / "handlers"
BUILD_DIR = PROJECT_ROOT / ".build" / "lambda"
# Installed in the Pipfile environment at the locked version; the python3.11 runtime ships boto3,
# botocore and jmespath but not these. All are pure Python, so the same files serve arm64.
VENDORED_DISTRIBUTIONS = ("aws-lambda-powertools", "fastjsonschema", "typing-extensions")
_ZIP_EPOCH = (1980, 1, 1, 0, 0, 0)
_FILE_MODE = 0o100644 << 16
_SKIPPED_PARTS = {"__pycache__", "tests"}
LAMBDA_CACHE_TAG = "cpython-311"  # the python3.11 runtime
# Run with `python -I`: the same interpreter state every time, so marshal's output is reproducible.
_COMPILE_SCRIPT = """
import importlib._bootstrap_external as external, importlib.util, json, pathlib, sys
jobs, out = json.loads(sys.stdin.read()), pathlib.Path(sys.argv[1])
for number, (relative, source_path) in enumerate(jobs):
    source = pathlib.Path(source_path).read_bytes()
    code = compile(source, relative, "exec", dont_inherit=True)
    data = external._code_to_hash_pyc(code, importlib.util.source_hash(source), checked=False)
    (out / str(number)).write_bytes(data)
"""


@dataclasses.dataclass(frozen=True)
class LambdaPackage:
    path: Path
    source_code_hash: str  # base64 SHA-256 of the zip bytes, as Lambda reports CodeSha256
    size_bytes: int


def _wanted(relative: str) -> bool:
    parts = relative.split("/")
    return not _SKIPPED_PARTS.intersection(parts) and not relative.endswith((".pyc", ".pyo"))


def _handler_files(handlers_dir: Path) -> dict[str, Path]:
    files = {}
    for path in handlers_dir.rglob("*"):
        relative = path.relative_to(handlers_dir).as_posix()
        if path.is_file() and _wanted(relative):
            files[relative] = path
    return files


def _vendored_files(distributions: tuple[str, ...]) -> tuple[dict[str, Path], list[str]]:
    files: dict[str, Path] = {}
    fingerprint = []
    for name in distributions:
        distribution = importlib.metadata.distribution(name)
        fingerprint.append(f"{name}=={distribution.version}")
        for entry in distribution.files or []:
            relative = entry.as_posix()
            if relative.startswith("..") or ".dist-info/" in relative or not _wanted(relative):
                continue
            if relative.endswith((".so", ".pyd")):
                raise RuntimeError(f"{name} ships a native extension ({relative}); it cannot be vendored for arm64")
            files[relative] = Path(str(entry.locate()))
    return files, fingerprint


def _bytecode(files: dict[str, Path]) -> dict[str, bytes]:
    """`dir/__pycache__/name.cpython-311.pyc` for every `.py`, unchecked-hash based (Lambda's files never change)."""
    if sys.implementation.cache_tag != LAMBDA_CACHE_TAG:
        raise RuntimeError(
            f"the Lambda zip must be built with Python 3.11 (the runtime), not {sys.version.split()[0]}: "
            "use the project's environment (make install)"
        )
    sources = sorted(relative for relative in files if relative.endswith(".py"))
    with tempfile.TemporaryDirectory() as out:
        subprocess.run(  # noqa: S603 - this interpreter, fixed script
            [sys.executable, "-I", "-c", _COMPILE_SCRIPT, out],
            input=json.dumps([[relative, str(files[relative])] for relative in sources]),
            text=True, check=True, capture_output=True,
        )  # fmt: skip
        compiled = {}
        for number, relative in enumerate(sources):
            folder, _, name = relative.rpartition("/")
            target = f"{folder}/__pycache__/{name[:-3]}.{LAMBDA_CACHE_TAG}.pyc".lstrip("/")
            compiled[target] = (Path(out) / str(number)).read_bytes()
    return compiled


def _content_key(files: dict[str, Path], handler_names: set[str], fingerprint: list[str]) -> str:
    """Hash of what goes into the zip; vendored packages count by name and locked version."""
    digest = hashlib.sha256(f"python {sys.version_info[:3]}\0".encode())  # the byte-code depends on it
    for item in fingerprint:
        digest.update(item.encode() + b"\0")
    for relative in sorted(handler_names):
        digest.update(relative.encode() + b"\0" + files[relative].read_bytes() + b"\0")
    return digest.hexdigest()


def _zip_bytes(files: dict[str, Path]) -> bytes:
    contents = {relative: path.read_bytes() for relative, path in files.items()} | _bytecode(files)
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=9) as archive:
        for relative in sorted(contents):
            info = zipfile.ZipInfo(relative, date_time=_ZIP_EPOCH)
            info.external_attr = _FILE_MODE
            info.compress_type = zipfile.ZIP_DEFLATED
            info.create_system = 3  # Unix, so the mode bits above are honoured everywhere
            archive.writestr(info, contents[relative])
    return buffer.getvalue()


def build_lambda_package(
    handlers_dir: Path = HANDLERS_DIR,
    build_dir: Path = BUILD_DIR,
    distributions: tuple[str, ...] = VENDORED_DISTRIBUTIONS,
) -> LambdaPackage:
    """Return the zip for `handlers_dir`, building it only when its content key is new.

    Example
    -------
    >>> package = build_lambda_package()
    >>> package.path.name.endswith(".zip")
    True
    """
    handler_files = _handler_files(handlers_dir)
    vendored, fingerprint = _vendored_files(distributions)
    clashes = set(handler_files) & set(vendored)
    if clashes:
        raise RuntimeError(f"handlers/ shadows vendored files: {sorted(clashes)}")
    files = {**vendored, **handler_files}
    key = _content_key(files, set(handler_files), fingerprint)
    target = build_dir / f"handlers-{key[:32]}.zip"
    if not target.is_file():
        build_dir.mkdir(parents=True, exist_ok=True)
        partial = target.with_suffix(".tmp")
        partial.write_bytes(_zip_bytes(files))
        partial.replace(target)  # atomic, so an interrupted build never leaves a half zip under the key
    data = target.read_bytes()
    return LambdaPackage(
        path=target,
        source_code_hash=base64.b64encode(hashlib.sha256(data).digest()).decode(),
        size_bytes=len(data),
    )
