"""``/healthz`` (the process answers), ``/readyz`` (database and store answer), ``/metrics``."""

from __future__ import annotations

from fastapi import APIRouter, Response
from fastapi.responses import JSONResponse
from sqlalchemy import text

from s3files._errors import S3FilesError
from s3files.server.deps import StateDep

__all__ = ["router"]

router = APIRouter(tags=["health"])


@router.get("/healthz", summary="Liveness")
async def healthz() -> dict[str, str]:
    return {"status": "ok"}


@router.get(
    "/readyz",
    summary="Readiness: database and store reachable",
    responses={
        200: {
            "content": {
                "application/json": {
                    "example": {"status": "ok", "checks": {"database": "ok", "store": "ok"}}
                }
            }
        },
        503: {
            "description": "A dependency is down (the checks say which)",
            "content": {
                "application/json": {
                    "example": {
                        "status": "unavailable",
                        "checks": {"database": "ok", "store": "error: store_unavailable"},
                    }
                }
            },
        },
    },
)
async def readyz(state: StateDep) -> JSONResponse:
    checks: dict[str, str] = {}
    try:
        async with state.engine.connect() as connection:
            await connection.execute(text("SELECT 1"))
        checks["database"] = "ok"
    except Exception as exc:
        checks["database"] = f"error: {type(exc).__name__}"
    try:
        await state.files.list(page_size=1)
        checks["store"] = "ok"
    except S3FilesError as exc:
        checks["store"] = f"error: {exc.code}"
    ready = all(value == "ok" for value in checks.values())
    return JSONResponse(
        {"status": "ok" if ready else "unavailable", "checks": checks},
        status_code=200 if ready else 503,
    )


@router.get("/metrics", summary="Prometheus metrics", response_class=Response)
async def metrics(state: StateDep) -> Response:
    return Response(state.metrics.render(), media_type="text/plain; version=0.0.4")
