"""The OpenAPI document matches what the service does: schemathesis, every check, against
the real service on SQLite + local disk and on PostgreSQL + Ceph RGW.

Schemathesis reads ``/openapi.json`` from the running service and runs its phases
(the schema's own examples, coverage of every parameter's edges, fuzzing, and stateful
sequences along the links it infers) with every check: no server error, every status,
content type, header and body as documented, schema-violating requests refused,
schema-valid ones accepted, undeclared methods answered 405 with a truthful ``Allow``.
The budget is bounded and the seed fixed, so a run is repeatable and takes a minute or so.
"""

from __future__ import annotations

import itertools
import json
import socket
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
import schemathesis
import uvicorn
from schemathesis.engine import events
from schemathesis.engine import from_schema as engine_for
from schemathesis.hooks import GLOBAL_HOOK_DISPATCHER

from s3files.cli.server import uvicorn_config
from s3files.server.limits import ServiceLimits
from s3files.server.settings import ServiceSettings
from s3files.validation import DEFAULT_ALLOWED_EXTENSIONS
from tests.server import conftest as service_fixtures
from tests.server.conftest import Service, make_service

MAX_EXAMPLES = 12
SEED = 20261201

# Business rules no JSON schema can state (the sniffed content type, an upload's state,
# a cursor the service must have issued): their refusals are documented 4xx with stable
# codes, so schema-valid data meeting them is not a mismatch.
RULE_REFUSALS = ["400", "413", "415", "416"]
# schemathesis's own list for valid data: a resource that does not exist, a conflict ...
ACCEPTED = ["2xx", "3xx", "401", "403", "404", "409", "429"]


# The checks of `schemathesis run --checks all` that this API gives a chance to run
EVERY_CHECK = [
    "not_a_server_error",
    "status_code_conformance",
    "content_type_conformance",
    "response_headers_conformance",
    "response_schema_conformance",
    "negative_data_rejection",
    "positive_data_acceptance",
    "unsupported_method",
    "allow_header_conformance",
    "ignored_auth",
]


@dataclass
class Findings:
    """What one schemathesis run saw."""

    requests: int = 0
    statuses: Counter[int] = field(default_factory=Counter)
    failures: list[str] = field(default_factory=list)
    failure_count: int = 0
    errors: list[str] = field(default_factory=list)
    checks: Counter[str] = field(default_factory=Counter)


def _config(service: Service, *, examples_only: bool) -> schemathesis.Config:
    """Every check; for the examples, the schema's own examples only, none refused."""
    accepted = ACCEPTED if examples_only else [*ACCEPTED, *RULE_REFUSALS]
    phases = {"coverage": {"enabled": False}, "fuzzing": {"enabled": False}}
    return schemathesis.Config.from_dict(
        {
            "phases": {**phases, "stateful": {"enabled": False}} if examples_only else {},
            "seed": SEED,
            "workers": 1,  # repeatable order; two were no faster on 2 cores (136 s vs 138 s)
            "auth": {"openapi": {"HTTPBearer": {"bearer": service.keys["root"]}}},
            "request-timeout": 30,
            "generation": {"max-examples": MAX_EXAMPLES, "deterministic": True},
            "checks": {
                "enabled": True,
                "positive_data_acceptance": {
                    "expected-statuses": accepted,
                },
                "negative_data_rejection": {
                    "expected-statuses": [
                        "400",
                        "401",
                        "403",
                        "404",
                        "405",
                        "406",
                        "409",
                        "413",
                        "414",
                        "415",
                        "422",
                        "429",
                        "431",
                    ],
                },
            },
        }
    )


def _describe(recorder: Any, case_id: str, title: str, message: str) -> str:
    """One failure in a line: the operation, the check, the status and the request."""
    case = recorder.cases[case_id].value
    text = " ".join(message.strip().splitlines()[:1])[:300]
    line = f"{case.method} {case.path}: {title}: {text}"
    sent = recorder.interactions.get(case_id)
    if sent is not None:
        status = sent.response.status_code if sent.response is not None else None
        body = (sent.request.body or b"")[:200]
        answer = sent.response.content[:200] if sent.response is not None else b""
        line += f" [{status}] {answer!r} <- {sent.request.uri[:300]} {body!r}"
    return line


_KEYS_SENT = itertools.count()  # across runs: both tests share a service


