"""The one route table."""

import mimetypes
from pathlib import Path

from aiohttp import web

from web import api, health, pages, ws

STATIC_DIR = Path(__file__).resolve().parent.parent / "static"
mimetypes.add_type("application/manifest+json", ".webmanifest")


def setup_routes(app: web.Application) -> None:
    app.router.add_routes(
        [
            web.get("/healthz", health.healthz),
            web.get("/metrics", health.metrics),
            web.get("/ws", ws.websocket),
            web.post("/api/v1/auth/register", api.register),
            web.post("/api/v1/auth/login", api.login),
            web.post("/api/v1/auth/logout", api.logout),
            web.get("/api/v1/me", api.me),
            web.patch("/api/v1/me", api.update_me),
            web.post("/api/v1/me/password", api.change_password),
            web.get("/api/v1/orgs", api.orgs),
            web.get("/api/v1/options", api.options),
            web.get("/api/v1/plans", api.plans),
            web.post("/api/v1/plans/{plan_id}/activate", api.activate_plan),
            web.get("/api/v1/plans/{plan_id}/courses", api.plan_courses),
            web.get("/api/v1/courses/{course_id}", api.course),
            web.get("/", pages.index),
            web.get("/login", pages.login_page),
            web.post("/login", pages.login),
            web.post("/logout", pages.logout),
            web.get("/register", pages.register_page),
            web.post("/register", pages.register),
            web.get("/register/done", pages.register_done),
            web.get("/app", pages.app_page),
            web.get("/settings/profile", pages.profile_page),
            web.post("/settings/profile", pages.update_profile),
            web.get("/settings/password", pages.password_page),
            web.post("/settings/password", pages.change_password),
            web.static("/static", STATIC_DIR),
        ]
    )
