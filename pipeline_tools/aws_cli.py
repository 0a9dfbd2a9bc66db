"""`python -m pipeline_tools aws …`: the AWS CLI pointed at a deployment (issue 22).

In the sandbox the emulator needs an endpoint, a region and (fake) keys, which nothing used to say.
`aws --export` prints them as shell `export` lines (`eval "$(python -m pipeline_tools aws --export)"`);
`aws <service> <operation> …` runs the `aws` CLI with them. Against a real deployment only the region
is set; credentials stay the caller's own. `AWS_ENDPOINT_URL` is the SDKs' and CLI's global endpoint
variable (https://docs.aws.amazon.com/sdkref/latest/guide/feature-ss-endpoints.html; AWS CLI v2 ≥ 2.13,
v1 with botocore ≥ 1.31).
"""

from __future__ import annotations

import os
import shlex
import shutil
import subprocess
from typing import Any

from pipeline_tools.operations import OperationError
from pipeline_tools.outputs import environment_of, region_of

# The emulator accepts any keys; these are the ones the sandbox's own clients use (outputs.client).
FAKE_CREDENTIALS = {"AWS_ACCESS_KEY_ID": "sandbox", "AWS_SECRET_ACCESS_KEY": "sandbox"}


def environment(outputs: dict[str, Any]) -> dict[str, str]:
    """The variables that point the AWS CLI and SDKs at this deployment."""
    variables = {"AWS_REGION": region_of(outputs), "AWS_DEFAULT_REGION": region_of(outputs)}
    if outputs.get("aws_endpoint_url"):
        variables |= {"AWS_ENDPOINT_URL": str(outputs["aws_endpoint_url"]), **FAKE_CREDENTIALS}
    return variables


def export_lines(outputs: dict[str, Any]) -> str:
    lines = [f'# environment {environment_of(outputs)}: eval "$(python -m pipeline_tools aws --export)"']
    lines += [f"export {name}={shlex.quote(value)}" for name, value in sorted(environment(outputs).items())]
    return "\n".join(lines)


def run(outputs: dict[str, Any], arguments: list[str]) -> int:
    binary = shutil.which("aws")
    if binary is None:
        raise OperationError("the aws CLI is not on PATH (pip install awscli, or use --export with any SDK)")
    endpoint = outputs.get("aws_endpoint_url")
    if endpoint and not any(a == "--endpoint-url" or a.startswith("--endpoint-url=") for a in arguments):
        # AWS CLI v1 still sends SQS to its legacy `queue.amazonaws.com` whatever AWS_ENDPOINT_URL says:
        # the explicit global option reaches every service.
        arguments = ["--endpoint-url", str(endpoint), *arguments]
    return subprocess.run([binary, *arguments], env={**os.environ, **environment(outputs)}, check=False).returncode  # noqa: S603
