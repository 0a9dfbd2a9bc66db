"""`make sandbox`: the synthesized stack applied by real Terraform to moto, with the handlers run in-process.

Everything an instance writes lives under `<state root>/<env>/` (default `.sandbox/<env>/`): its
outputs file (`outputs.json`), its synthesized stack (`cdktf.out/`, never the project's), Terraform's
state and data; the lock is `<state root>/<env>.lock`. So sandboxes of different environments, and the
test suite's sandbox (its own state root) beside a user's, never touch each other's files.

Order: lock -> emulator -> synth -> terraform init/apply -> plan must show no changes -> signing secret
and one secret per source (in its provider's format) -> handlers loaded from the deployed zip with the deployed environment -> gateway and stream poller ->
with reconciling sources, their providers' API stubs and the reconcile schedules -> outputs file.
`down()` undoes each step that ran, whichever step was interrupted, and only what this instance created:
a refused instance (another holds the lock) removes nothing. The outputs file and the override exist
only while a ready sandbox serves them, and the lock goes with the process.
"""

from __future__ import annotations

import base64
import datetime
import fcntl
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
from pipeline_tools.provider_signing import random_secret
from pipeline_tools.sandbox import fault_injection, function_logs, write_observer
from pipeline_tools.sandbox import persist as persist_store
from pipeline_tools.sandbox.apply_progress import run_with_progress
from pipeline_tools.sandbox.emulator import OVERRIDE_FILE, Emulator, write_override
from pipeline_tools.sandbox.gateway import GatewayResponse, SourceRoute, WebhookGateway
from pipeline_tools.sandbox.lambda_runtime import load_handlers
from pipeline_tools.sandbox.live_log import LiveLog, request_lines, routing_lines
from pipeline_tools.sandbox.provider_apis import ProviderApiServer, configured_port
from pipeline_tools.sandbox.provider_stubs import MOLLIE_STUB_KEY, STUB_API_KEY
from pipeline_tools.sandbox.reconcile_schedule import ReconcileScheduler, deployed_schedules, reconcile_line
from pipeline_tools.sandbox.reload import HandlerReloader
from pipeline_tools.sandbox.stream_poller import MappingSettings, StreamPoller

PROJECT_ROOT = Path(__file__).resolve().parents[2]
# `PIPELINE_SANDBOX_STATE_DIR` moves every instance's files and lock (as `--state-dir` does for one).
STATE_ROOT = Path(os.environ.get("PIPELINE_SANDBOX_STATE_DIR") or PROJECT_ROOT / ".sandbox")
REGION_FALLBACK = "us-east-1"
# Written by `pipeline_tools load --throttle` while it runs (sandbox/fault_injection.py).
FAULT_FILE = "faults.json"


class SandboxError(RuntimeError):
    """The sandbox could not come up; the message says which step and what to do."""


def check_front_door(environment: str) -> None:
    """Refuse `front_door: "http_api"`: the in-process gateway (gateway.py) emulates the REST API only
    (its stage path, body model and required signature headers); emulating an HTTP API is out of its
    scope (docs/FRONT-DOOR.md). Settings errors are left to the synth, which names them."""
    from modules.config import ConfigError, load_settings

    try:
        front_door = load_settings(environment).front_door
    except ConfigError:
        return
    if front_door != "rest":
        raise SandboxError(
            f"environment {environment!r} has front_door {front_door!r}: the sandbox's in-process gateway emulates "
            "the REST API only, so it cannot serve an HTTP API (docs/FRONT-DOOR.md); run the sandbox with "
            "front_door 'rest' (the handlers see the same event shape), or deploy to AWS to try the HTTP API"
        )


class SandboxBusyError(SandboxError):
    """Another sandbox already serves this environment; the message says where."""


