"""Signed URLs of the local-disk store, served by the service itself (``/store/<key>``).

The token (``signing.LocalURLSigner``) binds method, key, expiry and response headers; a
forged or expired one answers 403 with ``invalid_signature`` / ``expired_signature``.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Header, Request, Response

from s3files.server.deps import StateDep
from s3files.server.errors import ApiError, error_responses
from s3files.server.files.download import stream_object
from s3files.stores.local import LocalStore

__all__ = ["router"]

router = APIRouter(tags=["local store"], include_in_schema=True)


def _local(state: StateDep) -> LocalStore:
    store = state.files.store
    if not isinstance(store, LocalStore) or store.signer is None:
        raise ApiError(404, "not_found", "this service does not serve a local store")
    return store


@router.get(
    "/store/{key:path}",
    responses=error_responses(403, 404, 416),
    summary="Download through a signed local-store URL",
)
async def signed_download(
    key: str,
    request: Request,
    state: StateDep,
    range_header: Annotated[str | None, Header(alias="range")] = None,
) -> Response:
    store = _local(state)
    assert store.signer is not None
    params = store.signer.verify("GET", key, dict(request.query_params))
    info = await state.files.head(key)
    content_type = params.get("response-content-type") or info.content_type
    return await stream_object(
        state,
        key=key,
        size=info.size,
        content_type=content_type or "application/octet-stream",
        etag=info.etag,
        filename=key.rsplit("/", 1)[-1],
        as_attachment=True,
        range_header=range_header,
        if_none_match=None,
        file_id=None,
        public=False,
        disposition=params.get("response-content-disposition"),
    )
