"""The studio (studio/, built into studio/dist by `make studio`) and the API docs' own assets.

    /studio            the studio's page: the workspace for analysts, approvers and reviewers
    /studio/assets/... its bundle (dmn-js and the studio's modules) and fonts
    /docs, /redoc      Swagger UI and ReDoc, from files in studio/dist/docs, so they work offline

Everything is served by this process from local files; nothing comes from a CDN. The build keeps
a gzipped copy beside each text asset (studio.js.gz, ...), sent with `Content-Encoding: gzip` to
a client whose Accept-Encoding takes gzip: the bundle crosses the wire at about a third of its
size, and is compressed once, at build time, not on each request. When the bundle
has not been built, /studio (and /docs, /redoc) answer a page saying how to build it, never a
blank page.
"""

from __future__ import annotations

import html
import mimetypes
import os
from pathlib import Path

from fastapi import FastAPI, Request
from fastapi.openapi.docs import get_redoc_html, get_swagger_ui_html
from fastapi.responses import HTMLResponse, PlainTextResponse, RedirectResponse
from fastapi.staticfiles import StaticFiles
from starlette.datastructures import Headers
from starlette.exceptions import HTTPException
from starlette.responses import Response
from starlette.types import Receive, Scope, Send

STUDIO_DIR_ENV = "DECISIONARY_STUDIO_DIR"
DEFAULT_DIST = Path(__file__).resolve().parent.parent / "studio" / "dist"
BUNDLE = "studio.js"

INDEX = """<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Decisionary Studio</title>
<link rel="icon" href="data:,">
<link rel="stylesheet" href="/studio/assets/studio-style.css">
</head>
<body>
<div id="app" aria-live="polite"><p class="loading">Loading the studio&hellip;</p></div>
<noscript>The studio needs JavaScript.</noscript>
<script type="module" src="/studio/assets/studio.js"></script>
</body>
</html>
"""

NOT_BUILT = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>{title}: not built</title></head>
<body style="font-family: sans-serif; max-width: 40em; margin: 3em auto">
<h1>{title} is not built yet</h1>
<p>This service serves its browser pages from <code>{dist}</code>, which does not hold a build.</p>
<p>Build it with <code>make studio</code> (it runs <code>npm ci</code> and <code>npm run build</code> in
<code>studio/</code>; <code>make run</code> does this too), then reload this page.</p>
</body></html>
"""


def studio_dist() -> Path:
    return Path(os.environ.get(STUDIO_DIR_ENV) or DEFAULT_DIST)


def _not_built(title: str, dist: Path) -> HTMLResponse:
    return HTMLResponse(NOT_BUILT.format(title=html.escape(title), dist=html.escape(str(dist))), status_code=503)


def install_studio(app: FastAPI, *, title: str) -> None:
    """The routes above. The build directory is looked at on each request, so a build made
    while the service runs is served without a restart."""
    dist = studio_dist()

    async def studio_page(request: Request) -> HTMLResponse:
        if not (dist / BUNDLE).is_file():
            return _not_built("Decisionary Studio", dist)
        return HTMLResponse(INDEX, headers={"Cache-Control": "no-cache"})

    async def studio_slash(request: Request) -> RedirectResponse:
        return RedirectResponse("/studio")

    async def docs(request: Request) -> HTMLResponse:
        if not (dist / "docs" / "swagger-ui-bundle.js").is_file():
            return _not_built("The API documentation", dist)
        return get_swagger_ui_html(openapi_url="/openapi.json", title=f"{title} - Swagger UI",
                                   swagger_js_url="/studio/assets/docs/swagger-ui-bundle.js",
                                   swagger_css_url="/studio/assets/docs/swagger-ui.css",
                                   swagger_favicon_url="/studio/assets/docs/favicon-32x32.png")

    async def redoc(request: Request) -> HTMLResponse:
        if not (dist / "docs" / "redoc.standalone.js").is_file():
            return _not_built("The API documentation", dist)
        return get_redoc_html(openapi_url="/openapi.json", title=f"{title} - ReDoc",
                              redoc_js_url="/studio/assets/docs/redoc.standalone.js",
                              redoc_favicon_url="/studio/assets/docs/favicon-32x32.png", with_google_fonts=False)

    app.add_route("/studio", studio_page, include_in_schema=False)
    app.add_route("/studio/", studio_slash, include_in_schema=False)
    app.add_route("/docs", docs, include_in_schema=False)
    app.add_route("/redoc", redoc, include_in_schema=False)
    app.mount("/studio/assets", _BuiltFiles(directory=str(dist), check_dir=False), name="studio-assets")


class _BuiltFiles(StaticFiles):
    """Static files from a directory that may not be built yet (404 until it is, not a 500), each
    sent as its gzipped copy (file.gz, made by the build) when there is one and the client takes
    gzip; the type stays the original file's."""

    async def get_response(self, path: str, scope: Scope) -> Response:
        if accepts_gzip(Headers(scope=scope).get("accept-encoding", "")) and not path.endswith(".gz"):
            try:
                response = await super().get_response(f"{path}.gz", scope)
            except HTTPException:
                response = None  # no compressed copy: the file as it is
            if response is not None:
                media_type = mimetypes.guess_type(path)[0] or "application/octet-stream"
                if media_type.startswith("text/") or media_type.endswith("javascript"):
                    media_type += "; charset=utf-8"
                response.headers["content-type"] = media_type
                response.headers["content-encoding"] = "gzip"
                response.headers["vary"] = "Accept-Encoding"
                return response
        response = await super().get_response(path, scope)
        response.headers["vary"] = "Accept-Encoding"  # a cache must not hand this to a gzip client
        return response

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if not Path(str(self.directory)).is_dir():
            await PlainTextResponse("the studio is not built: run `make studio`", status_code=404)(scope, receive, send)
            return
        await super().__call__(scope, receive, send)


def accepts_gzip(accept_encoding: str) -> bool:
    """Whether an Accept-Encoding header takes gzip: named (or `*`) and not with `q=0`."""
    for item in accept_encoding.split(","):
        name, *params = (part.strip().lower() for part in item.split(";"))
        if name not in ("gzip", "*"):
            continue
        weights = [p.removeprefix("q=") for p in params if p.startswith("q=")]
        try:
            if not weights or float(weights[0]) > 0:
                return True
        except ValueError:
            continue  # a weight that is not a number: as if gzip were not named
    return False
