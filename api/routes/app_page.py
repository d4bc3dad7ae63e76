"""`/app/`: the caseload page for practitioners (issue 17).

Three things are served here, none of them in the OpenAPI description (the page is a
client of the API, not part of it):
- `/app/` the page, and `/app/assets/{name}` its scripts and style sheet: static files
  from api/app_page/, public (they hold no case data; the data comes from the REST API
  with the person's bearer token), with a strict Content-Security-Policy;
- `/app/session`: who the bearer token is and which of the page's actions its roles
  allow (api/caseload.py), so the page shows only the buttons the server would honour.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from fastapi import APIRouter
from fastapi.responses import FileResponse, RedirectResponse

from api.auth import PrincipalDep
from api.caseload import CONTENT_SECURITY_POLICY, page_session
from api.errors import NotFound

APP_PATH = "/app"
PAGE_DIR = Path(__file__).resolve().parents[1] / "app_page"
JAVASCRIPT = "text/javascript; charset=utf-8"
ASSETS = {"app.js": JAVASCRIPT, "page.js": JAVASCRIPT, "case.js": JAVASCRIPT,
          "app.css": "text/css; charset=utf-8", "icon.svg": "image/svg+xml"}
"""The page's only files besides index.html (its script is three ES modules): nothing
else in the folder is served."""

PAGE_HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    # The page is small and changes with the service: always the version it serves.
    "Cache-Control": "no-cache",
}

router = APIRouter(prefix=APP_PATH, include_in_schema=False)


@router.get("")
async def app_root() -> RedirectResponse:
    return RedirectResponse(f"{APP_PATH}/", status_code=308)


@router.get("/")
async def app_page() -> FileResponse:
    return FileResponse(PAGE_DIR / "index.html", media_type="text/html; charset=utf-8",
                        headers=PAGE_HEADERS)


@router.get("/assets/{name}")
async def app_asset(name: str) -> FileResponse:
    media_type = ASSETS.get(name)
    if media_type is None:
        raise NotFound(f"The page has no file '{name}'.")
    return FileResponse(PAGE_DIR / name, media_type=media_type, headers=PAGE_HEADERS)


@router.get("/session")
async def app_session(principal: PrincipalDep) -> dict[str, Any]:
    """Any verified token (401 otherwise): it only tells the caller about itself."""
    return page_session(principal.subject, principal.roles, principal.agency_id)
