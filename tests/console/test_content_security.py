"""Every page carries a strict Content-Security-Policy, and no page needs it relaxed: no inline
script, no inline style, no event-handler attribute; links are rendered only for http(s) URLs."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from django.test import Client

from console.templatetags.console import web_link
from tests.console.test_pages import PAGES

pytestmark = pytest.mark.django_db

TEMPLATES = Path(__file__).resolve().parents[2] / "console" / "templates"
INLINE_SCRIPT = re.compile(r"<script(?![^>]*\bsrc=)[^>]*>", re.IGNORECASE)
HANDLER = re.compile(r"<[^>]+\son[a-z]+\s*=", re.IGNORECASE)
STYLE = re.compile(r"<style\b|\sstyle\s*=", re.IGNORECASE)


def _directives(response) -> dict[str, str]:
    header = response["Content-Security-Policy"]
    return dict(part.strip().partition(" ")[::2] for part in header.split(";") if part.strip())


def _assert_strict(response) -> None:
    policy = _directives(response)
    assert policy["default-src"] == "'none'"
    assert policy["script-src"] == "'self'"
    assert policy["frame-ancestors"] == "'none'"
    assert "unsafe-inline" not in response["Content-Security-Policy"]


@pytest.mark.parametrize("page", PAGES)
def test_each_console_page_has_a_strict_policy_and_no_inline_code(page, world, client_for):
    target, _ = PAGES[page]
    url = target(world) if callable(target) else target
    response = client_for("officer_1").get(url)
    _assert_strict(response)
    html = response.content.decode()
    assert not INLINE_SCRIPT.search(html)
    assert not HANDLER.search(html)
    assert not STYLE.search(html)


@pytest.mark.parametrize("url", ["/", "/admin/login/", "/api-auth/login/", "/api/docs/", "/no-such-page"])
def test_sign_in_pages_docs_and_errors_have_the_policy_too(db, url):
    response = Client().get(url)
    _assert_strict(response)
    assert not INLINE_SCRIPT.search(response.content.decode())


def test_no_console_template_holds_inline_script_style_or_handlers():
    for template in TEMPLATES.rglob("*.html"):
        text = template.read_text()
        assert not INLINE_SCRIPT.search(text), template
        assert not HANDLER.search(text), template
        assert not STYLE.search(text), template


@pytest.mark.parametrize(
    ("value", "linked"),
    [
        ("https://ci.example.com/runs/1", True),
        ("http://ci.internal/runs/1", True),
        ("javascript:alert(1)", False),
        ("httpjavascript:alert(1)", False),
        ("JaVaScRiPt:alert(1)", False),
        ("s3://bucket/key", False),
        ("//evil.example.com", False),
        ("", False),
        (None, False),
    ],
)
def test_only_http_urls_become_links(value, linked):
    assert web_link(value) is linked


def test_the_version_page_links_the_pipeline_run(world, client_for):
    world.v110.__class__.objects.filter(pk=world.v110.pk).update(pipeline_run_url="https://ci.example.com/runs/9")
    html = client_for("officer_1").get("/models/credit-risk/versions/1.1.0").content.decode()
    assert 'href="https://ci.example.com/runs/9"' in html
