"""AWS answered at botocore's `before-call` hook: the handlers' real client code runs (parameter
validation, serialization, response parsing hooks), without network or emulator cost in the figures."""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Callable
from typing import Any

Responder = Callable[[dict[str, Any]], dict[str, Any]]


@dataclasses.dataclass
class _Http:
    status_code: int = 200
    headers: dict[str, str] = dataclasses.field(default_factory=dict)


class StubbedAws:
    def __init__(self) -> None:
        self.calls: list[str] = []
        self._params: dict[str, dict[str, Any]] = {}

    def attach(self, client: Any, responders: dict[str, Responder]) -> None:
        def remember(params: dict[str, Any], model: Any, **_: Any) -> None:
            self._params[model.name] = params

        def answer(model: Any, **_: Any) -> tuple[_Http, dict[str, Any]]:
            self.calls.append(model.name)
            return _Http(), responders[model.name](self._params.get(model.name, {}))

        client.meta.events.register("before-parameter-build.*.*", remember)
        client.meta.events.register("before-call.*.*", answer)


def secret_responder(signing_secret: str) -> Responder:
    return lambda params: {
        "ARN": params["SecretId"],
        "Name": "signing",
        "SecretString": json.dumps({"signing_secrets": [signing_secret]}),
    }


def all_sent(params: dict[str, Any]) -> dict[str, Any]:
    return {
        "Successful": [
            {"Id": e["Id"], "MessageId": f"m-{e['Id']}", "MD5OfMessageBody": "0" * 32} for e in params["Entries"]
        ],
        "Failed": [],
    }
