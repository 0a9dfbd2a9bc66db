"""Run the deployed handler code in this process: moto cannot run Lambda code without Docker.

The code comes from the zip Terraform uploaded and the environment from the function's deployed
configuration, both read back from the emulator, not from a second copy of the configuration.
"""

from __future__ import annotations

import base64
import hashlib
import importlib
import os
import sys
import time
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

Handler = Callable[[dict[str, Any], Any], dict[str, Any]]


class SandboxContext:
    """The LambdaContext attributes the handlers and Powertools read."""

    def __init__(self, function_name: str, memory_mb: int, arn: str, timeout_seconds: int = 3) -> None:
        self.function_name = function_name
        self.memory_limit_in_mb = memory_mb
        self.invoked_function_arn = arn
        self.aws_request_id = "sandbox"
        self.timeout_seconds = timeout_seconds
        self._deadline = time.monotonic() + timeout_seconds

    def with_request_id(self, request_id: str) -> SandboxContext:
        """The context of one invocation: its own request id, and the function's timeout from now."""
        context = SandboxContext(
            self.function_name, self.memory_limit_in_mb, self.invoked_function_arn, self.timeout_seconds
        )
        context.aws_request_id = request_id
        return context

    def get_remaining_time_in_millis(self) -> int:
        """As Lambda's: what is left of the configured timeout (nothing stops a run that exceeds it here)."""
        return max(0, int((self._deadline - time.monotonic()) * 1000))


class CodeMismatchError(RuntimeError):
    """The zip on disk is not the code the emulator says is deployed."""


def extract_deployed_code(lambda_client: Any, function_name: str, package: Path, target: Path) -> None:
    """Unpack `package` after checking it is byte for byte what the function runs (CodeSha256)."""
    deployed = lambda_client.get_function_configuration(FunctionName=function_name)["CodeSha256"]
    local = base64.b64encode(hashlib.sha256(package.read_bytes()).digest()).decode()
    if deployed != local:
        raise CodeMismatchError(f"{function_name} runs CodeSha256 {deployed}, but {package} hashes to {local}")
    with zipfile.ZipFile(package) as zipped:
        zipped.extractall(target)


def load_handlers(
    lambda_client: Any, function_names: dict[str, str], package: Path, code_dir: Path, endpoint_url: str
) -> dict[str, tuple[Handler, SandboxContext]]:
    """Import each `module.handler` with its deployed environment; return handler and context by module."""
    os.environ["AWS_ENDPOINT_URL"] = endpoint_url
    os.environ.setdefault("AWS_ACCESS_KEY_ID", "sandbox")
    os.environ.setdefault("AWS_SECRET_ACCESS_KEY", "sandbox")
    os.environ["AWS_ACCOUNT_ID_ENDPOINT_MODE"] = "disabled"
    loaded = {}
    for function_name in function_names.values():
        extract_deployed_code(lambda_client, function_name, package, code_dir)
    sys.path.insert(0, str(code_dir))
    for module_name, function_name in function_names.items():
        configuration = lambda_client.get_function_configuration(FunctionName=function_name)
        os.environ["AWS_DEFAULT_REGION"] = configuration["FunctionArn"].split(":")[3]
        # Read at import time by Powertools; the other variables are read per call and do not collide.
        os.environ.update(configuration.get("Environment", {}).get("Variables", {}))
        module = importlib.import_module(configuration["Handler"].rsplit(".", 1)[0])
        handler = getattr(module, configuration["Handler"].rsplit(".", 1)[1])
        context = SandboxContext(
            function_name, configuration["MemorySize"], configuration["FunctionArn"], configuration.get("Timeout", 3)
        )
        loaded[module_name] = (handler, context)
    return loaded
