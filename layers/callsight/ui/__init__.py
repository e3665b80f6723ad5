"""The web dashboard: a single page served by the API under ``/ui`` from this package's ``static/``.

The page and its assets hold no data: they are public, like ``/health``. Every data request the page
makes goes to the API's own authorised routes with the user's bearer token (kept in the browser's
``sessionStorage`` only), so each role sees exactly what the API gives it. Chart.js is vendored as one
file (``chart.umd.min.js``, MIT, licence beside it): the dashboard works offline, with no CDN.

The page is served at ``/ui`` (no trailing slash: Chalice and API Gateway cannot route one) and refers
to its assets and to the API with relative URLs, so it works under an API Gateway stage prefix too.
"""

from __future__ import annotations

from functools import cache
from importlib import resources

#: The app's routes that serve the UI: public, static, and not API operations, so they are not in
#: the OpenAPI document (the test that compares the document with the app exempts exactly these).
UI_ROUTES = frozenset({"/ui", "/ui/{asset}"})

_TYPES = {
    ".html": "text/html; charset=utf-8",
    ".js": "text/javascript; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".md": "text/plain; charset=utf-8",
}


def security_headers(media_origin: str | None, **extra: str) -> dict[str, str | list[str]]:
    """Headers of every UI response (plus ``extra``, e.g. ``Content_Type``): a self-only
    Content-Security-Policy (audio may also come from the presigned-URL origin of the recordings: the
    emulator locally, S3 in AWS), no framing, no sniffing."""
    media = media_origin or "https://*.amazonaws.com"
    headers: dict[str, str | list[str]] = {key.replace("_", "-"): value for key, value in extra.items()}
    return headers | {
        "Content-Security-Policy": (
            "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
            f"connect-src 'self'; media-src 'self' {media}; base-uri 'none'; form-action 'none'; "
            "frame-ancestors 'none'"
        ),
        "X-Content-Type-Options": "nosniff",
        "Referrer-Policy": "no-referrer",
        "X-Frame-Options": "DENY",
        "Cache-Control": "no-cache",
    }


@cache
def _assets() -> dict[str, bytes]:
    folder = resources.files(__package__) / "static"
    return {
        entry.name: entry.read_bytes()
        for entry in folder.iterdir()
        if entry.is_file() and any(entry.name.endswith(suffix) for suffix in _TYPES)
    }


def asset(name: str) -> tuple[bytes, str] | None:
    """The bytes and content type of a static file by its plain name (no folders: only the names the
    package ships answer, so no path can reach outside ``static/``), or ``None``."""
    body = _assets().get(name)
    if body is None:
        return None
    suffix = name[name.rfind(".") :]
    return body, _TYPES[suffix]
