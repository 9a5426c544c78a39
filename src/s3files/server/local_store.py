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
from s3files.server.files.multipart import StreamingForm
from s3files.server.files.schemas import DOWNLOAD_RESPONSES
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
    responses={
        200: DOWNLOAD_RESPONSES[200],
        206: DOWNLOAD_RESPONSES[206],
        **error_responses(400, 403, 404, 416),
    },
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


@router.post(
    "/store-upload",
    status_code=204,
    responses=error_responses(400, 403, 404, 413, 415),
    summary="Form upload through a signed local-store policy",
)
async def signed_form_upload(request: Request, state: StateDep) -> Response:
    """The local store's answer to S3's presigned POST: the fields ``key``, ``Content-Type``,
    ``policy`` and ``x-s3files-signature`` must come before the ``file``."""
    store = _local(state)
    assert store.signer is not None
    form = StreamingForm(request.headers.get("content-type"), request.stream())
    await form.start()
    fields = form.fields
    policy = store.signer.verify_policy(
        fields.get("policy", ""), fields.get("x-s3files-signature", "")
    )
    if fields.get("key") != policy["key"]:
        raise ApiError(403, "policy_violation", "the key does not match the policy")
    if fields.get("Content-Type") != policy["content_type"]:
        raise ApiError(403, "policy_violation", "the content type does not match the policy")
    # what the S3 server does with a POST form: the bytes, at most the policy's limit, and
    # the ETag in the answer (Uppy's S3 plugin reads it)
    etag = await state.files.receive_upload(
        policy["key"],
        form.file_chunks(),
        content_type=policy["content_type"],
        max_size=int(policy["max_size"]),
        allow_empty=False,
    )
    return Response(status_code=204, headers={"ETag": f'"{etag}"'} if etag else None)


MAX_PART_BYTES = 5 * 1024**3


@router.put(
    "/store/{key:path}",
    responses=error_responses(400, 403, 404, 413),
    summary="Upload through a signed local-store URL (a part, or a whole object)",
)
async def signed_put(key: str, request: Request, state: StateDep) -> Response:
    store = _local(state)
    assert store.signer is not None
    params = store.signer.verify("PUT", key, dict(request.query_params))
    etag: str | None
    if "uploadId" in params:
        etag = await state.files.receive_part(
            key,
            params["uploadId"],
            int(params.get("partNumber", "0")),
            request.stream(),
            max_size=MAX_PART_BYTES,
        )
    else:
        claimed = params.get("content-type")
        if claimed is not None and request.headers.get("content-type") != claimed:
            raise ApiError(403, "invalid_signature", "Content-Type differs from the signed one")
        etag = await state.files.receive_upload(
            key, request.stream(), content_type=claimed or "application/octet-stream"
        )
    return Response(status_code=200, headers={"ETag": f'"{etag}"'})
