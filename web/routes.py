"""The one route table."""

import mimetypes
from pathlib import Path

from aiohttp import web

from web import api, exams, health, learning, media, pages, payments, sandbox, shop, ws

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
            web.get("/api/v1/chapters/{chapter_id}/timeline", api.chapter_timeline),
            web.get("/api/v1/cart", api.cart),
            web.post("/api/v1/cart/items", api.add_to_cart),
            web.delete("/api/v1/cart/items/{course_id}", api.remove_from_cart),
            web.post("/api/v1/orders", api.checkout),
            web.get("/api/v1/orders", api.list_orders),
            web.get("/api/v1/orders/{order_id}", api.get_order),
            web.delete("/api/v1/orders/{order_id}", api.delete_order),
            web.post("/api/v1/orders/{order_id}/pay", api.pay_order),
            web.post("/api/v1/payments/{provider}/notify", api.payment_notify),
            web.get("/api/v1/account", api.account),
            web.post("/api/v1/account/recharge", api.recharge),
            web.get("/api/v1/exams", api.exams),
            web.post("/api/v1/exams/{exam_id}/attempts", api.start_attempt),
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
            web.get("/account", pages.account_page),
            web.post("/account/recharge", pages.recharge),
            web.get("/plans", learning.plans_page),
            web.get("/plans/{plan_id}", learning.plan_page),
            web.post("/plans/{plan_id}/activate", learning.activate_plan),
            web.get("/courses/{course_id}", learning.course_page),
            web.get("/courses/{course_id}/chapters/{chapter_id}", learning.chapter_page),
            web.get("/courses/{course_id}/preview", learning.preview_page),
            web.get("/media/chapters/{chapter_id}", media.chapter_media),
            web.get("/exams", exams.exams_page),
            web.post("/exams/{exam_id}/attempts", exams.start),
            web.get("/exams/attempts/{attempt_id}", exams.paper_page),
            web.get("/exams/attempts/{attempt_id}/result", exams.result_page),
            web.get("/cart", shop.cart_page),
            web.post("/cart/items", shop.add_to_cart),
            web.post("/cart/items/delete", shop.remove_from_cart),
            web.post("/cart/checkout", shop.checkout),
            web.get("/orders", shop.orders_page),
            web.get("/orders/{order_id}", shop.order_page),
            web.post("/orders/{order_id}/delete", shop.delete_order),
            web.get("/orders/{order_id}/pay", payments.pay_page),
            web.post("/orders/{order_id}/pay", payments.pay),
            web.get("/orders/{order_id}/paid", payments.paid_page),
            web.get("/payments/return", payments.payment_return),
            web.get("/sandbox/gateway", sandbox.gateway_page),
            web.post("/sandbox/gateway", sandbox.confirm),
            web.static("/static", STATIC_DIR),
        ]
    )