def _new_key_per_request() -> Callable[..., None]:
    """A ``before_call`` hook: a well-formed ``Idempotency-Key`` made unique per request.

    A key is the client's promise that it names one file: the generated cases reuse the
    same few values (the example, "0", the longest string) for different files, which the
    service rightly answers 422 ``idempotency_key_reused`` (documented, and tested in
    test_idempotency.py). Malformed keys are sent as generated."""
    sent = _KEYS_SENT

    def before_call(_: Any, case: schemathesis.Case, __: dict[str, Any]) -> None:
        headers = case.headers or {}
        for name, value in list(headers.items()):
            key = (
                value.strip()
                if name.lower() == "idempotency-key" and isinstance(value, str)
                else ""
            )
            if key and len(value) <= 255 and all(" " <= ch <= "~" for ch in key):
                suffix = f"-{next(sent)}"
                headers[name] = key[: 255 - len(suffix)] + suffix

    return before_call


def run_schemathesis(service: Service, *, examples_only: bool = False) -> Findings:
    """Every phase and every check against ``service``; the failures in words."""
    config = _config(service, examples_only=examples_only)
    schema = schemathesis.openapi.from_url(f"{service.url}/openapi.json", config=config)
    hook = schemathesis.hook("before_call")(_new_key_per_request())
    try:
        return _collect(engine_for(schema).execute())
    finally:
        GLOBAL_HOOK_DISPATCHER.unregister(hook)


def _collect(stream: Iterable[events.EngineEvent]) -> Findings:
    """The requests, statuses, checks and failures of one run."""
    findings = Findings()
    seen: set[tuple[str, str, str]] = set()
    for event in stream:
        if isinstance(event, events.NonFatalError | events.FatalError):
            findings.errors.append(repr(event))
        if not isinstance(event, events.ScenarioFinished | events.FuzzScenarioFinished):
            continue
        recorder = event.recorder
        for interaction in recorder.interactions.values():
            findings.requests += 1
            if interaction.response is not None:
                findings.statuses[interaction.response.status_code] += 1
        for case_id, checks in recorder.checks.items():
            for check in checks:
                findings.checks[check.name] += 1
                if check.failure_info is None:
                    continue
                findings.failure_count += 1
                failure = check.failure_info.failure
                case = recorder.cases[case_id].value
                where = (case.method, case.path, failure.title)
                if where not in seen:  # one line per operation and kind of failure
                    seen.add(where)
                    findings.failures.append(
                        _describe(recorder, case_id, failure.title, failure.message)
                    )
    return findings


def start_as_serve(
    settings: ServiceSettings, limits: ServiceLimits | None = None
) -> tuple[uvicorn.Server, threading.Thread]:
    """``conftest.start_service``, but with the HTTP server ``s3files serve`` runs (its
    bounded httptools protocol answers an oversized request head 431 in JSON, where plain
    uvicorn answers a text/plain 400 that no route could document)."""
    assert limits is None
    port = int(settings.public_base_url.rsplit(":", 1)[1])
    server = uvicorn.Server(uvicorn_config(settings, host="127.0.0.1", port=port))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise RuntimeError("the service did not start")
        time.sleep(0.02)
    return server, thread


@pytest.fixture(
    scope="module",
    params=[("local", "sqlite"), ("s3", "postgres")],
    ids=lambda p: f"{p[0]}-{p[1]}",
)
def conformance_service(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Service]:
    """One service per combination for both tests (a boot of each costs seconds)."""
    store, database = request.param
    tmp_path = tmp_path_factory.mktemp(f"conformance-{database}")
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(service_fixtures, "start_service", start_as_serve)
        yield from make_service(tmp_path, request, store, database)


def test_schemathesis_finds_no_mismatch(conformance_service: Service) -> None:
    """Schemathesis's phases and checks, on a budget of about 1,400 requests."""
    findings = run_schemathesis(conformance_service)
    statuses = dict(sorted(findings.statuses.items()))
    print(f"{findings.requests} requests, {findings.failure_count} failures; {statuses}")
    print("\n".join(findings.failures + findings.errors))
    print(dict(sorted(findings.checks.items())))
    assert findings.requests >= 1000, findings.requests
    assert set(EVERY_CHECK) <= set(findings.checks), findings.checks
    assert not findings.statuses.keys() & range(500, 600), findings.statuses
    assert findings.errors == []
    assert findings.failures == []


