"""`make sandbox`: the synthesized stack applied by real Terraform to moto, with the handlers run in-process.

Order: emulator -> synth -> terraform init/apply -> plan must show no changes -> signing secret ->
handlers loaded from the deployed zip with the deployed environment -> gateway and stream poller.
"""

from __future__ import annotations

import base64
import json
import os
import secrets
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

from pipeline_tools import terraform_cli
from pipeline_tools.outputs import client
from pipeline_tools.progress import Steps
from pipeline_tools.sandbox.emulator import OVERRIDE_FILE, Emulator, write_override
from pipeline_tools.sandbox.gateway import WebhookGateway
from pipeline_tools.sandbox.lambda_runtime import load_handlers
from pipeline_tools.sandbox.stream_poller import MappingSettings, StreamPoller

PROJECT_ROOT = Path(__file__).resolve().parents[2]
REGION_FALLBACK = "us-east-1"


class SandboxError(RuntimeError):
    """The sandbox could not come up; the message says which step and what to do."""


class Sandbox:
    def __init__(
        self, environment: str, outputs_path: Path, *, synth: bool = True, port: int = 0, outdir: Path | None = None
    ) -> None:
        """`outdir`: where the stack is synthesized and applied (default the project's `cdktf.out`;
        the test suite and the benchmark pass a temporary folder so `make synth`'s output stays as it was)."""
        self.environment = environment
        self.outputs_path = outputs_path
        self.synth = synth
        self.port = port
        self.outdir = outdir or PROJECT_ROOT / "cdktf.out"
        self.stack_dir = self.outdir / "stacks" / f"webhook-pipeline-{environment}"
        self.work_dir = PROJECT_ROOT / ".sandbox" / environment
        self.steps = Steps("sandbox")
        self.emulator: Emulator | None = None
        self.gateway: WebhookGateway | None = None
        self.poller: StreamPoller | None = None
        self.resource_count = 0
        self.outputs: dict[str, Any] = {}

    def up(self) -> dict[str, Any]:
        shutil.rmtree(self.work_dir, ignore_errors=True)
        self.work_dir.mkdir(parents=True)
        with self.steps.step("start moto server on loopback"):
            self.emulator = Emulator(self.port or None).start()
        if self.synth:
            with self.steps.step(f"synthesize webhook-pipeline-{self.environment}"):
                self._synthesize()
        with self.steps.step("terraform init + apply against the emulator"):
            self._apply()
        with self.steps.step("terraform plan -detailed-exitcode (must show no changes)"):
            self._plan_shows_no_changes()
        with self.steps.step("set a random signing secret and start the handlers"):
            self._start_runtime()
        self.outputs_path.write_text(json.dumps(self.outputs, indent=2, sort_keys=True) + "\n", encoding="utf-8")
        self.steps.summary(f"{self.resource_count} resources applied; outputs in {self.outputs_path}")
        return self.outputs

    def down(self) -> None:
        for component in (self.poller, self.gateway, self.emulator):
            if component is not None:
                component.stop()
        (self.stack_dir / OVERRIDE_FILE).unlink(missing_ok=True)  # a later real deploy must not see it

    # --- steps -------------------------------------------------------------------------------------
    def _synthesize(self) -> None:
        env = {
            **os.environ,
            "ENVIRONMENT_SUFFIX": self.environment,
            "JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION": "20",
            "CDKTF_OUTDIR": str(self.outdir),  # read by cdktf's App in the node process main.py starts
        }
        result = subprocess.run(
            [sys.executable, "main.py"], cwd=PROJECT_ROOT, env=env, capture_output=True, text=True, check=False
        )
        if result.returncode != 0:
            raise SandboxError(f"synth failed:\n{result.stderr[-4000:]}")

    def _terraform_env(self) -> dict[str, str]:
        config = terraform_cli.write_cli_config(self.work_dir)
        return terraform_cli.terraform_env(config, self.work_dir / "terraform-data")

    def _apply(self) -> None:
        if not (self.stack_dir / "cdk.tf.json").is_file():
            raise SandboxError(f"{self.stack_dir}/cdk.tf.json is missing: run `make synth` first")
        assert self.emulator is not None
        region = json.loads((self.stack_dir / "cdk.tf.json").read_text())["provider"]["aws"][0].get(
            "region", REGION_FALLBACK
        )
        write_override(self.stack_dir, self.emulator.url, region, self.work_dir / "terraform.tfstate")
        env = self._terraform_env()
        terraform_cli.run(["init", "-input=false", "-no-color", "-reconfigure"], cwd=self.stack_dir, env=env)
        terraform_cli.run(
            ["apply", "-auto-approve", "-input=false", "-no-color", "-parallelism=30"], cwd=self.stack_dir, env=env
        )
        state = terraform_cli.run(["show", "-json"], cwd=self.stack_dir, env=env)
        values = json.loads(state.stdout)["values"]["root_module"]["resources"]
        self.resource_count = sum(1 for resource in values if resource["mode"] == "managed")
        raw = terraform_cli.run(["output", "-json"], cwd=self.stack_dir, env=env)
        self.outputs = {name: value["value"] for name, value in json.loads(raw.stdout).items()}
        self.outputs["aws_endpoint_url"] = self.emulator.url

    def _plan_shows_no_changes(self) -> None:
        result = terraform_cli.run(
            ["plan", "-detailed-exitcode", "-input=false", "-no-color"], cwd=self.stack_dir, env=self._terraform_env()
        )
        if result.returncode == 2:
            raise SandboxError(f"the plan after apply is not empty (a perpetual diff):\n{result.stdout[-6000:]}")

    def _start_runtime(self) -> None:
        outputs = self.outputs
        signing_secret = "whsec_" + base64.b64encode(secrets.token_bytes(32)).decode()
        client(outputs, "secretsmanager").put_secret_value(
            SecretId=outputs["signing_secret_arn"], SecretString=json.dumps({"signing_secrets": [signing_secret]})
        )
        lambda_client = client(outputs, "lambda")
        functions = {
            "validator": outputs["validator_lambda_arn"].split(":")[-1],
            "router": outputs["router_lambda_arn"].split(":")[-1],
        }
        stack = json.loads((self.stack_dir / "cdk.tf.json").read_text())
        [package] = {block["filename"] for block in stack["resource"]["aws_lambda_function"].values()}
        handlers = load_handlers(
            lambda_client, functions, self.stack_dir / package, self.work_dir / "lambda", outputs["aws_endpoint_url"]
        )
        self.gateway = self._gateway(handlers["validator"]).start()
        self.poller = self._poller(lambda_client, handlers["router"], functions["router"]).start()
        outputs["deployed_api_endpoint"] = outputs["api_endpoint"]
        outputs["api_endpoint"] = self.gateway.url
        outputs["signing_secret"] = signing_secret
        outputs["sandbox"] = True
        # For tools that plan against the sandbox (the plan-review test): where its state and stack are.
        outputs["sandbox_state_path"] = str(self.work_dir / "terraform.tfstate")
        outputs["sandbox_stack_dir"] = str(self.stack_dir)

    def _gateway(self, validator: tuple[Any, Any]) -> WebhookGateway:
        apigateway = client(self.outputs, "apigateway")
        api_name = f"webhook-api-{self.environment}"
        [api] = [item for item in apigateway.get_rest_apis()["items"] if item["name"] == api_name]
        [model] = apigateway.get_models(restApiId=api["id"])["items"]
        response = apigateway.get_gateway_response(restApiId=api["id"], responseType="BAD_REQUEST_BODY")
        endpoint_path = self.outputs["api_endpoint"].split(".amazonaws.com", 1)[-1]  # /v1/webhook
        stage, resource_path = endpoint_path.lstrip("/").split("/", 1)
        handler, context = validator
        return WebhookGateway(
            handler=handler,
            context=context,
            model_schema=json.loads(model["schema"]),
            bad_request_template=response["responseTemplates"]["application/json"],
            stage=stage,
            resource_path="/" + resource_path,
            port=0,
        )

    def _poller(self, lambda_client: Any, router: tuple[Any, Any], router_name: str) -> StreamPoller:
        mappings = lambda_client.list_event_source_mappings()["EventSourceMappings"]
        [mapping] = [m for m in mappings if m["FunctionArn"].split(":")[6] == router_name]
        sqs = client(self.outputs, "sqs")
        destination = mapping.get("DestinationConfig", {}).get("OnFailure", {}).get("Destination")
        on_failure_url = sqs.get_queue_url(QueueName=destination.split(":")[-1])["QueueUrl"] if destination else None
        handler, context = router
        return StreamPoller(
            streams=client(self.outputs, "dynamodbstreams"),
            sqs=sqs,
            stream_arn=mapping["EventSourceArn"],
            handler=handler,
            context=context,
            settings=MappingSettings.from_mapping(mapping, on_failure_url),
        )
