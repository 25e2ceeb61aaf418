"""The portal: the engine application plus middlewares, templates and routes."""

from collections.abc import Callable

import aiohttp_jinja2
import jinja2
from aiohttp import web

from engine.app import create_app
from engine.clock import system_clock
from engine.settings import Settings
from web.middleware import MIDDLEWARES
from web.render import FILTERS
from web.routes import setup_routes


def create_portal(
    settings: Settings, *, clock: Callable[[], int] = system_clock
) -> web.Application:
    app = create_app(settings, clock=clock)
    app.middlewares.extend(MIDDLEWARES)
    aiohttp_jinja2.setup(
        app,
        loader=jinja2.PackageLoader("web", "templates"),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        filters=FILTERS,
    )
    setup_routes(app)
    return app
