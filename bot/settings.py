"""Settings from environment variables or a ``.env`` file. Unsafe defaults are refused
outside development."""

from __future__ import annotations

import secrets
from pathlib import Path
from typing import Literal

from pydantic import Field, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

PROJECT_ROOT = Path(__file__).resolve().parents[1]
DATA_DIR = PROJECT_ROOT / "data"
DEV_SECRET_FILE = DATA_DIR / ".dev-secret-key"


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
    # Derives the keys that encrypt ID and phone numbers and hash them for look-up.
    # Losing it makes the stored numbers unreadable: keep it in the hospital's secret store.
    secret_key: str | None = Field(default=None, validation_alias="GUAHAO_SECRET_KEY")
    log_level: str = Field(default="INFO", validation_alias="GUAHAO_LOG_LEVEL")
    demo_file: Path = Field(
        default=DATA_DIR / "demo_hospital.yaml", validation_alias="GUAHAO_DEMO_FILE"
    )

    @model_validator(mode="after")
    def _refuse_unsafe(self) -> Settings:
        if self.env == "production" and (not self.secret_key or len(self.secret_key) < 32):
            raise ValueError("GUAHAO_SECRET_KEY must be set (32+ characters) in production")
        if self.secret_key is not None and len(self.secret_key) < 16:
            raise ValueError("GUAHAO_SECRET_KEY must have at least 16 characters")
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
