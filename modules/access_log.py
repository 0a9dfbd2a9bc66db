"""The API stage's access-log line: what each field is for, and its size (the cost model prices it).

One JSON line per request in `API-Gateway-Access-Logs_<api>/v1` (modules/api.py). Never a body or a
header value: access logs must not carry payment data or signatures. Issue 20 trimmed the line to the
fields an operator uses (README, "Operator tools": the access log); each kept field says what for:

- `requestId`: the id every refusal's body carries (`request_id`), so a sender's report finds its line;
- `sourceIp`: who sent it (WAF blocks, floods of unsigned requests);
- `resourcePath`: which door (`/webhook` or `/webhook/<source>`): the source of a refusal or 5xx;
- `status`, `integrationStatus`: what the sender got, and what the validator answered (they differ when
  API Gateway itself failed the request: 502/504 with the validator's 200, or a 4xx before it ran);
- `integrationLatency`: the validator's time in ms (a slow door: `webhook-api-latency`'s detail);
- `errorMessage`, `validationError`: API Gateway's own refusal (throttling, schema, missing header);
- `xrayTraceId`: joins the line to the validator's log lines (Powertools' `xray_trace_id`) and, when
  sampled, its trace.

Dropped by issue 20: `requestTime` (every CloudWatch log event has its own timestamp, to the ms),
`httpMethod` (only POST routes exist; any other method is refused with a 403 and its `errorMessage`),
`responseLength` (no operator question needs it).
"""

from __future__ import annotations

import json

ACCESS_LOG_FIELDS = {
    "requestId": "$context.requestId",
    "sourceIp": "$context.identity.sourceIp",
    "resourcePath": "$context.resourcePath",
    "status": "$context.status",
    "integrationStatus": "$context.integration.status",
    "integrationLatency": "$context.integration.latency",
    "errorMessage": "$context.error.message",
    "validationError": "$context.error.validationErrorString",
    "xrayTraceId": "$context.xrayTraceId",
}
# Before issue 20 (the cost model's "before" step prices this line).
UNTRIMMED_ACCESS_LOG_FIELDS = {
    "requestId": "$context.requestId",
    "sourceIp": "$context.identity.sourceIp",
    "requestTime": "$context.requestTime",
    "httpMethod": "$context.httpMethod",
    "resourcePath": "$context.resourcePath",
    "status": "$context.status",
    "responseLength": "$context.responseLength",
    "integrationStatus": "$context.integration.status",
    "integrationLatency": "$context.integration.latency",
    "errorMessage": "$context.error.message",
    "validationError": "$context.error.validationErrorString",
    "xrayTraceId": "$context.xrayTraceId",
}

# What API Gateway writes for each variable on an accepted delivery to a source route (the line every
# normal event costs): a v4 request id, an IPv4 sender, `-` for the empty error variables.
# https://docs.aws.amazon.com/apigateway/latest/developerguide/api-gateway-mapping-template-reference.html
TYPICAL_ACCEPTED = {
    "$context.requestId": "3f1c2a9e-8b7d-4c6e-9a5f-1e2d3c4b5a69",
    "$context.identity.sourceIp": "198.51.100.23",
    "$context.requestTime": "05/Dec/2026:23:59:59 +0000",
    "$context.httpMethod": "POST",
    "$context.resourcePath": "/webhook/stripe",
    "$context.status": "202",
    "$context.responseLength": "74",
    "$context.integration.status": "202",
    "$context.integration.latency": "14",
    "$context.error.message": "-",
    "$context.error.validationErrorString": "-",
    "$context.xrayTraceId": "1-6752f1e3-0a1b2c3d4e5f60718293a4b5",
}


def access_log_format(fields: dict[str, str] = ACCESS_LOG_FIELDS) -> str:
    """The stage's `access_log_settings.format`: compact JSON, one line."""
    return json.dumps(fields, separators=(",", ":"))


def typical_line_bytes(fields: dict[str, str] = ACCESS_LOG_FIELDS) -> int:
    """Bytes of the line API Gateway writes for an accepted delivery with `fields` (the format with each
    variable replaced by its `TYPICAL_ACCEPTED` value)."""
    line = access_log_format(fields)
    for variable in sorted(TYPICAL_ACCEPTED, key=len, reverse=True):  # longest first: no prefix clashes
        line = line.replace(variable, TYPICAL_ACCEPTED[variable])
    return len(line.encode())
