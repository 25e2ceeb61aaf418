"""Settings: one Struct, read once from the environment."""

import ipaddress
import os
from collections.abc import Mapping
from typing import Annotated, Literal

import msgspec

Environment = Literal["development", "test", "production"]
DEFAULT_ATTENTION_INTERVAL_S = 900
Positive = Annotated[int, msgspec.Meta(gt=0)]


class SettingsError(Exception):
    """An environment variable holds a value the engine cannot use."""


class Settings(msgspec.Struct, frozen=True, kw_only=True):
    # Production unless told otherwise: whatever starts the portal without saying gets no
    # sandbox payments and no Host-derived gateway URLs; `jixu run` and the tests say so.
    env: Environment = "production"
    host: str = "127.0.0.1"
    port: Annotated[int, msgspec.Meta(ge=1, le=65535)] = 8080
    database_url: str | None = None
    redis_url: str | None = None
    data_dir: str = ".data"
    site_name: str = "专业技术人员继续教育网"
    secure_cookies: bool = False
    allowed_origins: tuple[str, ...] = ()
    log_format: Literal["auto", "console", "json"] = "auto"
    log_level: Literal["debug", "info", "warning", "error"] = "info"
    session_idle_s: Positive = 30 * 60
    session_absolute_s: Positive = 12 * 60 * 60
    # Failed logins per window: to one account from one address (the owner elsewhere is not
    # locked out), to one account from anywhere (a ceiling on spread guessing), from one address.
    login_max_failures_per_account_address: Positive = 5
    login_max_failures_per_account: Positive = 50
    login_max_failures_per_address: Positive = 30
    login_failure_window_s: Positive = 15 * 60
    registration_max_per_address: Positive = 20
    registration_window_s: Positive = 60 * 60
    # Reverse proxies (addresses or CIDR networks) whose X-Forwarded-For names the client.
    trusted_proxies: tuple[str, ...] = ()
    # A proxy serves chapter videos: the portal checks, then answers X-Accel-Redirect
    # /protected-media/<file> (README: Security) instead of sending the file itself.
    media_accel: bool = False
    # The largest chapter video an administrator may upload, in megabytes (MiB).
    upload_max_mb: Positive = 500
    # Failed study-card redemptions (wrong number or password) before 充值 is refused for a while.
    card_max_failures_per_account: Positive = 5
    card_max_failures_per_address: Positive = 20
    card_failure_window_s: Positive = 60 * 60
    node_id: str = ""  # empty: a random id per process
    # A background loop failing for longer than this makes /healthz 503 (the node is taken out).
    loop_unhealthy_s: Annotated[float, msgspec.Meta(gt=0)] = 30.0
    # Redis commands a node queues for its next batch before it refuses more (unavailable,
    # 503): measured in bench/README.md, see MAX_PENDING in engine/kv.py.
    redis_max_pending: Positive = 10_000
    beat_interval_ms: Annotated[int, msgspec.Meta(ge=500, le=60_000)] = 5_000
    seek_tolerance_s: Annotated[float, msgspec.Meta(ge=0, le=30)] = 2.0
    completion_tolerance_s: Annotated[float, msgspec.Meta(ge=0, le=30)] = 2.0
    # Check-ins during playback: their mean interval in seconds of playback (0: none), and
    # how long a blur may last and still count as focused (once per interval).
    attention_interval_s: Annotated[int, msgspec.Meta(ge=0, le=86_400)] = (
        DEFAULT_ATTENTION_INTERVAL_S
    )
    blur_grace_ms: Annotated[int, msgspec.Meta(ge=0, le=10_000)] = 1_500
    ws_max_frame_bytes: Annotated[int, msgspec.Meta(ge=256)] = 8 * 1024
    ws_messages_per_s: Annotated[float, msgspec.Meta(gt=0)] = 10.0
    ws_send_queue: Annotated[int, msgspec.Meta(ge=1)] = 64
    # How often a long-lived socket re-checks (and so keeps alive) its login session.
    ws_auth_recheck_s: Annotated[float, msgspec.Meta(ge=0)] = 60.0
    # Open sockets, across nodes: a learner's (a player and an exam tab, on two devices),
    # and a client address's (a whole office or school behind one NAT address).
    ws_max_per_learner: Positive = 5
    ws_max_per_address: Positive = 200
    # Chat messages one user may send (all rooms, all nodes) within one window.
    chat_max_sends: Positive = 5
    chat_send_window_s: Positive = 10
    # The year whose plans are "this year's" (F7 tabs); None: the calendar year in China.
    current_year: Annotated[int, msgspec.Meta(ge=2000, le=2100)] | None = None
    # Online payment (F12, F13). The built-in sandbox gateway; None: on in development and
    # test unless a real gateway (gateway_url) is configured; never beside one.
    sandbox_gateway: bool | None = None
    gateway_url: str | None = None  # the real gateway's payment page; the sandbox has its own
    gateway_app_id: str = ""  # empty with the sandbox: a fixed sandbox app
    gateway_seller_id: str = ""
    gateway_private_key: str | None = None  # PEM path of our signing key; sandbox: generated
    gateway_public_key: str | None = None  # PEM path of the gateway's key; sandbox: its own
    # Where learners and gateways reach the portal (https://…), for notify and return URLs;
    # None: no online payment, except in development from a loopback host (web/payments.py).
    public_url: str | None = None
    # Addresses or networks (CIDR) that may read /metrics; everyone else gets a 404.
    metrics_allowed: tuple[str, ...] = ("127.0.0.0/8", "::1")

    def __post_init__(self) -> None:
        for variable, entries in (
            ("JIXU_METRICS_ALLOWED", self.metrics_allowed),
            ("JIXU_TRUSTED_PROXIES", self.trusted_proxies),
        ):
            for entry in entries:
                try:
                    ipaddress.ip_network(entry, strict=False)
                except ValueError:
                    raise ValueError(f"{variable}: not an address or network: {entry!r}") from None


