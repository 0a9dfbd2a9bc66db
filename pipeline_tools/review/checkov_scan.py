"""checkov over synthesized stacks, held against the committed allowlist of reasoned skips.

Checkov ignores skip comments in Terraform JSON, so the skips live in `security/checkov-allowlist.toml`:
every finding must be listed there, and every listed (check, resource) pair must still be found,
or the allowlist is stale and says more than is true.
"""

from __future__ import annotations

import dataclasses
import json
import os
import subprocess
import tomllib
from collections.abc import Iterable
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parents[2]
ALLOWLIST = PROJECT_ROOT / "security" / "checkov-allowlist.toml"
CHECKOV = PROJECT_ROOT / ".tool-venvs" / "checkov" / "bin" / "checkov"


class CheckovUnavailableError(RuntimeError):
    """The pinned checkov tool venv is missing."""


@dataclasses.dataclass(frozen=True, order=True)
class Finding:
    check_id: str
    resource: str
    stack: str = dataclasses.field(default="", compare=False)
    name: str = dataclasses.field(default="", compare=False)


@dataclasses.dataclass
class ScanResult:
    passed: int = 0
    failed: int = 0
    findings: list[Finding] = dataclasses.field(default_factory=list)

    def add(self, other: ScanResult) -> None:
        self.passed += other.passed
        self.failed += other.failed
        self.findings.extend(other.findings)


@dataclasses.dataclass(frozen=True)
class AllowlistEntry:
    checks: tuple[str, ...]
    resources: tuple[str, ...]
    reason: str

    def pairs(self) -> set[tuple[str, str]]:
        return {(check, resource) for check in self.checks for resource in self.resources}


def checkov_binary() -> Path:
    binary = Path(os.environ.get("CHECKOV_BIN", CHECKOV))
    if not binary.is_file():
        raise CheckovUnavailableError(f"{binary} is missing: run `make install` (checkov has its own pinned venv)")
    return binary


def scan_stack(stack_dir: Path) -> ScanResult:
    """checkov's terraform_json framework over one stack folder (one cdk.tf.json)."""
    result = subprocess.run(  # noqa: S603 - pinned binary, fixed arguments
        [str(checkov_binary()), "-d", str(stack_dir), "--framework", "terraform_json",
         "-o", "json", "--quiet", "--compact", "--skip-download"],
        capture_output=True, text=True, check=False, timeout=600,
    )  # fmt: skip
    if result.returncode not in (0, 1) or not result.stdout.strip():
        raise RuntimeError(f"checkov failed on {stack_dir} (exit {result.returncode}):\n{result.stderr[-3000:]}")
    reports = json.loads(result.stdout)
    scan = ScanResult()
    for report in reports if isinstance(reports, list) else [reports]:
        if "results" not in report:  # checkov prints a bare summary when nothing was scanned
            continue
        scan.passed += report["summary"]["passed"]
        scan.failed += report["summary"]["failed"]
        scan.findings += [
            Finding(failed["check_id"], failed["resource"], stack_dir.name, failed["check_name"])
            for failed in report["results"]["failed_checks"]
        ]
    return scan


def scan_synth_output(outdir: Path) -> ScanResult:
    """Every stack under `<outdir>/stacks/` of one synth run."""
    total = ScanResult()
    stacks = sorted(path for path in (outdir / "stacks").iterdir() if (path / "cdk.tf.json").is_file())
    if not stacks:
        raise RuntimeError(f"no synthesized stack under {outdir}/stacks: run `make synth` first")
    for stack in stacks:
        total.add(scan_stack(stack))
    return total


def load_allowlist(path: Path = ALLOWLIST) -> list[AllowlistEntry]:
    entries = tomllib.loads(path.read_text(encoding="utf-8")).get("skip", [])
    loaded = []
    for number, entry in enumerate(entries, start=1):
        missing = {"checks", "resources", "reason"} - entry.keys()
        if missing or not str(entry.get("reason", "")).strip():
            raise ValueError(f"{path}: skip #{number} needs checks, resources and a non-empty reason")
        loaded.append(AllowlistEntry(tuple(entry["checks"]), tuple(entry["resources"]), entry["reason"].strip()))
    return loaded


def unlisted(findings: Iterable[Finding], allowlist: Iterable[AllowlistEntry]) -> list[Finding]:
    allowed = set().union(*(entry.pairs() for entry in allowlist))
    return sorted({f for f in findings if (f.check_id, f.resource) not in allowed})


def stale(findings: Iterable[Finding], allowlist: Iterable[AllowlistEntry]) -> list[tuple[str, str]]:
    found = {(f.check_id, f.resource) for f in findings}
    return sorted(pair for entry in allowlist for pair in entry.pairs() if pair not in found)
