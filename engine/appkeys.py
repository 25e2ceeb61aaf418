"""The typed keys of the application's resources, in one place."""

import asyncpg
from aiohttp import web

from engine.accounts.logins import LoginSessions
from engine.accounts.throttle import LoginThrottle, PasswordThrottle, RegistrationThrottle
from engine.clock import Clock
from engine.commerce.gateway import Gateway
from engine.commerce.sandbox import Sandbox
from engine.commerce.throttle import CardThrottle
from engine.exams.service import Exams
from engine.exams.sweeper import Sweeper
from engine.kv import Batcher, Redis
from engine.live.service import Publisher
from engine.loops import Loops
from engine.messages.letters import LetterThrottle
from engine.metrics import Metrics
from engine.progress.flusher import Flusher
from engine.progress.service import Progress
from engine.rooms.service import Rooms
from engine.sessions.caps import SocketCaps
from engine.sessions.commands import Commands
from engine.sessions.hub import Hub
from engine.sessions.live_feed import LiveFeed
from engine.sessions.notice_feed import NoticeFeed
from engine.settings import Settings

SETTINGS = web.AppKey("settings", Settings)
NODE_ID = web.AppKey("node_id", str)
# Tests inject their own clock.
CLOCK: web.AppKey[Clock] = web.AppKey("clock")
METRICS = web.AppKey("metrics", Metrics)
DB = web.AppKey("db", asyncpg.Pool)
REDIS: web.AppKey[Redis] = web.AppKey("redis")
BATCHER = web.AppKey("batcher", Batcher)
LOGIN_SESSIONS = web.AppKey("login_sessions", LoginSessions)
LOGIN_THROTTLE = web.AppKey("login_throttle", LoginThrottle)
REGISTRATION_THROTTLE = web.AppKey("registration_throttle", RegistrationThrottle)
PASSWORD_THROTTLE = web.AppKey("password_throttle", PasswordThrottle)
CARD_THROTTLE = web.AppKey("card_throttle", CardThrottle)
LETTER_THROTTLE = web.AppKey("letter_throttle", LetterThrottle)
PROGRESS = web.AppKey("progress", Progress)
FLUSHER = web.AppKey("flusher", Flusher)
HUB = web.AppKey("hub", Hub)
SOCKET_CAPS = web.AppKey("socket_caps", SocketCaps)
COMMANDS = web.AppKey("commands", Commands)
NOTICE_FEED = web.AppKey("notice_feed", NoticeFeed)
EXAMS = web.AppKey("exams", Exams)
ROOMS = web.AppKey("rooms", Rooms)
EXAM_SWEEPER = web.AppKey("exam_sweeper", Sweeper)
LOOPS = web.AppKey("loops", Loops)
LIVE_FEED = web.AppKey("live_feed", LiveFeed)
LIVE_PUBLISHER = web.AppKey("live_publisher", Publisher)
# The payment gateway (None: online payment off) and the built-in sandbox gateway, if on.
GATEWAY: web.AppKey[Gateway | None] = web.AppKey("gateway")
SANDBOX: web.AppKey[Sandbox | None] = web.AppKey("sandbox")
