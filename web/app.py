"""The portal: the engine application plus middlewares, templates and routes."""

import aiohttp_jinja2
import jinja2
from aiohttp import web

from engine.app import create_app
from engine.settings import Settings
from web.middleware import MIDDLEWARES
from web.routes import setup_routes


def create_portal(settings: Settings) -> web.Application:
    app = create_app(settings)
    app.middlewares.extend(MIDDLEWARES)
    aiohttp_jinja2.setup(
        app,
        loader=jinja2.PackageLoader("web", "templates"),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
    )
    setup_routes(app)
    return app
