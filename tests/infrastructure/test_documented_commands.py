"""Every command line README.md and docs/ show runs (issue 22); deploy/synth lines build the environment
they name (issue 14). Sandbox lines run in tests/integration/test_documented_commands.py.

The README's bootstrap line `ENVIRONMENT_SUFFIX=prod make synth && npx cdktf deploy state-bootstrap`
bootstrapped dev: `cdktf deploy` synthesizes again and the variable had reached only `make`. Each
documented line runs here verbatim in a scratch copy of the Makefile, with `npx`, `terraform` and
`aws` replaced by recorders: the recorder of `cdktf synth|deploy|destroy` notes the environment that
synth would build (`ENVIRONMENT_SUFFIX` as it reached the process, else `main.py`'s default `dev`)
and writes the stack folders it would, so a later `cd cdktf.out/stacks/webhook-pipeline-<env>` and
`terraform` see what the synth really produced. Nothing talks to AWS.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import stat
import subprocess
from pathlib import Path

import pytest

from pipeline_tools.sandbox.runner import Sandbox
from tests.documented_commands import command_lines, lines_for, runner_of

PROJECT = Path(__file__).resolve().parents[2]
PLACEHOLDER_ENVIRONMENT = "qa"  # stands for `<env>` / `ENV` in the docs

RECORDER = r"""#!/usr/bin/env python3
import json, os, sys
from pathlib import Path
args = [a for a in sys.argv[1:] if a != "--no-install"]
tool = Path(sys.argv[0]).name
if tool == "cdktf":  # make synth runs node_modules/.bin/cdktf itself: the same CLI as `npx cdktf`
    tool, args = "npx", ["cdktf", *args]
record = {"tool": tool, "args": args, "cwd": os.getcwd()}
if tool == "npx" and args[:1] == ["cdktf"] and len(args) > 1 and args[1] in ("synth", "deploy", "destroy", "diff"):
    environment = os.environ.get("ENVIRONMENT_SUFFIX", "dev")  # main.py's default
    record["synthesized"] = environment
    stacks = {f"webhook-pipeline-{environment}", "state-bootstrap"}
    for stack in stacks:
        folder = Path("cdktf.out/stacks") / stack
        folder.mkdir(parents=True, exist_ok=True)
        (folder / "environment").write_text(environment)
    wanted = [a for a in args[2:] if a.startswith("webhook-pipeline-") or a == "state-bootstrap"]
    missing = [stack for stack in wanted if stack not in stacks]
    if missing:  # what cdktf says when the synth did not build the stack asked for
        record["error"] = f"stack(s) not found: {missing}"
elif tool == "terraform":
    marker = Path("environment")
    record["stack_environment"] = marker.read_text() if marker.exists() else None
with open(os.environ["RECORD_FILE"], "a") as log:
    log.write(json.dumps(record) + "\n")