def test_every_example_is_accepted(conformance_service: Service) -> None:
    """The schema's own examples, sent as they are under the default settings: none is
    refused (a missing resource is 404, as for any id that does not exist)."""
    findings = run_schemathesis(conformance_service, examples_only=True)
    print(f"{findings.requests} requests; {dict(sorted(findings.statuses.items()))}")
    print("\n".join(findings.failures + findings.errors))
    assert findings.requests >= 20, findings.requests
    assert findings.errors == []
    assert findings.failures == []
    assert findings.statuses[201] >= 4  # uploads (form, raw body, PUT) and a direct upload


def raw_get(service: Service, target: str) -> tuple[int, dict[str, str], bytes]:
    """A GET sent as bytes (HTTP clients refuse targets this long before sending them)."""
    host, port = service.url.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=30) as sock:
        sock.sendall(f"GET {target} HTTP/1.1\r\nHost: {host}\r\n\r\n".encode())
        received = b""
        while chunk := sock.recv(65536):
            received += chunk
    head, _, body = received.partition(b"\r\n\r\n")
    status_line, *lines = head.decode("latin-1").split("\r\n")
    headers = dict(line.lower().split(": ", 1) for line in lines)
    return int(status_line.split()[1]), headers, body


def test_what_schemathesis_found_on_main(conformance_service: Service) -> None:
    """The mismatches the first run reported, one by one."""
    some_id = "5b0c2f1e-8a4b-4d0e-9a51-2f8f2f7c1a10"
    with conformance_service.client("root") as client:
        schema = client.get("/openapi.json").json()
        # undeclared methods: 405 with every method of the path, not 422 (the literal path
        # matched as an id) or 415 (a hidden route)
        for method, path, allow in [
            ("PATCH", "/api/v1/files/upload", "POST"),
            ("GET", "/api/v1/uploads/multipart", "POST"),
            ("OPTIONS", f"/api/v1/files/{some_id}", "DELETE, GET, PATCH"),
            ("OPTIONS", f"/api/v1/uploads/{some_id}/parts", "GET, POST"),
            ("DELETE", "/api/v1/files/stream", "POST, PUT"),
        ]:
            response = client.request(method, path)
            assert response.status_code == 405, (method, path, response.text)
            assert response.json()["error"] == "method_not_allowed"
            assert response.headers["allow"] == allow
        assert "put" in schema["paths"]["/api/v1/files/stream"]
        # a 422 is ErrorBody, and documented so on every route that answers it
        refused = client.patch(f"/api/v1/files/{some_id}", json={"is_public": 0})
        assert refused.status_code == 422, refused.text
        assert (
            set(refused.json()) == {"error", "detail"} and "is_public" in refused.json()["detail"]
        )
        for operations in schema["paths"].values():
            for operation in operations.values():
                documented = operation["responses"].get("422")
                if documented:
                    assert documented["content"]["application/json"]["schema"] == {
                        "$ref": "#/components/schemas/ErrorBody"
                    }
        assert "HTTPValidationError" not in schema["components"]["schemas"]
        direct = {"original_filename": "a.png", "content_type": "image/png", "is_public": 1}
        assert client.post("/api/v1/uploads", json=direct).status_code == 422
        form = {"is_public": "0"}
        upload = client.post("/api/v1/files/upload", files={"file": ("a.txt", b"hi")}, data=form)
        assert upload.status_code == 400 and upload.json()["error"] == "invalid_field"
        # each error status has its own example
        examples = {
            status: entry["content"]["application/json"]["example"]["error"]
            for status, entry in schema["paths"]["/api/v1/uploads/{upload_id}/complete"]["post"][
                "responses"
            ].items()
            if status.startswith("4")
        }
        assert examples["404"] == "not_found" and examples["409"] == "upload_closed"
        assert len(set(examples.values())) == len(examples), examples
        # a request target too long for the HTTP parser: JSON, documented, not text/plain
        # (or, when it arrives in pieces, a head over the server's bound: 431)
        status, headers, body = raw_get(conformance_service, "/api/v1/files?search=" + "x" * 70_000)
        refusal = {414: "uri_too_long", 431: "headers_too_large"}
        assert status in refusal, (status, body)
        assert headers["content-type"] == "application/json"
        assert json.loads(body)["error"] == refusal[status]
        assert {"414", "431"} <= set(schema["paths"]["/api/v1/files"]["get"]["responses"])
    # the raw-body upload's example name is allowed under the default settings
    parameters = schema["paths"]["/api/v1/files/stream"]["post"]["parameters"]
    filename = next(p for p in parameters if p["name"] == "filename")
    allowed = DEFAULT_ALLOWED_EXTENSIONS
    assert all(name.rsplit(".", 1)[1] in allowed for name in filename["schema"]["examples"])
