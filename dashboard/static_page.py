"""The web page's files, mounted at / after every API route.

A mount at / matches every path, so a plain Mount would answer a wrong method on an API path (OPTIONS on a
POST-only route) itself: 405 with `Allow: GET, HEAD`, the methods of the files; and DELETE on a path nothing
serves would be a 405 rather than a 404. PageMount takes only GET and HEAD: another method goes to the API
route of that path, whose 405 lists its methods, or is a 404. Likewise a GET on a path that only API routes of
other methods serve (POST /api/v1/ingest) is left to them: a 405, not a missing file's 404.
"""

from __future__ import annotations

from starlette.routing import Match, Mount
from starlette.types import Scope


class PageMount(Mount):
    def matches(self, scope: Scope) -> tuple[Match, Scope]:
        match, child_scope = super().matches(scope)
        if match is Match.FULL and (scope.get("method") not in ("GET", "HEAD") or _served_by_api(scope)):
            return Match.NONE, {}
        return match, child_scope


def _served_by_api(scope: Scope) -> bool:
    """Whether an API route serves this path with some other method (Starlette then answers 405)."""
    app = scope.get("app")
    routes = app.router.routes if app is not None else []
    return any(not isinstance(route, Mount) and route.matches(scope)[0] is Match.PARTIAL for route in routes)
