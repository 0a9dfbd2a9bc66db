"""The validator behind an HTTP API (`front_door: "http_api"`, modules/http_api.py): payload format 1.0.

What API Gateway's HTTP API sends with payload 1.0 differs from the REST proxy event in ways the
validator must not care about (https://docs.aws.amazon.com/apigateway/latest/developerguide/http-api-develop-integrations-lambda.html):
every header name is lower-case (in `headers` and `multiValueHeaders`), the `$default` stage is not in
`path` nor in `requestContext.path`, `requestContext` carries `routeKey` and `version` is "1.0", and the
body may arrive base64-encoded. And what the REST API refused at the gateway reaches the validator:
a body that fails the schema (no request model), a provider route without its signature header (no
required header), an unknown source never does (no route: API Gateway answers 404 itself).
"""

from __future__ import annotations

import base64
import json
from collections.abc import Callable
from types import ModuleType
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.handlers.helpers import ROTATED_SECRET, SIGNING_SECRET, FakeContext, fresh_import, make_event, payment
from tests.handlers.test_sources import (
    DOMAIN,
    api_event,
    call,
    configure,  # noqa: F401 - the pytest fixture, used by name
    error_of,
    fixture_bytes,
    sign,
)


def http_api_v1(rest_event: dict[str, Any], *, base64_body: bool = False) -> dict[str, Any]:
    """The HTTP API payload 1.0 event for the request `rest_event` (a REST proxy event) describes,
    on the `$default` stage: the documented example's fields, header names lower-cased."""
    route_path = rest_event["resource"]
    headers = {name.lower(): value for name, value in rest_event["headers"].items()}
    multi = rest_event.get("multiValueHeaders") or {name: [value] for name, value in rest_event["headers"].items()}
    body = rest_event["body"]
    if base64_body and not rest_event.get("isBase64Encoded"):
        body = base64.b64encode(body.encode("utf-8")).decode()
    return {
        "version": "1.0",
        "resource": route_path,
        "path": route_path,
        "httpMethod": "POST",
        "headers": headers,
        "multiValueHeaders": {name.lower(): list(values) for name, values in multi.items()},
        "queryStringParameters": None,
        "multiValueQueryStringParameters": None,
        "requestContext": {
            "accountId": "123456789012",
            "apiId": "abc123",
            "domainName": DOMAIN,
            "domainPrefix": "abc123",
            "httpMethod": "POST",
            "identity": {"sourceIp": "192.0.2.1", "userAgent": "provider"},
            "path": route_path,
            "protocol": "HTTP/1.1",
            "requestId": "id-1",
            "requestTime": "04/Mar/2020:19:15:17 +0000",
            "requestTimeEpoch": 1583349317135,
            "resourceId": f"POST {route_path}",
            "resourcePath": route_path,
            "routeKey": f"POST {route_path}",
            "stage": "$default",
        },
        "pathParameters": None,
        "stageVariables": None,
        "body": body,
        "isBase64Encoded": bool(base64_body or rest_event.get("isBase64Encoded")),
    }


def test_post_webhook_is_stored_from_an_http_api_event(validator: ModuleType) -> None:
    event = http_api_v1(make_event(payment("evt_http_1"), header_case=str.title))
    assert validator.handler(event, FakeContext())["statusCode"] == 202


@settings(max_examples=25, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    base64_body=st.booleans(),
    case=st.sampled_from([str.lower, str.upper, str.title]),
    amount=st.decimals(min_value="0.01", max_value="999999.99", places=2),
)
def test_rest_and_http_api_shapes_of_one_request_get_one_answer(
    validator: ModuleType, base64_body: bool, case: Callable[[str], str], amount: Any
) -> None:
    """Whatever the header case the sender used and whether the body came base64-encoded, the HTTP API
    event of a request is answered as its REST event is: same status, and the second is a duplicate."""
    event_id = f"evt_http_{base64_body}_{case.__name__}_{amount}"
    rest = make_event(payment(event_id, amount=float(amount)), header_case=case)
    first = validator.handler(rest, FakeContext())
    again = validator.handler(http_api_v1(rest, base64_body=base64_body), FakeContext())
    assert first["statusCode"] == 202
    assert again["statusCode"] in (200, 202)  # the same delivery again: acknowledged, stored once
    assert json.loads(again["body"]).get("event_id", event_id) == json.loads(first["body"]).get("event_id", event_id)


def test_a_repeated_signature_header_arrives_lower_case_in_multi_value_headers(
    validator: ModuleType, signing_secret: Any
) -> None:
    signing_secret([SIGNING_SECRET])
    fresh = fresh_import("validator")
    good = make_event(payment("evt_http_mv"))
    stale = make_event(payment("evt_http_mv"), secret=ROTATED_SECRET)
    event = http_api_v1(good)
    signatures = [good["headers"]["webhook-signature"], stale["headers"]["webhook-signature"]]
    event["headers"]["webhook-signature"] = signatures[-1]
    event["multiValueHeaders"]["webhook-signature"] = signatures
    assert fresh.handler(event, FakeContext())["statusCode"] == 202


def test_a_body_the_rest_model_refused_is_refused_by_the_validator(validator: ModuleType) -> None:
    """No request model on an HTTP API: a signed body that fails the event schema gets the validator's 400."""
    bad = payment("evt_http_bad")
    del bad["amount"]  # required by handlers/event_schema.json
    response = validator.handler(http_api_v1(make_event(bad)), FakeContext())
    assert response["statusCode"] == 400


def test_an_unsigned_request_is_refused_before_its_body_is_parsed(validator: ModuleType) -> None:
    """A flood of unsigned junk costs one short invocation each: 401 on the missing signature, whatever
    the body (not JSON here), no AWS call."""
    event = http_api_v1(make_event(b"\x00not json", omit=("webhook-signature",)))
    assert validator.handler(event, FakeContext())["statusCode"] == 401


def test_a_body_over_the_limit_is_refused_413(validator: ModuleType) -> None:
    event = http_api_v1(make_event("x" * (100 * 1024 + 1)))
    assert validator.handler(event, FakeContext())["statusCode"] == 413


def test_a_provider_route_reads_its_source_from_the_route(configure: Any) -> None:  # noqa: F811
    validator, _ = configure()
    raw = fixture_bytes("stripe/payment_intent.succeeded.json")
    body, headers = sign("stripe", raw)
    status, answer = call(validator, http_api_v1(api_event("stripe", body, headers)))
    assert status == 202, answer


def test_a_provider_route_without_its_signature_header_is_401_from_the_validator(configure: Any) -> None:  # noqa: F811
    """The REST API required the header at the gateway; the HTTP API cannot, the validator refuses alike."""
    validator, _ = configure()
    raw = fixture_bytes("stripe/payment_intent.succeeded.json")
    status, _ = call(validator, http_api_v1(api_event("stripe", raw, {})))
    assert status == 401


def test_square_signs_the_default_stage_url_without_a_stage_name(configure: Any) -> None:  # noqa: F811
    """Square signs the notification URL: on the `$default` stage it is `https://<domain>/webhook/square`
    (the stack's `source_endpoints` output), which `requestContext.path` gives without a stage."""
    validator, _ = configure()
    raw = fixture_bytes("square/payment.created.json")
    body, headers = sign("square", raw, url=f"https://{DOMAIN}/webhook/square")
    status, answer = call(validator, http_api_v1(api_event("square", body, headers)))
    assert status == 202, answer
    body, headers = sign("square", raw, url=f"https://{DOMAIN}/$default/webhook/square")
    status, answer = call(validator, http_api_v1(api_event("square", body, headers)))
    assert status == 401 and error_of(answer)
