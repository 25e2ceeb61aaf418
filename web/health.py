"""Operational endpoints: /healthz and /metrics."""

from aiohttp import web

from engine.app import check_health
from engine.appkeys import METRICS
from engine.metrics import CONTENT_TYPE
from web.render import json_response


async def healthz(request: web.Request) -> web.Response:
    """200 when PostgreSQL and Redis answer; 503 naming the one that does not."""
    checks = await check_health(request.app)
    failing = sorted(name for name, state in checks.items() if state != "ok")
    body = {"status": "ok" if not failing else "unavailable", "checks": checks, "failing": failing}
    return json_response(body, status=503 if failing else 200)


async def metrics(request: web.Request) -> web.Response:
    response = web.Response(body=request.app[METRICS].render())
    response.headers["Content-Type"] = CONTENT_TYPE
    return response
