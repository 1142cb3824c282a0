"""The channel manager's dashboard: one server-rendered page, its script and Chart.js.

The page is a shell (no data, so it needs no token); its script reads the JSON API with
the bearer token the user enters once (kept in sessionStorage) and polls it every few
seconds. Chart.js is vendored as its UMD build: no build step, no network at run time.
"""

from __future__ import annotations

import html
from importlib import resources
from importlib.resources.abc import Traversable
from string import Template

from aiohttp import web

STATIC = resources.files("streams.api") / "static"
#: assets served under /static/, with their content types (nothing else is served)
ASSETS = {
    "chart.umd.min.js": "text/javascript",
    "chart.js.LICENSE.md": "text/plain",
    "dashboard.js": "text/javascript",
    "dashboard.css": "text/css",
}
#: every poll of the JSON API starts this many milliseconds after the previous one ended
REFRESH_MS = 3000
#: what the page may load and run: its own scripts, styles and API only (no inline script,
#: so text a distributor sent that ever reached the page as markup would not run), and it is
#: framed by no other site (clickjacking)
CONTENT_SECURITY_POLICY = "; ".join(
    (
        "default-src 'none'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data:",
        "connect-src 'self'",
        "form-action 'self'",
        "base-uri 'none'",
        "frame-ancestors 'none'",
    )
)


def packaged_file(resource: Traversable, content_type: str) -> web.Response:
    """A file shipped with the package (an asset, a schema), cacheable for five minutes."""
    return web.Response(
        body=resource.read_bytes(),
        content_type=content_type,
        charset="utf-8",
        headers={"Cache-Control": "max-age=300"},
    )


def render_page(mode: str) -> str:
    template = Template((STATIC / "dashboard.html").read_text(encoding="utf-8"))
    return template.substitute(mode=html.escape(mode), refresh_ms=REFRESH_MS)


def add_dashboard_routes(app: web.Application, mode: str) -> None:
    page = render_page(mode)

    async def dashboard(_: web.Request) -> web.Response:
        return web.Response(
            text=page,
            content_type="text/html",
            headers={"Content-Security-Policy": CONTENT_SECURITY_POLICY},
        )

    async def to_dashboard(_: web.Request) -> web.Response:
        raise web.HTTPFound("/dashboard")

    async def asset(request: web.Request) -> web.Response:
        name = request.match_info["name"]
        if name not in ASSETS:
            raise web.HTTPNotFound(text=f"no asset {name!r}")
        return packaged_file(STATIC / name, ASSETS[name])

    app.router.add_get("/", to_dashboard)
    app.router.add_get("/dashboard", dashboard)
    app.router.add_get("/static/{name}", asset)
