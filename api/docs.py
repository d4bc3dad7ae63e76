"""The interactive documentation, `/docs` (Swagger UI) and `/redoc`, served entirely by
this service (issue 12): without internet access they used to be blank, since FastAPI's
defaults load Swagger UI, ReDoc and a favicon from CDNs.

The assets come from the `fastapi-offline` package (pinned in pyproject.toml), which
ships Swagger UI 5's and ReDoc 2's distribution bundles as package data; this module
mounts them and builds the pages with FastAPI's own documented helpers, pointed at
them. Nothing is fetched from elsewhere at run time or at install: no CDN, no file
copied in from outside a package.
"""

from __future__ import annotations

from importlib.resources import files
from pathlib import Path

from fastapi import FastAPI, Request
from fastapi.openapi.docs import (
    get_redoc_html,
    get_swagger_ui_html,
    get_swagger_ui_oauth2_redirect_html,
)
from fastapi.responses import HTMLResponse
from fastapi.staticfiles import StaticFiles

DOCS_ASSETS_PATH = "/docs/assets"
ASSETS_DIR = Path(str(files("fastapi_offline").joinpath("static")))
"""swagger-ui-bundle.js, swagger-ui.css, redoc.standalone.js, favicon.png."""

SWAGGER_UI_PARAMETERS = {
    # Swagger UI would otherwise ask validator.swagger.io to judge the document.
    "validatorUrl": None,
    # The bearer token typed under Authorize survives a page reload.
    "persistAuthorization": True,
}


def install_docs(app: FastAPI, *, docs_url: str = "/docs", redoc_url: str = "/redoc",
                 oauth2_redirect_url: str = "/docs/oauth2-redirect") -> None:
    """Mount the assets and the three pages (create the app with `docs_url=None,
    redoc_url=None` so FastAPI's CDN-backed ones are not there too)."""
    app.mount(DOCS_ASSETS_PATH, StaticFiles(directory=ASSETS_DIR), name="docs-assets")

    def asset(request: Request, name: str) -> str:
        return f"{request.scope.get('root_path', '')}{DOCS_ASSETS_PATH}/{name}"

    def openapi_url(request: Request) -> str:
        return f"{request.scope.get('root_path', '')}{app.openapi_url}"

    # Plain routes, as FastAPI's own docs routes are: public pages, not API operations
    # (no permission of the table, no place in the document).
    async def swagger_ui(request: Request) -> HTMLResponse:
        return get_swagger_ui_html(
            openapi_url=openapi_url(request), title=f"{app.title} - Swagger UI",
            oauth2_redirect_url=oauth2_redirect_url,
            swagger_js_url=asset(request, "swagger-ui-bundle.js"),
            swagger_css_url=asset(request, "swagger-ui.css"),
            swagger_favicon_url=asset(request, "favicon.png"),
            swagger_ui_parameters=SWAGGER_UI_PARAMETERS)

    async def swagger_ui_redirect(request: Request) -> HTMLResponse:
        return get_swagger_ui_oauth2_redirect_html()

    async def redoc(request: Request) -> HTMLResponse:
        return get_redoc_html(
            openapi_url=openapi_url(request), title=f"{app.title} - ReDoc",
            redoc_js_url=asset(request, "redoc.standalone.js"),
            redoc_favicon_url=asset(request, "favicon.png"),
            with_google_fonts=False)

    app.add_route(docs_url, swagger_ui, include_in_schema=False)
    app.add_route(oauth2_redirect_url, swagger_ui_redirect, include_in_schema=False)
    app.add_route(redoc_url, redoc, include_in_schema=False)