# Environment variable for each field; PORT, DATABASE_URL and REDIS_URL keep their usual names.
ENVIRONMENT_NAMES: dict[str, str] = {
    field: (
        field.upper() if field in {"port", "database_url", "redis_url"} else f"JIXU_{field.upper()}"
    )
    for field in Settings.__struct_fields__
}

LIST_FIELDS = frozenset(
    {"allowed_origins", "trusted_proxies", "metrics_allowed"}
)  # comma-separated


def load_settings(environ: Mapping[str, str] | None = None, **overrides: object) -> Settings:
    """Build Settings from environment variables, then apply keyword overrides."""
    environ = os.environ if environ is None else environ
    raw: dict[str, object] = {}
    for field, name in ENVIRONMENT_NAMES.items():
        value = environ.get(name)
        if value is None or value == "":
            continue
        raw[field] = _split_list(value) if field in LIST_FIELDS else value
    raw.update(overrides)
    try:
        settings = msgspec.convert(raw, Settings, strict=False)
    except msgspec.ValidationError as exc:
        raise SettingsError(_explain(exc)) from None
    if settings.sandbox_gateway and settings.gateway_url:
        raise SettingsError("JIXU_SANDBOX_GATEWAY must not be on beside JIXU_GATEWAY_URL")
    return settings


def _split_list(value: str) -> list[str]:
    return [item.strip() for item in value.split(",") if item.strip()]


def _explain(exc: msgspec.ValidationError) -> str:
    message = str(exc)
    # msgspec reports the path as "at `$.field`"; name the environment variable instead.
    for field, name in ENVIRONMENT_NAMES.items():
        marker = f"`$.{field}`"
        if marker in message:
            return f"{name}: {message.replace(' - at ' + marker, '')}"
    return message
