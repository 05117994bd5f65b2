"""Settings from environment variables or a ``.env`` file, each read here under its
``GUAHAO_…`` name (``validation_alias``); unsafe defaults are refused outside development.

What each setting means, with its default, is in the README's "Configuration" table: one list
for the people who run the service and for this code. A setting added here goes there too.
"""

from __future__ import annotations

import re
import secrets
from datetime import datetime
from ipaddress import IPv4Network, IPv6Network, ip_network
from pathlib import Path
from typing import Literal

from limits import parse
from pydantic import AliasChoices, Field, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from booking.patients.blacklist import REMOVAL_SHARE
from booking.staff.retention import AUDIT_DAYS, LOG_DAYS, Retention
from bot.secret_key import refusal as weak_key

PROJECT_ROOT = Path(__file__).resolve().parents[1]
DATA_DIR = PROJECT_ROOT / "data"
DEV_SECRET_FILE = DATA_DIR / ".dev-secret-key"
_CHAT_ID = r"^-?\d{1,20}$"  # Telegram chat ids: negative for groups
_DEADLINE = r"([a-z]+\s*=\s*)?\d{1,4}(\.\d+)?"  # "30" or "sms=45"
# The notice dispatcher's lanes: one per channel, and bot.notices.dispatcher.OPERATIONS.
NOTICE_LANES = ("telegram", "sms", "web", "ops")


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_file=".env", extra="ignore")

    env: Literal["development", "production"] = Field(
        default="development", validation_alias="GUAHAO_ENV"
    )
    database_url: str = Field(
        default=f"sqlite+aiosqlite:///{DATA_DIR / 'guahao.sqlite3'}",
        validation_alias="DATABASE_URL",
    )
    db_pool_size: int = Field(default=10, ge=1, le=100, validation_alias="GUAHAO_DB_POOL_SIZE")
    db_schema: str | None = Field(
        default=None, pattern=r"^[A-Za-z_][A-Za-z0-9_]{0,62}$", validation_alias="GUAHAO_DB_SCHEMA"
    )
    # Derives the keys that encrypt ID and phone numbers and hash them for look-up.
    # Losing it makes the stored numbers unreadable: keep it in the hospital's secret store.
    secret_key: str | None = Field(default=None, validation_alias="GUAHAO_SECRET_KEY")
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = Field(
        default="INFO", validation_alias="GUAHAO_LOG_LEVEL"
    )
    # A fixed "now" for tests and demos; the system clock when unset.
    fixed_now: datetime | None = Field(default=None, validation_alias="GUAHAO_NOW")
    demo_file: Path = Field(
        default=DATA_DIR / "demo_hospital.yaml", validation_alias="GUAHAO_DEMO_FILE"
    )

    nlu: Literal["builtin", "rasa"] = Field(default="builtin", validation_alias="GUAHAO_NLU")
    rasa_url: str = Field(
        default="http://127.0.0.1:5005", pattern=r"^https?://", validation_alias="GUAHAO_RASA_URL"
    )
    nlu_data: Path = Field(default=DATA_DIR / "nlu", validation_alias="GUAHAO_NLU_DATA")
    nlu_models: Path = Field(
        default=DATA_DIR / ".cache" / "nlu", validation_alias="GUAHAO_NLU_MODELS"
    )

    webchat_per_chat: str = Field(default="30/minute", validation_alias="GUAHAO_WEBCHAT_PER_CHAT")
    webchat_per_address: str = Field(
        default="600/minute", validation_alias="GUAHAO_WEBCHAT_PER_ADDRESS"
    )
    # Pages ask for notices every 15 s (4 a minute): 1,200 is 300 open pages behind one address.
    webchat_notices_per_address: str = Field(
        default="1200/minute", validation_alias="GUAHAO_WEBCHAT_NOTICES_PER_ADDRESS"
    )
    # Where the web chat's and the Telegram bot's rate limits are counted: in each process, or
    # (async+redis://host:6379) in one place for every process serving or sending for the bot.
    rate_limit_storage: str = Field(
        default="async+memory://",
        pattern=r"^async\+[a-z+]+://",  # an asynchronous storage of the `limits` library
        validation_alias="GUAHAO_RATE_LIMIT_STORAGE",
    )
    conversation_days: int = Field(
        default=30, ge=1, le=3650, validation_alias="GUAHAO_CONVERSATION_DAYS"
    )
    # B8: the booking and error logs are kept one year, the audit log three years (why: see
    # booking/staff/retention.py); a shorter setting is refused.
    log_retention_days: int = Field(
        default=LOG_DAYS, ge=LOG_DAYS, le=3650, validation_alias="GUAHAO_LOG_RETENTION_DAYS"
    )
    audit_retention_days: int = Field(
        default=AUDIT_DAYS, ge=AUDIT_DAYS, le=36500, validation_alias="GUAHAO_AUDIT_RETENTION_DAYS"
    )
    # How long a notice claimed by a dispatcher (`guahao serve` or `guahao worker`) is kept from
    # the others, renewed while the dispatcher is still at its batch: longer than one send's
    # deadline. After a crash, its unsent notices wait this long before another dispatcher (or
    # itself, restarted) sends them.
    notice_hold_seconds: int = Field(
        default=120, ge=1, le=3600, validation_alias="GUAHAO_NOTICE_HOLD_SECONDS"
    )
    # How long one notice's send may take, in seconds: one number for every channel's lane,
    # and/or `lane=seconds` for some ("30,sms=45"; lanes: telegram, sms, web, ops). A send past
    # its deadline has failed and is tried again later; the channel's other notices go on.
    notice_send_seconds: str = Field(
        default="30",
        pattern=rf"^\s*{_DEADLINE}(\s*,\s*{_DEADLINE})*\s*$",
        validation_alias="GUAHAO_NOTICE_SEND_SECONDS",
    )

    # The back office's logins: signed out after this long unused, and this long in all.
    admin_idle_minutes: int = Field(
        default=30, ge=1, le=24 * 60, validation_alias="GUAHAO_ADMIN_IDLE_MINUTES"
    )
    admin_login_hours: int = Field(
        default=12,
        ge=1,
        le=72,
        # the older name is still read: a hospital's configuration keeps working
        validation_alias=AliasChoices("GUAHAO_ADMIN_LOGIN_HOURS", "GUAHAO_ADMIN_SESSION_HOURS"),
    )
    # Lock-out is per account: this stops one address trying a password against every name.
    admin_logins_per_address: str = Field(
        default="20/15 minutes", validation_alias="GUAHAO_ADMIN_LOGINS_PER_ADDRESS"
    )
    # Per-address limits count the connection's address unless it is one of these proxies.
    trusted_proxies: str = Field(default="", validation_alias="GUAHAO_TRUSTED_PROXIES")
    # The API description names every staff route: not published in production unless asked.
    api_docs: bool | None = Field(default=None, validation_alias="GUAHAO_API_DOCS")
    # /fhir: refused bearer tokens from one address (a valid token is never held back).
    fhir_bad_tokens_per_address: str = Field(
        default="20/15 minutes", validation_alias="GUAHAO_FHIR_BAD_TOKENS_PER_ADDRESS"
    )
    # The SMS webhook: posts with a missing or wrong signature from one address.
    sms_bad_signatures_per_address: str = Field(
        default="20/15 minutes", validation_alias="GUAHAO_SMS_BAD_SIGNATURES_PER_ADDRESS"
    )

    # The hospital's blacklist (B6), pulled from its server on schedule when a URL is set.
    blacklist_url: str | None = Field(
        default=None, pattern=r"^https?://", validation_alias="GUAHAO_BLACKLIST_URL"
    )
    blacklist_token: str | None = Field(default=None, validation_alias="GUAHAO_BLACKLIST_TOKEN")
    blacklist_pull_minutes: int = Field(
        default=60, ge=1, le=7 * 24 * 60, validation_alias="GUAHAO_BLACKLIST_PULL_MINUTES"
    )
    # A copy lifting more than this share of a list of 10 or more (or all of a shorter one)
    # is a partial list: a pull changes nothing, an upload or import waits for confirmation.
    blacklist_max_removal_share: float = Field(
        default=REMOVAL_SHARE, ge=0, le=1, validation_alias="GUAHAO_BLACKLIST_MAX_REMOVAL_SHARE"
    )

    # Telegram (issue 5). No token: no Telegram. No webhook URL: long polling.
    telegram_bot_token: str | None = Field(default=None, validation_alias="TELEGRAM_BOT_TOKEN")
    telegram_api_base_url: str | None = Field(
        default=None, pattern=r"^https?://", validation_alias="TELEGRAM_API_BASE_URL"
    )
    telegram_webhook_url: str | None = Field(
        default=None, pattern=r"^https?://", validation_alias="TELEGRAM_WEBHOOK_URL"
    )
    telegram_webhook_secret: str | None = Field(
        default=None, pattern=r"^[A-Za-z0-9_-]{16,256}$", validation_alias="TELEGRAM_WEBHOOK_SECRET"
    )
    telegram_staff_chat_id: str | None = Field(
        default=None, pattern=_CHAT_ID, validation_alias="TELEGRAM_STAFF_CHAT_ID"
    )
    telegram_ops_chat_id: str | None = Field(
        default=None, pattern=_CHAT_ID, validation_alias="TELEGRAM_OPS_CHAT_ID"
    )
    telegram_department_chats: str | None = Field(
        default=None,
        pattern=r"^\s*[A-Za-z0-9_]+\s*=\s*-?\d+\s*(,\s*[A-Za-z0-9_]+\s*=\s*-?\d+\s*)*$",
        validation_alias="TELEGRAM_DEPARTMENT_CHATS",
    )
    telegram_staff_user_ids: str | None = Field(
        default=None,
        pattern=r"^\s*\d+(\s*,\s*\d+)*\s*$",
        validation_alias="TELEGRAM_STAFF_USER_IDS",
    )
    complaint_hours: int = Field(
        default=24, ge=1, le=24 * 14, validation_alias="GUAHAO_COMPLAINT_HOURS"
    )
    # Complaints one chat account, and one network address (web chat), may file an hour
    # (booking.complaints.filing.ComplaintCaps says why these numbers).
    complaints_per_hour_account: int = Field(
        default=3, ge=1, le=100, validation_alias="GUAHAO_COMPLAINTS_PER_HOUR_ACCOUNT"
    )
    complaints_per_hour_address: int = Field(
        default=20, ge=1, le=1000, validation_alias="GUAHAO_COMPLAINTS_PER_HOUR_ADDRESS"
    )
    # SMS through a Twilio-style gateway (issue 5): all four, or none.
    sms_gateway_url: str | None = Field(
        default=None, pattern=r"^https?://", validation_alias="SMS_GATEWAY_URL"
    )
    sms_account_sid: str | None = Field(
        default=None, pattern=r"^[A-Za-z0-9]{8,64}$", validation_alias="SMS_ACCOUNT_SID"
    )
    sms_auth_token: str | None = Field(
        default=None, min_length=16, validation_alias="SMS_AUTH_TOKEN"
    )
    sms_from: str | None = Field(
        default=None, pattern=r"^\+?\d{3,15}$", validation_alias="SMS_FROM"
    )
    sms_webhook_url: str | None = Field(
        default=None, pattern=r"^https?://", validation_alias="SMS_WEBHOOK_URL"
    )
    # Without an SMS gateway nobody can prove a phone on the web chat or Telegram. A reader
    # trying `make run` must still be able to register: in development the code is shown in
    # the chat. Never in production, where it would let anyone register any number.
    show_codes: bool | None = Field(default=None, validation_alias="GUAHAO_SHOW_CODES")

    # Complaints by e-mail (issue 5): the hospital's mail server forwards the complaints address
    # to MAIL_LISTEN_HOST:MAIL_LISTEN_PORT; replies go out through SMTP_HOST.
    mail_listen_host: str = Field(default="127.0.0.1", validation_alias="MAIL_LISTEN_HOST")
    mail_listen_port: int | None = Field(
        default=None, ge=1, le=65535, validation_alias="MAIL_LISTEN_PORT"
    )
    mail_from: str | None = Field(
        default=None, pattern=r"^[^@\s]+@[^@\s]+$", validation_alias="MAIL_FROM"
    )
    smtp_host: str | None = Field(default=None, validation_alias="SMTP_HOST")
    smtp_port: int = Field(default=25, ge=1, le=65535, validation_alias="SMTP_PORT")
    smtp_user: str | None = Field(default=None, validation_alias="SMTP_USER")
    smtp_password: str | None = Field(default=None, validation_alias="SMTP_PASSWORD")
    smtp_starttls: bool = Field(default=False, validation_alias="SMTP_STARTTLS")

    @property
    def mail_enabled(self) -> bool:
        return self.mail_listen_port is not None

    @property
    def telegram_enabled(self) -> bool:
        return self.telegram_bot_token is not None

    @property
    def sms_enabled(self) -> bool:
        return self.sms_gateway_url is not None

    @property
    def api_docs_served(self) -> bool:
        return self.env == "development" if self.api_docs is None else self.api_docs

    @property
    def codes_on_screen(self) -> bool:
        """One-time codes shown in the chat (development without an SMS gateway only)."""
        wanted = self.env == "development" if self.show_codes is None else self.show_codes
        return wanted and self.env == "development" and not self.sms_enabled

    def department_chats(self) -> dict[str, str]:
        if not self.telegram_department_chats:
            return {}
        pairs = (item.split("=") for item in self.telegram_department_chats.split(","))
        return {code.strip().upper(): chat.strip() for code, chat in pairs}

    def notice_deadlines(self) -> tuple[float, dict[str, float]]:
        """(seconds for every lane, seconds by lane where set apart)."""
        return _deadlines(self.notice_send_seconds)

    def staff_user_ids(self) -> frozenset[str]:
        return frozenset(
            part.strip() for part in (self.telegram_staff_user_ids or "").split(",") if part.strip()
        )

    @field_validator("notice_send_seconds")
    @classmethod
    def _deadlines_within_reason(cls, value: str) -> str:
        every, by_lane = _deadlines(value)
        if not all(0 < seconds <= 3600 for seconds in (every, *by_lane.values())):
            raise ValueError("each deadline should be more than 0 and at most 3600 seconds")
        unknown = sorted(set(by_lane) - set(NOTICE_LANES))
        if unknown:
            raise ValueError(f"no lane {', '.join(unknown)}; the lanes: {', '.join(NOTICE_LANES)}")
        return value

    @model_validator(mode="after")
    def _held_longer_than_sent(self) -> Settings:
        # A claim that runs out mid-send lets another dispatcher send the same notice again.
        every, by_lane = self.notice_deadlines()
        if max([every, *by_lane.values()]) >= self.notice_hold_seconds:
            raise ValueError(
                "GUAHAO_NOTICE_HOLD_SECONDS must be longer than every GUAHAO_NOTICE_SEND_SECONDS"
            )
        return self

    @field_validator("telegram_bot_token")
    @classmethod
    def _a_token(cls, value: str | None) -> str | None:
        if value is not None and not re.fullmatch(r"\d{3,20}:[A-Za-z0-9_-]{30,60}", value):
            # The value is a secret: not repeated in the message.
            raise ValueError("should look like 123456789:AAE… (as BotFather gives it)")
        return value

    @field_validator(
        "webchat_per_chat",
        "webchat_per_address",
        "admin_logins_per_address",
        "fhir_bad_tokens_per_address",
        "webchat_notices_per_address",
        "sms_bad_signatures_per_address",
    )
    @classmethod
    def _a_rate(cls, value: str) -> str:
        try:
            parse(value)
        except ValueError:
            raise ValueError(f"{value!r} is not a rate such as '30/minute'") from None
        return value

    @field_validator("trusted_proxies")
    @classmethod
    def _networks(cls, value: str) -> str:
        for part in value.split(","):
            if part.strip():
                try:
                    ip_network(part.strip(), strict=False)
                except ValueError:
                    raise ValueError(f"{part.strip()!r} is not an address or network") from None
        return value

    def proxy_networks(self) -> tuple[IPv4Network | IPv6Network, ...]:
        parts = (part.strip() for part in self.trusted_proxies.split(","))
        return tuple(ip_network(part, strict=False) for part in parts if part)

    @field_validator("log_level", mode="before")
    @classmethod
    def _upper(cls, value: object) -> object:
        return value.upper() if isinstance(value, str) else value

    @model_validator(mode="after")
    def _audit_outlives_logs(self) -> Settings:
        if self.audit_retention_days < self.log_retention_days:
            raise ValueError(
                "GUAHAO_AUDIT_RETENTION_DAYS must not be shorter than GUAHAO_LOG_RETENTION_DAYS"
            )
        return self

    @property
    def retention(self) -> Retention:
        return Retention(self.log_retention_days, self.audit_retention_days)

    @model_validator(mode="after")
    def _refuse_unsafe(self) -> Settings:
        weak = weak_key(self.secret_key) if self.env == "production" else None
        if weak is not None:
            raise ValueError(weak)
        if self.secret_key is not None and len(self.secret_key) < 16:
            raise ValueError("GUAHAO_SECRET_KEY must have at least 16 characters")
        if self.fixed_now is not None and self.fixed_now.tzinfo is None:
            raise ValueError("GUAHAO_NOW needs a UTC offset, e.g. 2026-11-23T09:00:00+08:00")
        if self.env == "production" and self.fixed_now is not None:
            raise ValueError("GUAHAO_NOW (a fixed clock) is refused in production")
        if self.env == "production" and self.show_codes:
            raise ValueError("GUAHAO_SHOW_CODES (codes shown in the chat) is refused in production")
        if self.telegram_webhook_url and not self.telegram_webhook_secret:
            raise ValueError("TELEGRAM_WEBHOOK_SECRET must be set with TELEGRAM_WEBHOOK_URL")
        if self.telegram_staff_chat_id and not self.telegram_bot_token:
            raise ValueError("TELEGRAM_BOT_TOKEN must be set with TELEGRAM_STAFF_CHAT_ID")
        if self.telegram_staff_chat_id and not self.telegram_staff_user_ids:
            raise ValueError("TELEGRAM_STAFF_USER_IDS must be set with TELEGRAM_STAFF_CHAT_ID")
        if self.telegram_webhook_url and not self.telegram_bot_token:
            raise ValueError("TELEGRAM_BOT_TOKEN must be set with TELEGRAM_WEBHOOK_URL")
        sms = {
            "SMS_GATEWAY_URL": self.sms_gateway_url,
            "SMS_ACCOUNT_SID": self.sms_account_sid,
            "SMS_AUTH_TOKEN": self.sms_auth_token,
            "SMS_FROM": self.sms_from,
        }
        missing = [name for name, value in sms.items() if not value]
        if missing and len(missing) < len(sms):
            raise ValueError(f"{missing[0]} must be set with the other SMS_ settings")
        if self.mail_listen_port is not None and not (self.mail_from and self.smtp_host):
            raise ValueError("MAIL_FROM and SMTP_HOST must be set with MAIL_LISTEN_PORT")
        return self

    def resolved_secret_key(self) -> str:
        """The configured key; in development, a random key kept in data/ for this checkout."""
        if self.secret_key:
            return self.secret_key
        if DEV_SECRET_FILE.exists():
            return DEV_SECRET_FILE.read_text().strip()
        DEV_SECRET_FILE.parent.mkdir(parents=True, exist_ok=True)
        key = secrets.token_urlsafe(48)
        DEV_SECRET_FILE.write_text(key + "\n")
        DEV_SECRET_FILE.chmod(0o600)
        return key


def _deadlines(setting: str) -> tuple[float, dict[str, float]]:
    every, by_lane = 30.0, {}
    for item in setting.split(","):
        lane, _, seconds = item.rpartition("=")
        if lane.strip():
            by_lane[lane.strip()] = float(seconds)
        else:
            every = float(seconds)
    return every, by_lane
