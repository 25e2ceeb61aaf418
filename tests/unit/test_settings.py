"""Settings read from an explicit environment mapping (os.environ is never touched)."""

import re

import pytest

from engine.settings import ENVIRONMENT_NAMES, Settings, SettingsError, load_settings
from web.cli import command_settings


def test_empty_environment_gives_defaults() -> None:
    assert load_settings({}) == Settings()
    assert (Settings().attention_interval_s, Settings().blur_grace_ms) == (900, 1500)


def test_environment_names() -> None:
    assert ENVIRONMENT_NAMES == {
        "env": "JIXU_ENV",
        "host": "JIXU_HOST",
        "port": "PORT",
        "database_url": "DATABASE_URL",
        "redis_url": "REDIS_URL",
        "data_dir": "JIXU_DATA_DIR",
        "site_name": "JIXU_SITE_NAME",
        "secure_cookies": "JIXU_SECURE_COOKIES",
        "allowed_origins": "JIXU_ALLOWED_ORIGINS",
        "log_format": "JIXU_LOG_FORMAT",
        "log_level": "JIXU_LOG_LEVEL",
        "session_idle_s": "JIXU_SESSION_IDLE_S",
        "session_absolute_s": "JIXU_SESSION_ABSOLUTE_S",
        "login_max_failures_per_account_address": "JIXU_LOGIN_MAX_FAILURES_PER_ACCOUNT_ADDRESS",
        "login_max_failures_per_account": "JIXU_LOGIN_MAX_FAILURES_PER_ACCOUNT",
        "login_max_failures_per_address": "JIXU_LOGIN_MAX_FAILURES_PER_ADDRESS",
        "login_failure_window_s": "JIXU_LOGIN_FAILURE_WINDOW_S",
        "registration_max_per_address": "JIXU_REGISTRATION_MAX_PER_ADDRESS",
        "registration_window_s": "JIXU_REGISTRATION_WINDOW_S",
        "trusted_proxies": "JIXU_TRUSTED_PROXIES",
        "media_accel": "JIXU_MEDIA_ACCEL",
        "upload_max_mb": "JIXU_UPLOAD_MAX_MB",
        "card_max_failures_per_account": "JIXU_CARD_MAX_FAILURES_PER_ACCOUNT",
        "card_max_failures_per_address": "JIXU_CARD_MAX_FAILURES_PER_ADDRESS",
        "card_failure_window_s": "JIXU_CARD_FAILURE_WINDOW_S",
        "node_id": "JIXU_NODE_ID",
        "loop_unhealthy_s": "JIXU_LOOP_UNHEALTHY_S",
        "redis_max_pending": "JIXU_REDIS_MAX_PENDING",
        "beat_interval_ms": "JIXU_BEAT_INTERVAL_MS",
        "seek_tolerance_s": "JIXU_SEEK_TOLERANCE_S",
        "completion_tolerance_s": "JIXU_COMPLETION_TOLERANCE_S",
        "attention_interval_s": "JIXU_ATTENTION_INTERVAL_S",
        "blur_grace_ms": "JIXU_BLUR_GRACE_MS",
        "ws_max_frame_bytes": "JIXU_WS_MAX_FRAME_BYTES",
        "ws_messages_per_s": "JIXU_WS_MESSAGES_PER_S",
        "ws_send_queue": "JIXU_WS_SEND_QUEUE",
        "ws_auth_recheck_s": "JIXU_WS_AUTH_RECHECK_S",
        "ws_max_per_learner": "JIXU_WS_MAX_PER_LEARNER",
        "ws_max_per_address": "JIXU_WS_MAX_PER_ADDRESS",
        "chat_max_sends": "JIXU_CHAT_MAX_SENDS",
        "chat_send_window_s": "JIXU_CHAT_SEND_WINDOW_S",
        "current_year": "JIXU_CURRENT_YEAR",
        "sandbox_gateway": "JIXU_SANDBOX_GATEWAY",
        "gateway_url": "JIXU_GATEWAY_URL",
        "gateway_app_id": "JIXU_GATEWAY_APP_ID",
        "gateway_seller_id": "JIXU_GATEWAY_SELLER_ID",
        "gateway_private_key": "JIXU_GATEWAY_PRIVATE_KEY",
        "gateway_public_key": "JIXU_GATEWAY_PUBLIC_KEY",
        "public_url": "JIXU_PUBLIC_URL",
        "metrics_allowed": "JIXU_METRICS_ALLOWED",
    }