class Sandbox:
    def __init__(
        self,
        environment: str,
        outputs_path: Path | None = None,
        *,
        synth: bool = True,
        port: int = 0,
        outdir: Path | None = None,
        state_root: Path | None = None,
        reload: bool = True,
        handlers_dir: Path | None = None,
        persist: bool = False,
        clean: bool = False,
    ) -> None:
        """`state_root`: where this instance keeps its lock and files (default `.sandbox/`);
        `outputs_path` default `<state_root>/<env>/outputs.json`; `outdir`: where the stack is
        synthesized and applied (default `<state_root>/<env>/cdktf.out`; never the project's `cdktf.out/`,
        which `make synth` and `npx cdktf` own: `synth=False` copies the stack from there)."""
        self.environment = environment
        self.state_root = state_root or STATE_ROOT
        self.work_dir = self.state_root / environment
        self.outputs_path = outputs_path or self.work_dir / "outputs.json"
        self.synth = synth
        self.port = port
        self.outdir = outdir or self.work_dir / "cdktf.out"
        self.stack_dir = self.outdir / "stacks" / f"webhook-pipeline-{environment}"
        self.steps = Steps("sandbox")
        self.reload = reload
        self.handlers_dir = handlers_dir or PROJECT_ROOT / "handlers"
        self.reloader: HandlerReloader | None = None
        self.persist, self.clean = persist, clean
        self.snapshot = persist_store.snapshot_path(self.state_root, environment)
        self.restored: dict[str, Any] | None = None
        self.emulator: Emulator | None = None
        self.gateway: WebhookGateway | None = None
        self.poller: StreamPoller | None = None
        self.scheduler: ReconcileScheduler | None = None
        self.provider_apis: ProviderApiServer | None = None
        self.resource_count = 0
        self.outputs: dict[str, Any] = {}
        self.lock_path = self.state_root / f"{environment}.lock"
        self._lock_file: Any = None
        self._wrote_outputs = False
        self._wrote_override = False

    def acquire(self) -> None:
        """Hold `.sandbox/<env>.lock` for the life of this process (the kernel drops it if the process dies).

        Raises `SandboxBusyError` naming the endpoint and outputs of the sandbox that holds it.
        """
        self.lock_path.parent.mkdir(parents=True, exist_ok=True)
        lock_file = self.lock_path.open("a+", encoding="utf-8")
        try:
            fcntl.flock(lock_file, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            lock_file.seek(0)
            holder = lock_file.read().strip() or "{}"
            lock_file.close()
            info = json.loads(holder) if holder.startswith("{") else {}
            where = info.get("api_endpoint") or "(still starting)"
            raise SandboxBusyError(
                f"a sandbox for {self.environment} is already running (pid {info.get('pid', '?')}, serving {where}, "
                f"outputs {info.get('outputs', '?')}): use it, or stop it (Ctrl-C in its terminal) first"
            ) from None
        self._lock_file = lock_file
        self._describe_lock()
        self._check_outputs_file_is_free()

    def _check_outputs_file_is_free(self) -> None:
        """An outputs file another running sandbox serves is refused, never taken over; a stale one
        (its sandbox is gone: it names no live process) is removed. Raises `SandboxBusyError`."""
        try:
            existing = json.loads(self.outputs_path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return
        pid = existing.get("sandbox_pid") if isinstance(existing, dict) else None
        if isinstance(pid, int) and pid != os.getpid() and _process_alive(pid):
            owner = existing.get("environment", "?")
            self.release()
            raise SandboxBusyError(
                f"{self.outputs_path} is the outputs file of the running sandbox of {owner} (pid {pid}): "
                "give this one its own (drop --outputs: each environment has .sandbox/<env>/outputs.json)"
            )
        self.outputs_path.unlink(missing_ok=True)

    def _describe_lock(self) -> None:
        assert self._lock_file is not None
        self._lock_file.seek(0)
        self._lock_file.truncate()
        self._lock_file.write(json.dumps({"pid": os.getpid(), "outputs": str(self.outputs_path),
                                          "api_endpoint": self.outputs.get("api_endpoint") if self._wrote_outputs else None}))  # fmt: skip
        self._lock_file.flush()

    def up(self) -> dict[str, Any]:
        check_front_door(self.environment)
        if self._lock_file is None:
            self.acquire()
        # Nobody serves this environment from this state root (we hold its lock): what a killed run left is stale.
        shutil.rmtree(self.work_dir, ignore_errors=True)
        self.work_dir.mkdir(parents=True)
        if self.clean and self.snapshot.exists():
            self.snapshot.unlink()
            print(f"==> starting clean: removed the snapshot {self.snapshot}", file=self.steps.stream, flush=True)
        self.outputs_path.parent.mkdir(parents=True, exist_ok=True)
        with self.steps.step("start moto server on loopback"):
            self.emulator = Emulator(self.port or None).start()
            fault_injection.install(self.work_dir / FAULT_FILE)  # off until a load run writes the file
        if self.synth:
            with self.steps.step(f"synthesize webhook-pipeline-{self.environment}"):
                self._synthesize()
        else:
            self._copy_synthesized_stack()
        with self.steps.step("terraform init + apply against the emulator"):
            self._apply()
        with self.steps.step("terraform plan -detailed-exitcode (must show no changes)"):
            self._plan_shows_no_changes()
        with self.steps.step("set random signing secrets (one per source) and start the handlers"):
            self._start_runtime()
        self.outputs["fault_injection_file"] = str(self.work_dir / FAULT_FILE)  # pipeline_tools load --throttle
        self.outputs_path.write_text(json.dumps(self.outputs, indent=2, sort_keys=True) + "\n", encoding="utf-8")
        self._wrote_outputs = True
        self._describe_lock()
        restored = (
            f"; restored {self.restored['items']} items, {self.restored['messages']} messages and "
            f"{self.restored['log_lines']} log lines saved {self.restored['saved_at']} (--clean starts without them)"
            if self.restored
            else ""
        )
        self.steps.summary(f"{self.resource_count} resources applied; outputs in {self.outputs_path}{restored}")
        return self.outputs

    def down(self) -> list[str]:
        """Stop whatever this instance started and remove what it wrote (outputs file, override);
        release its lock. Returns what it removed or stopped, for the closing line."""
        done = []
        if self.reloader is not None:
            self.reloader.stop()
            self.reloader = None
        if self._wrote_outputs:
            self.outputs_path.unlink(missing_ok=True)  # the file means "a sandbox serves this"
            self._wrote_outputs = False
            done.append(f"outputs file {self.outputs_path} removed")
        for component in (self.scheduler, self.provider_apis, self.poller, self.gateway):
            if component is not None:
                component.stop()
                done.append(f"{type(component).__name__} stopped")
        if self.persist and self.emulator is not None and self.outputs.get("sandbox"):
            try:
                counts = persist_store.save(self.outputs, self.snapshot)
                done.append(f"snapshot saved to {self.snapshot} ({counts['items']} items, {counts['messages']} "
                            f"messages, {counts['log_lines']} log lines; --clean starts without it)")  # fmt: skip
            except Exception as error:  # stopping must finish whatever the emulator says
                done.append(f"snapshot NOT saved ({type(error).__name__}: {error})")
        if self.emulator is not None:
            self.emulator.stop()
            done.append("Emulator stopped")
        self.poller = self.gateway = self.emulator = self.scheduler = self.provider_apis = None
        if self._wrote_override:
            (self.stack_dir / OVERRIDE_FILE).unlink(missing_ok=True)  # a later real deploy must not see it
            self._wrote_override = False
            done.append("override removed")
        self.release()
        return done

    def release(self) -> None:
        if self._lock_file is not None:
            self._lock_file.close()  # closing releases the flock
            self._lock_file = None

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

    def _copy_synthesized_stack(self) -> None:
        """`--no-synth`: apply a copy of what the last `make synth` left in `cdktf.out/`, so the project's
        folder never gets this instance's override, `.terraform` or state."""
        source = PROJECT_ROOT / "cdktf.out" / "stacks" / self.stack_dir.name
        if not (source / "cdk.tf.json").is_file():
            raise SandboxError(
                f"{source}/cdk.tf.json is missing: run `ENVIRONMENT_SUFFIX={self.environment} make synth` first"
            )
        if source.resolve() != self.stack_dir.resolve():
            shutil.rmtree(self.stack_dir, ignore_errors=True)
            shutil.copytree(
                source, self.stack_dir, ignore=shutil.ignore_patterns(".terraform", OVERRIDE_FILE, "*.tfstate*")
            )

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
        self._wrote_override = True
        env = self._terraform_env()
        terraform_cli.run(["init", "-input=false", "-no-color", "-reconfigure"], cwd=self.stack_dir, env=env)
        run_with_progress(
            [terraform_cli.find_terraform(), "apply", "-auto-approve", "-input=false", "-no-color", "-parallelism=30"],
            cwd=self.stack_dir,
            env=env,
            stream=self.steps.stream,
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
        reconciler_arn = outputs.get("reconciler_lambda_arn")
        if reconciler_arn:
            functions["reconciler"] = str(reconciler_arn).split(":")[-1]
        source_secrets = self._set_source_secrets(lambda_client, functions["validator"])
        # Before the handlers are imported: Powertools binds its log stream when the Logger is built.
        stdout = function_logs.install()
        self.live_log = LiveLog(stdout.original)
        logs = client(outputs, "logs")
        stack = json.loads((self.stack_dir / "cdk.tf.json").read_text())
        # The handlers' zip (the example consumer, when deployed, has its own: the integration suite runs it).
        packages = {
            block["function_name"]: block["filename"] for block in stack["resource"]["aws_lambda_function"].values()
        }
        [package] = {packages[name] for name in functions.values()}
        handlers = load_handlers(
            lambda_client, functions, self.stack_dir / package, self.work_dir / "lambda", outputs["aws_endpoint_url"]
        )
        # One process, one environment: the last function loaded left its variables. The validator reads
        # POWERTOOLS_SERVICE_NAME per call (its per-source metrics), so it gets its own back; the reconciler
        # read its own at import.
        validator_config = lambda_client.get_function_configuration(FunctionName=functions["validator"])
        service = validator_config.get("Environment", {}).get("Variables", {}).get("POWERTOOLS_SERVICE_NAME")
        if service:
            os.environ["POWERTOOLS_SERVICE_NAME"] = service
        validator_logs = function_logs.LogGroupWriter(logs, f"/aws/lambda/{functions['validator']}")
        router_logs = function_logs.LogGroupWriter(logs, f"/aws/lambda/{functions['router']}")

        write_observer.watch(sys.modules["validator"]._dynamodb)

        # Every line goes to the log group, EMF documents included, as Lambda ships them: `status`
        # evaluates the metric alarms from them (the emulator turns no EMF into metrics).
        def on_response(status: int, body: bytes, lines: list[dict[str, Any]], path: str) -> None:
            validator_logs.write(lines)
            self.live_log.print(*request_lines(status, body, lines, path, write_observer.take()))

        def on_router_logs(lines: list[dict[str, Any]]) -> None:
            router_logs.write(lines)
            self.live_log.print(*routing_lines(lines))

        if self.persist:
            self.restored = persist_store.restore(outputs, self.snapshot)
            if self.restored:
                signing_secret = outputs.get("signing_secret", signing_secret)
                kept = outputs.get("source_secrets") or {}
                source_secrets = {name: kept.get(name, entry) for name, entry in source_secrets.items()}
        self.gateway = self._gateway(handlers["validator"], on_response).start()
        self.poller = self._poller(lambda_client, handlers["router"], functions["router"], on_router_logs)
        if self.restored:
            self.poller.initial_iterator = "LATEST"  # restored items were routed before the snapshot
        self.poller.start()
        if "reconciler" in handlers:
            self._start_reconciler(lambda_client, handlers["reconciler"], functions["reconciler"], str(reconciler_arn))
        if self.reload:
            self.reloader = self._reloader(
                lambda_client, {name: functions[name] for name in ("validator", "router")}
            ).start()
        outputs["deployed_api_endpoint"] = outputs["api_endpoint"]
        outputs["api_endpoint"] = self.gateway.url
        outputs["signing_secret"] = signing_secret
        outputs["deployed_source_endpoints"] = outputs.get("source_endpoints") or {}
        outputs["source_endpoints"] = {name: self.gateway.source_url(name) for name in sorted(source_secrets)}
        outputs["source_secrets"] = source_secrets
        outputs["sandbox"] = True
        # Lambda's Invoke API for the validator, served by the gateway (quarantine readmit).
        outputs["lambda_endpoint_url"] = f"http://{self.gateway.host}"
        outputs["environment"] = self.environment
        outputs["sandbox_pid"] = os.getpid()
        # For tools that plan against the sandbox (the plan-review test): where its state and stack are.
        outputs["sandbox_state_path"] = str(self.work_dir / "terraform.tfstate")
        outputs["sandbox_stack_dir"] = str(self.stack_dir)

    def _start_reconciler(self, lambda_client: Any, reconciler: tuple[Any, Any], name: str, arn: str) -> None:
        """The reconcile schedules (EventBridge's part, which the emulator does not play) and a stub of
        each reconciling source's provider API, on the port the deployed `api_base_url`s name (another
        if that one is taken: the in-process reconciler and `provider_api_stubs` then name the one used).
        Each source's API secret gets the stub's key. The reconciler is also reachable through Lambda's
        Invoke API at `lambda_endpoint_url` (the gateway), as the quarantine's readmit reaches the validator."""
        variables = lambda_client.get_function_configuration(FunctionName=name)["Environment"]["Variables"]
        configured = json.loads(variables.get("RECONCILE_SOURCES") or "{}")
        self.provider_apis = ProviderApiServer(
            {source: entry["provider"] for source, entry in configured.items()},
            port=configured_port({source: entry.get("api_base_url", "") for source, entry in configured.items()}),
        ).start()
        served = self.provider_apis.base_urls
        for entry_name, entry in configured.items():
            entry["api_base_url"] = served[entry_name]
        os.environ["RECONCILE_SOURCES"] = json.dumps(configured, sort_keys=True, separators=(",", ":"))
        sys.modules["reconciler"]._SETTINGS_CACHE = None  # settings are read once per import
        secretsmanager = client(self.outputs, "secretsmanager")
        for source_name, secret_arn in sorted((self.outputs.get("source_api_secret_arns") or {}).items()):
            key = (
                self.provider_apis.stubs[source_name].api_key
                if source_name in self.provider_apis.stubs
                else STUB_API_KEY
            )
            secretsmanager.put_secret_value(SecretId=secret_arn, SecretString=json.dumps({"api_key": key}))
        reconciler_logs = function_logs.LogGroupWriter(client(self.outputs, "logs"), f"/aws/lambda/{name}")

        def on_run(event: dict[str, Any], report: dict[str, Any] | None, lines: list[dict[str, Any]]) -> None:
            # EMF documents stay in the log group, as on Lambda (CloudWatch reads ReconciledMissing there).
            reconciler_logs.write(lines)
            self.live_log.print(reconcile_line(event, report))

        handler, context = reconciler
        schedules = deployed_schedules(client(self.outputs, "events"), arn)
        self.scheduler = ReconcileScheduler(handler, context, schedules, on_run).start()
        assert self.gateway is not None
        self.gateway.invocable[name] = self.scheduler.invoke
        self.outputs["provider_api_stubs"] = served
        self.outputs["reconcile_schedules"] = {
            str(schedule.event.get("source")): f"every {schedule.interval_seconds / 60:g} minutes"
            for schedule in schedules
        }

    def _reloader(self, lambda_client: Any, functions: dict[str, str]) -> HandlerReloader:
        entry_points = {
            name: lambda_client.get_function_configuration(FunctionName=function)["Handler"]
            for name, function in functions.items()
        }

        def swap(handlers: dict[str, Any]) -> None:
            assert self.gateway is not None and self.poller is not None
            self.gateway.handler, self.poller.handler = handlers["validator"], handlers["router"]
            write_observer.watch(sys.modules["validator"]._dynamodb)

        return HandlerReloader(
            self.handlers_dir,
            self.work_dir / "lambda",
            entry_points,
            swap,
            lambda line: self.live_log.print(f"{datetime.datetime.now():%H:%M:%S}  {line}"),
        )

    def _set_source_secrets(self, lambda_client: Any, validator_name: str) -> dict[str, dict[str, str]]:
        """Put a random secret, in its provider's own format, into each source's secret; return
        `{name: {"provider", "secret"[, "public_key"][, "notification_url"]}}` for the outputs file.

        The providers and options are the validator's deployed `SOURCES`, read back from the emulator."""
        arns = self.outputs.get("source_secret_arns") or {}
        if not arns:
            return {}
        configuration = lambda_client.get_function_configuration(FunctionName=validator_name)
        configured = json.loads(configuration.get("Environment", {}).get("Variables", {}).get("SOURCES") or "{}")
        secretsmanager = client(self.outputs, "secretsmanager")
        found: dict[str, dict[str, str]] = {}
        for name, arn in sorted(arns.items()):
            entry = configured.get(name)
            if entry is None:
                raise SandboxError(f"source {name} has a secret but is not in the validator's SOURCES")
            provider = entry["provider"]
            # A mollie-classic door fetches from the sandbox's Mollie stub: its secret is the stub's key.
            secret = MOLLIE_STUB_KEY if provider == "mollie-classic" else random_secret(provider)
            secretsmanager.put_secret_value(SecretId=arn, SecretString=json.dumps({"secrets": [secret]}))
            found[name] = {"provider": provider, "secret": secret}
            for option in ("public_key", "notification_url"):
                if option in entry:
                    found[name][option] = entry[option]
        return found

    def _gateway(self, validator: tuple[Any, Any], on_response: Any) -> WebhookGateway:
        apigateway = client(self.outputs, "apigateway")
        api_name = f"webhook-api-{self.environment}"
        [api] = [item for item in apigateway.get_rest_apis()["items"] if item["name"] == api_name]
        [model] = apigateway.get_models(restApiId=api["id"])["items"]
        response = apigateway.get_gateway_response(restApiId=api["id"], responseType="BAD_REQUEST_BODY")
        endpoint_path = self.outputs["api_endpoint"].split(".amazonaws.com", 1)[-1]  # /v1/webhook
        stage, resource_path = endpoint_path.lstrip("/").split("/", 1)
        routes, bad_parameters = self._source_routes(apigateway, api["id"], "/" + resource_path)
        handler, context = validator
        return WebhookGateway(
            handler=handler,
            context=context,
            model_schema=json.loads(model["schema"]),
            bad_request_template=response["responseTemplates"]["application/json"],
            stage=stage,
            resource_path="/" + resource_path,
            port=0,
            on_response=on_response,
            source_routes=routes,
            bad_parameters_response=bad_parameters,
        )

    @staticmethod
    def _source_routes(
        apigateway: Any, api_id: str, webhook_path: str
    ) -> tuple[list[SourceRoute], GatewayResponse | None]:
        """`POST <webhook_path>/<name>` routes as deployed: each method's required request headers (when
        its request validator validates parameters), and the BAD_REQUEST_PARAMETERS gateway response."""
        routes = []
        resources = apigateway.get_resources(restApiId=api_id, limit=500)["items"]
        for resource in resources:
            path = resource.get("path", "")
            if not path.startswith(webhook_path + "/") or "POST" not in resource.get("resourceMethods", {}):
                continue
            method = apigateway.get_method(restApiId=api_id, resourceId=resource["id"], httpMethod="POST")
            validates = False
            if method.get("requestValidatorId"):
                validator = apigateway.get_request_validator(
                    restApiId=api_id, requestValidatorId=method["requestValidatorId"]
                )
                validates = bool(validator.get("validateRequestParameters"))
            required = [
                parameter.removeprefix("method.request.header.")
                for parameter, is_required in (method.get("requestParameters") or {}).items()
                if is_required and validates and parameter.startswith("method.request.header.")
            ]
            routes.append(SourceRoute(resource_path=path, required_headers=tuple(required)))
        if not routes:
            return [], None
        try:
            deployed = apigateway.get_gateway_response(restApiId=api_id, responseType="BAD_REQUEST_PARAMETERS")
        except apigateway.exceptions.NotFoundException:
            return routes, None
        template = (deployed.get("responseTemplates") or {}).get("application/json")
        if template is None:
            return routes, None
        return routes, GatewayResponse(int(deployed["statusCode"]), template)

    def _poller(self, lambda_client: Any, router: tuple[Any, Any], router_name: str, on_logs: Any) -> StreamPoller:
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
            on_logs=on_logs,
        )


def _process_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True
