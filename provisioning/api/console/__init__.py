"""The operator console: pages served by the API's own process under
``/console/``, with every asset shipped in this package (nothing is fetched
from elsewhere, so it works offline).

The pages are shells without data. A browser can't send the API key with a
page request, and a key in a URL or a cookie would outlive the session; so
each page's script takes the key from the tab's ``sessionStorage`` (set by
the sign-in form, cleared by signing out or closing the tab) and asks the
API's own routes for everything it shows, with the key in ``x-api-key``,
like any other client. Signed out, a page shows nothing and sends the
browser to the sign-in form.
"""

from __future__ import annotations

from pathlib import Path

from fastapi import APIRouter, FastAPI
from fastapi.responses import HTMLResponse
from fastapi.staticfiles import StaticFiles
from jinja2 import Environment, FileSystemLoader, select_autoescape
from starlette.responses import Response
from starlette.types import Scope

HERE = Path(__file__).parent
# Page -> its title. Each page is its template and its script of that name.
PAGES = {
    "jobs": "Jobs",
    "job": "Job",
    "certificates": "Certificates",
    "new": "New job",
    "sign-in": "Sign in",
}
# Only this origin's own scripts, styles and API: a page can't be framed,
# run injected script, or send the key anywhere else.
HEADERS = {
    "Content-Security-Policy": (
        "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
        "connect-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'"
    ),
    "Referrer-Policy": "no-referrer",
    "X-Content-Type-Options": "nosniff",
    "Cache-Control": "no-cache",
}


class Assets(StaticFiles):
    """Revalidated on every use (a 304 when unchanged), so a browser never
    runs one release's script against another's pages."""

    async def get_response(self, path: str, scope: Scope) -> Response:
        response = await super().get_response(path, scope)
        response.headers.update(HEADERS)
        return response


def shells() -> dict[str, str]:
    """Rendered once: a page's markup is the same for every caller."""
    templates = Environment(
        loader=FileSystemLoader(HERE / "templates"), autoescape=select_autoescape()
    )
    return {
        page: templates.get_template(f"{page}.html").render(page=page, title=title)
        for page, title in PAGES.items()
    }


def attach(app: FastAPI) -> None:
    pages = shells()
    router = APIRouter(prefix="/console", include_in_schema=False)

    def shown(page: str) -> HTMLResponse:
        return HTMLResponse(pages[page], headers=HEADERS)

    @router.get("/")
    async def jobs() -> HTMLResponse:
        return shown("jobs")

    @router.get("/jobs/{job_id}")
    async def job(job_id: str) -> HTMLResponse:
        return shown("job")

    @router.get("/certificates")
    async def certificates() -> HTMLResponse:
        return shown("certificates")

    @router.get("/new")
    async def new() -> HTMLResponse:
        return shown("new")

    @router.get("/sign-in")
    async def sign_in() -> HTMLResponse:
        return shown("sign-in")

    app.include_router(router)
    app.mount("/console/static", Assets(directory=HERE / "static"), name="console-static")