@pytest.mark.parametrize(
    ("name", "value", "field", "expected"),
    [
        pytest.param("PORT", "9000", "port", 9000, id="port"),
        pytest.param("PORT", "65535", "port", 65535, id="port-max"),
        pytest.param(
            "DATABASE_URL",
            "postgresql://jixu@db.internal/jixu",
            "database_url",
            "postgresql://jixu@db.internal/jixu",
            id="database-url",
        ),
        pytest.param(
            "REDIS_URL", "redis://cache:6379/2", "redis_url", "redis://cache:6379/2", id="redis"
        ),
        pytest.param("JIXU_DATA_DIR", "/var/lib/jixu", "data_dir", "/var/lib/jixu", id="data"),
        pytest.param("JIXU_SECURE_COOKIES", "true", "secure_cookies", True, id="cookies-true"),
        pytest.param("JIXU_SECURE_COOKIES", "1", "secure_cookies", True, id="cookies-1"),
        pytest.param("JIXU_SECURE_COOKIES", "false", "secure_cookies", False, id="cookies-false"),
        pytest.param("JIXU_MEDIA_ACCEL", "true", "media_accel", True, id="media-accel"),
        pytest.param("JIXU_UPLOAD_MAX_MB", "2048", "upload_max_mb", 2048, id="upload-max-mb"),
        pytest.param(
            "JIXU_ALLOWED_ORIGINS",
            "https://a.example, https://b.example,,",
            "allowed_origins",
            ("https://a.example", "https://b.example"),
            id="origins-list",
        ),
        pytest.param(
            "JIXU_ALLOWED_ORIGINS",
            "https://a.example",
            "allowed_origins",
            ("https://a.example",),
            id="origins-one",
        ),
        pytest.param("JIXU_LOG_FORMAT", "json", "log_format", "json", id="log-format"),
        pytest.param("JIXU_LOG_LEVEL", "debug", "log_level", "debug", id="log-level"),
        pytest.param("JIXU_ENV", "production", "env", "production", id="env"),
        pytest.param("JIXU_HOST", "0.0.0.0", "host", "0.0.0.0", id="host"),
        pytest.param("JIXU_SITE_NAME", "某省继续教育网", "site_name", "某省继续教育网", id="site"),
        pytest.param("JIXU_SESSION_IDLE_S", "600", "session_idle_s", 600, id="idle"),
        pytest.param("JIXU_SESSION_ABSOLUTE_S", "3600", "session_absolute_s", 3600, id="absolute"),
        pytest.param(
            "JIXU_LOGIN_MAX_FAILURES_PER_ACCOUNT",
            "3",
            "login_max_failures_per_account",
            3,
            id="failures-account",
        ),
        pytest.param(
            "JIXU_LOGIN_MAX_FAILURES_PER_ADDRESS",
            "100",
            "login_max_failures_per_address",
            100,
            id="failures-address",
        ),
        pytest.param(
            "JIXU_LOGIN_FAILURE_WINDOW_S", "60", "login_failure_window_s", 60, id="failure-window"
        ),
        pytest.param("JIXU_CURRENT_YEAR", "2018", "current_year", 2018, id="current-year"),
        pytest.param(
            "JIXU_TRUSTED_PROXIES",
            "10.0.0.1, 172.16.0.0/12,::1",
            "trusted_proxies",
            ("10.0.0.1", "172.16.0.0/12", "::1"),
            id="trusted-proxies",
        ),
        pytest.param(
            "JIXU_REGISTRATION_MAX_PER_ADDRESS",
            "50",
            "registration_max_per_address",
            50,
            id="registrations-address",
        ),
        pytest.param(
            "JIXU_METRICS_ALLOWED",
            "10.0.0.5, 192.168.0.0/16,,fd00::/8",
            "metrics_allowed",
            ("10.0.0.5", "192.168.0.0/16", "fd00::/8"),
            id="metrics-list",
        ),
        pytest.param("JIXU_ATTENTION_INTERVAL_S", "0", "attention_interval_s", 0, id="checks-off"),
        pytest.param(
            "JIXU_ATTENTION_INTERVAL_S", "600", "attention_interval_s", 600, id="checks-600"
        ),
        pytest.param("JIXU_BLUR_GRACE_MS", "0", "blur_grace_ms", 0, id="no-grace"),
    ],
)
def test_reads_environment_variable(name: str, value: str, field: str, expected: object) -> None:
    assert getattr(load_settings({name: value}), field) == expected


