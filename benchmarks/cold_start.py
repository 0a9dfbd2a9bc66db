"""Figure 3: import time of each handler as Lambda imports it, against `import boto3` alone.

Each handler is imported from the extracted deployment zip (as from /var/task: nothing may be
written there, so only the shipped byte-code helps) in a fresh interpreter with `-X importtime`,
alternating with the baselines, median of the runs. The handler's figure includes its module-level
work (creating its boto3 clients), as a cold start does; so a second baseline imports boto3 and
creates the same clients, the floor of any handler that calls those services.
"""

from __future__ import annotations

import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path
from typing import Any

from benchmarks.lambda_environment import HANDLER_ENVIRONMENT

ROOT = Path(__file__).resolve().parent.parent
HANDLER_MODULES = ("validator", "router")
CLIENTS = {"validator": ("dynamodb", "secretsmanager"), "router": ("sqs",)}
RUNS = 9
# What the Lambda runtime adds to the functions' own environment.
LAMBDA_ENV = {
    **HANDLER_ENVIRONMENT,
    "AWS_REGION": "us-east-1",
    "AWS_LAMBDA_FUNCTION_NAME": "bench",
    "POWERTOOLS_SERVICE_NAME": "bench",
}


def import_time_us(module: str, task_dir: Path | None) -> int:
    """Cumulative microseconds `-X importtime` reports for `module` at the top level."""
    # boto3 comes from the project venv, standing in for the runtime's copy; the handler code and
    # its vendored packages from the zip, first on the path as /var/task is in Lambda.
    env = {**os.environ, **LAMBDA_ENV, "PYTHONPATH": str(task_dir) if task_dir else ""}
    env.pop("PYTHONDONTWRITEBYTECODE", None)  # the runtime's boto3 has its byte-code
    if task_dir is not None:
        env["PYTHONDONTWRITEBYTECODE"] = "1"  # /var/task is read-only
    result = subprocess.run(  # noqa: S603 - this interpreter, fixed arguments
        [sys.executable, "-X", "importtime", "-c", f"import {module}"],
        env=env, capture_output=True, text=True, check=True, cwd=task_dir or ROOT,
    )  # fmt: skip
    for line in result.stderr.splitlines():
        if line.startswith("import time:") and line.split("|")[-1].rstrip() == f" {module}":
            return int(line.split("|")[1])
    raise RuntimeError(f"no importtime line for {module}:\n{result.stderr[-2000:]}")


def main(runs: int = RUNS) -> dict[str, Any]:
    from modules.lambda_package import build_lambda_package

    package = build_lambda_package()
    with tempfile.TemporaryDirectory() as task:
        task_dir = Path(task)
        floors = Path(task) / "floors"
        floors.mkdir()
        for module, clients in CLIENTS.items():
            creations = "".join(f"boto3.client({client!r})\n" for client in clients)
            (floors / f"floor_{module}.py").write_text(f"import boto3\n{creations}")
        with zipfile.ZipFile(package.path) as archive:
            archive.extractall(task_dir / "task")
            archive.extractall(task_dir / "task-without-bytecode")
        for cache in (task_dir / "task-without-bytecode").rglob("__pycache__"):
            shutil.rmtree(cache)
        import_time_us("boto3", None)  # the venv's boto3 byte-code written once, as the runtime ships it
        samples: dict[str, list[int]] = {}
        for _ in range(runs):
            samples.setdefault("boto3", []).append(import_time_us("boto3", None))
            for module in HANDLER_MODULES:
                samples.setdefault(f"floor_{module}", []).append(import_time_us(f"floor_{module}", floors))
                samples.setdefault(module, []).append(import_time_us(module, task_dir / "task"))
            without = import_time_us("validator", task_dir / "task-without-bytecode")
            samples.setdefault("validator_without_bytecode", []).append(without)
    medians = {name: statistics.median(values) / 1000 for name, values in samples.items()}
    return {
        "runs": runs,
        "boto3_ms": medians["boto3"],
        "handlers": {
            module: {
                "import_ms": medians[module],
                "ratio_to_boto3": medians[module] / medians["boto3"],
                "boto3_and_clients_ms": medians[f"floor_{module}"],
                "ratio_to_boto3_and_clients": medians[module] / medians[f"floor_{module}"],
            }
            for module in HANDLER_MODULES
        },
        "validator_without_shipped_bytecode_ms": medians["validator_without_bytecode"],
        "zip_bytes": package.size_bytes,
        "zip_name": package.path.name,
    }


if __name__ == "__main__":
    import json

    print(json.dumps(main(), indent=2))
