"""Direct browser uploads to the bucket with the s3files shortcuts.

1. ``index``: the page; picking a file asks ``sign`` for a form.
2. ``sign``: ``get_direct_upload_form_data`` records a pending upload and returns a
   signed upload form (``{% direct_upload_form %}``), whose POST goes straight to the bucket.
3. The bucket answers 303 to ``complete`` (the form's ``success_action_redirect``), which
   calls ``complete_upload``: the object is verified before the upload counts.
"""

from uuid import UUID

from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_POST

from s3files.contrib.django.models import Upload
from s3files.contrib.django.shortcuts import (
    complete_upload,
    delete_upload,
    get_direct_upload_form_data,
    get_upload_file_url,
)

PREFIX = "gallery"


@require_GET
def index(request: HttpRequest) -> HttpResponse:
    uploads = Upload.objects.filter(key__startswith=f"{PREFIX}/")[:20]
    return render(request, "gallery/index.html", {"uploads": uploads})


@require_POST
def sign(request: HttpRequest) -> HttpResponse:
    """The upload form for the file the user picked (its name and type; the size limit is
    the app's ``S3FILES_MAX_UPLOAD_SIZE``)."""
    result = get_direct_upload_form_data(
        request.POST.get("filename", ""),
        request.POST.get("content_type", ""),
        None,
        PREFIX,
        success_action_redirect=lambda upload_id: request.build_absolute_uri(
            reverse("gallery:complete", args=[upload_id])
        ),
    )
    status = 200 if result["success"] else 400
    return render(request, "gallery/upload_form.html", {"result": result}, status=status)


@require_GET
def complete(request: HttpRequest, upload_id: UUID) -> HttpResponse:
    """Where the bucket sends the browser after the upload (it adds bucket, key, etag)."""
    result = complete_upload(upload_id, status=Upload.STATUS_COMPLETE)
    link = (
        get_upload_file_url(upload_id, presigned=True, expiration=600)
        if result["success"]
        else None
    )
    context = {"result": result, "link": link}
    return render(request, "gallery/result.html", context, status=200 if link else 422)


@require_GET
def open_file(request: HttpRequest, upload_id: UUID) -> HttpResponseRedirect:
    result = get_upload_file_url(upload_id, presigned=True, expiration=300)
    if not result["success"]:
        raise Http404(result["error"])
    return redirect(result["url"])


@require_POST
def delete(request: HttpRequest, upload_id: UUID) -> HttpResponseRedirect:
    delete_upload(upload_id)
    return redirect("gallery:index")
