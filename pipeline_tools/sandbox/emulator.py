"""A moto server on loopback standing in for AWS, and the Terraform override that points the stack at it."""

from __future__ import annotations

import json
import logging
import socket
from pathlib import Path
from typing import Any

from moto.server import ThreadedMotoServer

from pipeline_tools.sandbox.emulator_gaps import apply_shims

# Provider `endpoints` keys for every service the stacks use.
ENDPOINT_SERVICES = (
    "apigateway", "cloudwatch", "cloudwatchlogs", "dynamodb", "events", "iam", "kms", "lambda", "s3",
    "secretsmanager", "sns", "sqs", "sts", "wafv2",
)  # fmt: skip
FAKE_CREDENTIALS = {"AWS_ACCESS_KEY_ID": "sandbox", "AWS_SECRET_ACCESS_KEY": "sandbox"}
OVERRIDE_FILE = "sandbox_override.tf.json"


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class Emulator:
    """moto in a thread of this process, so the sandbox can run the handlers against it in-process."""

    def __init__(self, port: int | None = None) -> None:
        self.port = port or free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self._server = ThreadedMotoServer(ip_address="127.0.0.1", port=self.port, verbose=False)

    def start(self) -> Emulator:
        apply_shims()
        logging.getLogger("werkzeug").setLevel(logging.ERROR)  # no line per request
        self._server.start()
        return self

    def stop(self) -> None:
        self._server.stop()

    def __enter__(self) -> Emulator:
        return self.start()

    def __exit__(self, *_: object) -> None:
        self.stop()


def override_config(endpoint_url: str, region: str, state_path: Path) -> dict[str, Any]:
    """Endpoints, fake credentials, `skip_*` flags and a local backend, merged over `cdk.tf.json`."""
    return {
        "terraform": {"backend": {"local": {"path": str(state_path)}}},
        "provider": {
            "aws": [
                {
                    "region": region,
                    "access_key": FAKE_CREDENTIALS["AWS_ACCESS_KEY_ID"],
                    "secret_key": FAKE_CREDENTIALS["AWS_SECRET_ACCESS_KEY"],
                    "skip_credentials_validation": True,
                    "skip_metadata_api_check": True,
                    "skip_requesting_account_id": True,
                    "s3_use_path_style": True,
                    "endpoints": [{service: endpoint_url for service in ENDPOINT_SERVICES}],
                }
            ]
        },
    }


def write_override(stack_dir: Path, endpoint_url: str, region: str, state_path: Path) -> Path:
    path = stack_dir / OVERRIDE_FILE
    path.write_text(json.dumps(override_config(endpoint_url, region, state_path), indent=2), encoding="utf-8")
    return path
