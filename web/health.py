"""Operational endpoints: /healthz and /metrics."""

from aiohttp import web

from engine.app import check_health
from engine.appkeys import METRICS, NODE_ID, SETTINGS
from engine.metrics import CONTENT_TYPE
from web.render import json_response
from web.requests import address_within, client_address


async def healthz(request: web.Request) -> web.Response:
    """200 when PostgreSQL and Redis answer and no background loop has been failing for
    longer than its threshold (one failing for less is reported as degraded); else 503
    naming what fails. `node` names the process that answered (behind a proxy, of many)."""
    health = await check_health(request.app)
    status = "unavailable" if health.failing else ("degraded" if health.degraded else "ok")
    body = {
        "status": status,
        "node": request.app[NODE_ID],
        "checks": health.checks,
        "failing": health.failing,
        "degraded": health.degraded,
    }
    return json_response(body, status=503 if health.failing else 200)


async def metrics(request: web.Request) -> web.Response:
    """The Prometheus text, for the addresses JIXU_METRICS_ALLOWED names; a 404 for others."""
    if not address_within(client_address(request), request.app[SETTINGS].metrics_allowed):
        raise web.HTTPNotFound()
    response = web.Response(body=request.app[METRICS].render())
    response.headers["Content-Type"] = CONTENT_TYPE
    return response
