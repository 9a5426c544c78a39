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

from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from schemathesis.engine import events
from schemathesis.engine import from_schema as engine_for

from tests.server.conftest import Service, make_service

MAX_EXAMPLES = 12
SEED = 20261201

# Business rules no JSON schema can state (the sniffed content type, an upload's state,
# a cursor the service must have issued): their refusals are documented 4xx with stable
# codes, so schema-valid data meeting them is not a mismatch.
RULE_REFUSALS = ["400", "413", "415", "416"]


@dataclass
class Findings:
    """What one schemathesis run saw."""

    requests: int = 0
    statuses: Counter[int] = field(default_factory=Counter)
    failures: list[str] = field(default_factory=list)
    failure_count: int = 0
    errors: list[str] = field(default_factory=list)


def _config(service: Service) -> schemathesis.Config:
    return schemathesis.Config.from_dict(
        {
            "seed": SEED,
            "workers": 2,
            "headers": {"Authorization": f"Bearer {service.keys['root']}"},
            "request-timeout": 30,
            "generation": {"max-examples": MAX_EXAMPLES, "deterministic": True},
            "checks": {
                "enabled": True,
                "positive_data_acceptance": {
                    "expected-statuses": ["2xx", "3xx", "401", "403", "404", "409", "429"]
                    + RULE_REFUSALS,
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
                        "415",
                        "422",
                        "429",
                    ],
                },
            },
        }
    )


def interaction_status(recorder: Any, case_id: str) -> int | None:
    interaction = recorder.interactions.get(case_id)
    if interaction is None or interaction.response is None:
        return None
    return int(interaction.response.status_code)


def run_schemathesis(service: Service) -> Findings:
    """Every phase and every check against ``service``; the failures in words."""
    config = _config(service)
    schema = schemathesis.openapi.from_url(f"{service.url}/openapi.json", config=config)
    findings = Findings()
    seen: set[str] = set()
    for event in engine_for(schema).execute():
        if isinstance(event, events.ScenarioFinished | events.FuzzScenarioFinished):
            recorder = event.recorder
            for interaction in recorder.interactions.values():
                findings.requests += 1
                if interaction.response is not None:
                    findings.statuses[interaction.response.status_code] += 1
            for case_id, checks in recorder.checks.items():
                for check in checks:
                    if check.failure_info is None:
                        continue
                    case = recorder.cases[case_id].value
                    failure = check.failure_info.failure
                    where = f"{case.method} {case.path}: {failure.title}"
                    findings.failure_count += 1
                    if where not in seen:
                        seen.add(where)
                        status = interaction_status(recorder, case_id)
                        message = failure.message.strip().splitlines()[:1]
                        findings.failures.append(f"{where} [{status}] {' '.join(message)[:300]}")
        elif isinstance(event, events.NonFatalError | events.FatalError):
            findings.errors.append(str(getattr(event, "info", event)))
    return findings


@pytest.fixture(params=[("local", "sqlite"), ("s3", "postgres")], ids=lambda p: f"{p[0]}-{p[1]}")
def conformance_service(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Service]:
    store, database = request.param
    yield from make_service(tmp_path, request, store, database)


def test_schemathesis_finds_no_mismatch(conformance_service: Service) -> None:
    findings = run_schemathesis(conformance_service)
    report = "\n".join(findings.failures + findings.errors)
    print(f"failures: {findings.failure_count}; requests: {findings.requests}; statuses: {dict(sorted(findings.statuses.items()))}")
    print(report)
    assert findings.requests >= 500, findings.requests
    assert not findings.statuses.keys() & range(500, 600), findings.statuses
    assert findings.errors == []
    assert findings.failures == []
