"""AWS answered at botocore's `before-send` hook with a canned HTTP response: the handlers' real client
code runs on every side of a ratio (parameter building, serialization, SigV4 signing, the retry
handler, response parsing), without network or emulator cost in the figures.

`before-call` would skip signing, the HTTP request and response parsing (~310 µs per PutItem on this
machine) and overstate every ratio against a floor that stores with boto3 (FIELD-NOTES, third round).
The services stubbed here (DynamoDB, Secrets Manager, SQS) all speak botocore's JSON protocol, so a
canned response is the responder's dict as JSON.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from typing import Any

from botocore.awsrequest import AWSResponse

Responder = Callable[[dict[str, Any]], dict[str, Any]]


class _Raw:
    """The raw stream botocore reads a response body from."""

    def __init__(self, body: bytes) -> None:
        self._body = body

    def stream(self, **_: Any) -> Iterator[bytes]:
        yield self._body


class StubbedAws:
    def __init__(self) -> None:
        self.calls: list[str] = []
        self._params: dict[str, dict[str, Any]] = {}

    def attach(self, client: Any, responders: dict[str, Responder]) -> None:
        def remember(params: dict[str, Any], model: Any, **_: Any) -> None:
            self._params[model.name] = params

        def answer(request: Any, event_name: str, **_: Any) -> AWSResponse:
            operation = event_name.rsplit(".", 1)[-1]
            self.calls.append(operation)
            body = json.dumps(responders[operation](self._params.get(operation, {}))).encode()
            headers = {"x-amzn-requestid": "stub", "content-type": "application/x-amz-json-1.0"}
            return AWSResponse(request.url, 200, headers, _Raw(body))

        client.meta.events.register("before-parameter-build.*.*", remember)
        client.meta.events.register_first("before-send.*.*", answer)


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
