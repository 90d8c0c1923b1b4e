"""The API's documentation pages, /docs (Swagger UI) and /redoc (ReDoc), with their scripts, styles and icon
served from dashboard/static/vendor/ (FastAPI's defaults load them from a CDN, which leaves both pages blank on a
machine without internet). Open like /openapi.json, even with API_READ_AUTH=true: they show only the schema."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.openapi.docs import get_redoc_html, get_swagger_ui_html
from fastapi.responses import HTMLResponse

router = APIRouter(include_in_schema=False)
VENDOR = "/vendor"
FAVICON = f"{VENDOR}/swagger-ui/favicon-32x32.png"
# Only this server: the browser refuses what the bundles would fetch from elsewhere (ReDoc's footer logo comes
# from cdn.redoc.ly) instead of trying the network. FastAPI's pages hold an inline script; ReDoc's search runs in
# a worker made from a blob.
CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self' 'unsafe-inline'; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data:; worker-src 'self' blob:"
)


def _self_contained(page: HTMLResponse) -> HTMLResponse:
    page.headers["Content-Security-Policy"] = CONTENT_SECURITY_POLICY
    return page


def _root(request: Request) -> str:
    """The path the application is mounted under, for a server behind a prefix (as FastAPI's own pages do)."""
    return request.scope.get("root_path", "").rstrip("/")


@router.get("/docs")
def swagger_ui(request: Request) -> HTMLResponse:
    root = _root(request)
    page = get_swagger_ui_html(
        openapi_url=root + request.app.openapi_url,
        title=f"{request.app.title} - Swagger UI",
        swagger_js_url=f"{root}{VENDOR}/swagger-ui/swagger-ui-bundle.js",
        swagger_css_url=f"{root}{VENDOR}/swagger-ui/swagger-ui.css",
        swagger_favicon_url=root + FAVICON,
        swagger_ui_parameters={"validatorUrl": None},  # no badge fetched from validator.swagger.io
    )
    return _self_contained(page)


@router.get("/redoc")
def redoc(request: Request) -> HTMLResponse:
    root = _root(request)
    page = get_redoc_html(
        openapi_url=root + request.app.openapi_url,
        title=f"{request.app.title} - ReDoc",
        redoc_js_url=f"{root}{VENDOR}/redoc/redoc.standalone.js",
        redoc_favicon_url=root + FAVICON,
        with_google_fonts=False,
    )
    return _self_contained(page)