sys.exit(1 if "error" in record else 0)
"""


def documented_command_lines() -> list[tuple[str, str]]:
    """(document, command line) for every deploy/synth line (`tests/documented_commands.py` collects them)."""
    seen: dict[str, str] = {}
    for document, line in command_lines():
        if runner_of(line) == ["deploy"]:
            seen.setdefault(line, document)
    return [(document, line) for line, document in seen.items()]


def expected_environment(line: str) -> str:
    named = set(re.findall(r"ENVIRONMENT_SUFFIX=([a-z0-9-]+)", line))
    named |= set(re.findall(r"webhook-pipeline-([a-z0-9-]+)", line))
    assert len(named) <= 1, f"{line!r} names several environments: {sorted(named)}"
    return named.pop() if named else "dev"


@pytest.fixture
def scratch(tmp_path: Path) -> tuple[Path, dict[str, str]]:
    work = tmp_path / "project"
    work.mkdir()
    for name in ("Makefile", "Pipfile.lock", "package-lock.json", "cdktf.json"):
        shutil.copy2(PROJECT / name, work / name)
    # `make synth` depends on `install`: mark both installs done so only the synth step runs.
    for marker in (".venv/.synced", "node_modules/.installed"):
        (work / marker).parent.mkdir(parents=True)
        (work / marker).touch()
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    for tool in ("npx", "terraform", "aws"):
        (bin_dir / tool).write_text(RECORDER)
        (bin_dir / tool).chmod(stat.S_IRWXU)
    cli = work / "node_modules" / ".bin" / "cdktf"
    cli.parent.mkdir(parents=True, exist_ok=True)
    cli.write_text(RECORDER)
    cli.chmod(stat.S_IRWXU)
    env = {**os.environ, "PATH": f"{bin_dir}:{os.environ['PATH']}", "RECORD_FILE": str(tmp_path / "record.jsonl")}
    for variable in ("ENVIRONMENT_SUFFIX", "MAKEFLAGS", "MAKELEVEL", "PIPELINE_DECLARED_ENVIRONMENT"):
        env.pop(variable, None)  # a user's shell starts without them
    return work, env


def run_line(line: str, work: Path, env: dict[str, str]) -> tuple[subprocess.CompletedProcess[str], list[dict]]:
    record = Path(env["RECORD_FILE"])
    record.unlink(missing_ok=True)
    shutil.rmtree(work / "cdktf.out", ignore_errors=True)
    result = subprocess.run(["bash", "-c", line], cwd=work, env=env, capture_output=True, text=True, timeout=60)
    steps = [json.loads(entry) for entry in record.read_text().splitlines()] if record.exists() else []
    return result, steps


def check(line: str, work: Path, env: dict[str, str]) -> list[str]:
    """The problems of one command line: each step that uses an environment must get the one named."""
    line = line.replace("<env>", PLACEHOLDER_ENVIRONMENT).replace("ENV ", f"{PLACEHOLDER_ENVIRONMENT} ")
    line = re.sub(r"\bENV\b(?!IRONMENT)", PLACEHOLDER_ENVIRONMENT, line)
    expected = expected_environment(line)
    result, steps = run_line(line, work, env)
    problems = []
    if result.returncode != 0:
        problems.append(f"exits {result.returncode}: {result.stdout[-300:]} {result.stderr[-300:]}")
    synthesized = [step for step in steps if "synthesized" in step]
    if not synthesized:
        problems.append("no step synthesized anything")
    for step in synthesized:
        if step["synthesized"] != expected:
            problems.append(f"`{' '.join(step['args'])}` synthesized {step['synthesized']}, not {expected}")
    for step in steps:
        if step["tool"] == "terraform" and step.get("stack_environment") != expected:
            problems.append(f"terraform ran in a stack of {step.get('stack_environment')}, not {expected}")
    return problems


DOCUMENTED = documented_command_lines()


def test_the_docs_show_the_deploy_commands_this_test_guards() -> None:
    lines = [line for _, line in DOCUMENTED]
    assert any("cdktf deploy state-bootstrap" in line for line in lines)
    assert any("cdktf deploy webhook-pipeline-" in line for line in lines)
    assert any("cdktf destroy" in line for line in lines)
    assert any("terraform apply" in line for line in lines)


@pytest.mark.parametrize(("document", "line"), DOCUMENTED, ids=[f"{d}: {line}" for d, line in DOCUMENTED])
def test_each_documented_command_builds_the_environment_it_names(
    document: str, line: str, scratch: tuple[Path, dict[str, str]]
) -> None:
    assert check(line, *scratch) == []


@pytest.mark.parametrize(
    "line",
    [
        "ENVIRONMENT_SUFFIX=prod make synth && npx cdktf deploy state-bootstrap",  # the README's old step 1
        "npx cdktf destroy webhook-pipeline-prod",  # the old teardown, with <env> = prod
        "cd cdktf.out/stacks/webhook-pipeline-prod && terraform init",  # the old step 2 alternative, alone
    ],
)
def test_the_old_lines_are_caught(line: str, scratch: tuple[Path, dict[str, str]]) -> None:
    assert check(line, *scratch) != []


AWS_STAND_IN = r"""#!/usr/bin/env python3
import json, re, sys
args = sys.argv[1:]
def option(name):
    return args[args.index(name) + 1] if name in args else None
