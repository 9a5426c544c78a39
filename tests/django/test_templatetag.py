"""``{% direct_upload_form %}`` renders brief 003's form, and RGW accepts what it renders."""

from __future__ import annotations

from html.parser import HTMLParser
from typing import Any

import httpx
import pytest
from django.template import Context, Template

from s3files.contrib.django.models import Upload
from s3files.contrib.django.shortcuts import complete_upload, get_direct_upload_form_data
from tests import samples


class FormParser(HTMLParser):
    """The form's attributes and its inputs, in order."""

    def __init__(self) -> None:
        super().__init__()
        self.form: dict[str, str | None] = {}
        self.inputs: list[dict[str, str | None]] = []
        self.buttons = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "form":
            self.form = dict(attrs)
        elif tag == "input":
            self.inputs.append(dict(attrs))
        elif tag == "button":
            self.buttons += 1


def render(source: str, **context: Any) -> str:
    return Template("{% load s3files %}" + source).render(Context(context))


def parse(html: str) -> FormParser:
    parser = FormParser()
    parser.feed(html)
    return parser


def test_renders_brief_003s_form() -> None:
    data = {
        "success": True,
        "upload_id": "u-1",
        "form_url": "http://store.test/bucket",
        "form_fields": {"key": "a/b.png", "Content-Type": "image/png", "policy": 'x"<y>'},
    }
    html = render("{% direct_upload_form data %}", data=data)
    form = parse(html)
    assert form.form["action"] == "http://store.test/bucket"
    assert form.form["method"] == "post" and form.form["enctype"] == "multipart/form-data"
    assert form.form["data-upload-id"] == "u-1"
    hidden = [(i["name"], i["value"]) for i in form.inputs if i["type"] == "hidden"]
    assert hidden == [("key", "a/b.png"), ("Content-Type", "image/png"), ("policy", 'x"<y>')]
    assert form.inputs[-1]["type"] == "file" and form.inputs[-1]["name"] == "file"  # last
    assert form.buttons == 1 and ">Upload</button>" in html
    assert "<y>" not in html  # escaped
    assert "csrfmiddlewaretoken" not in html  # the store would refuse an unsigned field


def test_options_and_errors() -> None:
    data = {"success": True, "form_url": "u", "form_fields": {}}
    html = render('{% direct_upload_form data button_label="Send" accept="image/*" %}', data=data)
    assert ">Send</button>" in html and 'accept="image/*"' in html
    failed = render("{% direct_upload_form data %}", data={"success": False, "error": "no <b>"})
    assert "<form" not in failed and "no &lt;b&gt;" in failed
    assert "not available" in render("{% direct_upload_form missing %}")


@pytest.mark.django_db
def test_the_rendered_form_uploads_to_rgw(prefix: str) -> None:
    result = get_direct_upload_form_data("photo.png", "image/png", 1024 * 1024, prefix)
    form = parse(render("{% direct_upload_form result %}", result=result))
    fields = {str(i["name"]): str(i["value"]) for i in form.inputs if i["type"] == "hidden"}
    response = httpx.post(
        str(form.form["action"]),
        data=fields,
        files={"file": ("photo.png", samples.png(), "image/png")},
    )
    assert response.status_code == 204, response.text
    assert complete_upload(result["upload_id"])["status"] == Upload.STATUS_COMPLETE