@pytest.mark.parametrize(
    "environ",
    [
        pytest.param({"PORT": ""}, id="empty-value"),
        pytest.param({"port": "9000"}, id="lowercase-name"),
        pytest.param({"JIXU_PORT": "9000"}, id="prefixed-port"),
        pytest.param({"JIXU_UNKNOWN": "x"}, id="unknown-name"),
        pytest.param({"JIXU_ALLOWED_ORIGINS": ""}, id="empty-origins"),
        pytest.param({"JIXU_METRICS_ALLOWED": ""}, id="empty-metrics"),
    ],
)
def test_ignored_variables_leave_defaults(environ: dict[str, str]) -> None:
    assert load_settings(environ) == Settings()


def test_settings_mean_production_unless_told_otherwise() -> None:
    assert load_settings({}).env == "production"
    assert Settings().env == "production"


@pytest.mark.parametrize(
    ("command", "environ", "env"),
    [("serve", {}, "production"), ("migrate", {}, "production"), ("run", {}, "development"),
     ("run", {"JIXU_ENV": "production"}, "production"), ("serve", {"JIXU_ENV": "test"}, "test")],
)  # fmt: skip
def test_only_jixu_run_means_development(command: str, environ: dict[str, str], env: str) -> None:
    assert command_settings(command, environ).env == env


def test_the_sandbox_is_refused_beside_a_real_gateway() -> None:
    environ = {"JIXU_SANDBOX_GATEWAY": "true", "JIXU_GATEWAY_URL": "https://pay.example/gateway"}
    with pytest.raises(
        SettingsError, match=r"^JIXU_SANDBOX_GATEWAY must not be on beside JIXU_GAT"
    ):
        load_settings(environ)


def test_overrides_beat_the_environment() -> None:
    settings = load_settings({"PORT": "9000", "JIXU_ENV": "production"}, port=9100, env="test")
    assert (settings.port, settings.env) == (9100, "test")


@pytest.mark.parametrize(
    ("name", "value"),
    [
        pytest.param("PORT", "abc", id="port-letters"),
        pytest.param("PORT", "70000", id="port-too-large"),
        pytest.param("PORT", "0", id="port-zero"),
        pytest.param("PORT", "80.5", id="port-decimal"),
        pytest.param("JIXU_LOG_FORMAT", "xml", id="log-format"),
        pytest.param("JIXU_LOG_LEVEL", "verbose", id="log-level"),
        pytest.param("JIXU_ENV", "staging", id="env"),
        pytest.param("JIXU_SECURE_COOKIES", "yes", id="cookies"),
        pytest.param("JIXU_SESSION_IDLE_S", "0", id="idle-zero"),
        pytest.param("JIXU_CURRENT_YEAR", "18", id="current-year-short"),
        pytest.param("JIXU_SESSION_IDLE_S", "-5", id="idle-negative"),
        pytest.param("JIXU_SESSION_ABSOLUTE_S", "forever", id="absolute-word"),
        pytest.param("JIXU_LOGIN_MAX_FAILURES_PER_ACCOUNT", "0", id="failures-account"),
        pytest.param("JIXU_LOGIN_MAX_FAILURES_PER_ADDRESS", "many", id="failures-address"),
        pytest.param("JIXU_LOGIN_FAILURE_WINDOW_S", "0", id="failure-window"),
        pytest.param("JIXU_TRUSTED_PROXIES", "10.0.0.1,proxy.local", id="trusted-proxies"),
        pytest.param("JIXU_METRICS_ALLOWED", "127.0.0.1,localhost", id="metrics-name"),
        pytest.param("JIXU_METRICS_ALLOWED", "10.0.0.0/33", id="metrics-prefix"),
        pytest.param("JIXU_ATTENTION_INTERVAL_S", "-1", id="checks-negative"),
        pytest.param("JIXU_ATTENTION_INTERVAL_S", "often", id="checks-word"),
        pytest.param("JIXU_BLUR_GRACE_MS", "60000", id="grace-too-long"),
    ],
)
def test_bad_value_names_the_variable(name: str, value: str) -> None:
    with pytest.raises(SettingsError, match=rf"^{re.escape(name)}: \S"):
        load_settings({name: value})


def test_bad_override_names_the_variable() -> None:
    with pytest.raises(SettingsError, match=r"^PORT: "):
        load_settings({}, port=0)


def test_first_bad_variable_is_reported_among_good_ones() -> None:
    environ = {"PORT": "8000", "JIXU_LOG_FORMAT": "xml", "DATABASE_URL": "postgresql:///jixu"}
    with pytest.raises(SettingsError, match=r"^JIXU_LOG_FORMAT: .*xml"):
        load_settings(environ)