if args[:2] == ["secretsmanager", "put-secret-value"]:
    secret_id, value = option("--secret-id"), json.loads(option("--secret-string"))
    assert re.fullmatch(r"webhook-(?:signing-secret|source-[a-z0-9-]+)-[a-z0-9-]+", secret_id), secret_id
    key = "signing_secrets" if secret_id.startswith("webhook-signing-secret-") else "secrets"
    assert list(value) == [key] and value[key] and all(isinstance(s, str) for s in value[key]), value
elif args[:2] == ["dynamodb", "update-table"]:  # warm throughput: the events table, 4,000..40,000 writes/s
    assert re.fullmatch(r"transaction-events-[a-z0-9-]+", option("--table-name") or ""), args
    units = re.fullmatch(r"WriteUnitsPerSecond=(\d+)", option("--warm-throughput") or "")
    assert units and 4000 <= int(units.group(1)) <= 40000, args
elif args[:2] == ["iam", "create-open-id-connect-provider"]:
    assert option("--url", ).startswith("https://") and option("--client-id-list"), args
else:
    sys.exit(f"the stand-in does not know {args[:2]}")
"""


def test_every_documented_command_line_has_a_runner() -> None:
    unclassified = [
        (document, line, runner_of(line)) for document, line in command_lines() if len(runner_of(line)) != 1
    ]
    assert unclassified == []
    assert "make plan" in lines_for("sandbox")  # the README's plan-review recipe, which crashed unrun


@pytest.mark.parametrize("line", lines_for("local"))
def test_each_documented_local_command_runs(line: str) -> None:
    table = PROJECT / "handlers" / "currency_exponents.json"
    before = table.read_bytes()
    env = {**os.environ, "PATH": f"{PROJECT / '.venv' / 'bin'}:{os.environ['PATH']}"}
    env.pop("ENVIRONMENT_SUFFIX", None)
    result = subprocess.run(["bash", "-c", line], cwd=PROJECT, env=env, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-2000:]
    assert "Traceback" not in result.stderr
    assert table.read_bytes() == before  # the regeneration command leaves the committed table as it is


@pytest.mark.parametrize("line", lines_for("aws"))
def test_each_documented_aws_command_is_well_formed(line: str, tmp_path: Path) -> None:
    """They need an account: a stand-in `aws` checks what they would send (the secret's JSON shape)."""
    (tmp_path / "aws").write_text(AWS_STAND_IN)
    (tmp_path / "aws").chmod(stat.S_IRWXU)
    env = {**os.environ, "PATH": f"{tmp_path}:{PROJECT / '.venv' / 'bin'}:{os.environ['PATH']}"}
    result = subprocess.run(["bash", "-c", line], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=30)
    assert result.returncode == 0, result.stderr[-2000:]


@pytest.mark.parametrize("line", lines_for("sandbox_start"))
def test_each_documented_make_sandbox_line_starts_the_environment_it_names(line: str, tmp_path: Path) -> None:
    """Run while that environment's lock is held (in a scratch state dir): the line gets as far as the
    lock and must be refused for the environment it names, not another, without a traceback."""
    expected = (re.findall(r"ENVIRONMENT_SUFFIX=([a-z0-9-]+)", line) or ["sandbox"])[0]
    holder = Sandbox(expected, state_root=tmp_path)
    holder.acquire()
    try:
        env = {**os.environ, "PIPELINE_SANDBOX_STATE_DIR": str(tmp_path)}
        for variable in ("ENVIRONMENT_SUFFIX", "MAKEFLAGS", "MAKELEVEL"):
            env.pop(variable, None)
        result = subprocess.run(["bash", "-c", line], cwd=PROJECT, env=env, capture_output=True, text=True, timeout=120)
    finally:
        holder.down()
    assert result.returncode != 0
    assert f"error: a sandbox for {expected} is already running (pid {os.getpid()}" in result.stderr, result.stderr
    assert "Traceback" not in result.stderr
