"""One settings loader for every Python service.

Precedence, highest first: keyword arguments, environment variables (``__`` nests:
``MILVUS__URI=http://milvus:19530``), ``conf/<service>.yaml``, ``conf/common.yaml``, field defaults.
The conf directory is ``$CONF_DIR`` or ``./conf``.
"""

from __future__ import annotations

import ipaddress
import os
from pathlib import Path
from typing import Any, ClassVar, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, PydanticBaseSettingsSource, SettingsConfigDict


class MinioSettings(BaseModel):
    endpoint: str = "127.0.0.1:9000"
    access_key: str = "minioadmin"
    secret_key: str = "minioadmin"
    bucket: str = "images"
    secure: bool = False
    timeout_s: float = 10.0


class RedisSettings(BaseModel):
    url: str = "redis://127.0.0.1:6379/0"


class MilvusSettings(BaseModel):
    uri: str = "http://127.0.0.1:19530"
    token: str = ""
    alias: str = "images"
    timeout_s: float = 10.0


class ModelSettings(BaseModel):
    """Which OpenCLIP model makes the vectors, and how it runs. ``pretrained`` is an OpenCLIP tag
    or a local file ("" = untrained weights, for benchmarks). The ``onnx`` runtime runs the towers
    exported from the same weights with onnxruntime, in fp32; ``auto`` is onnx on the CPU and
    torch on CUDA."""

    name: str = "ViT-B-32"
    pretrained: str = "laion2b_s34b_b79k"
    cache_dir: str = Field(default="data/models", description="downloads and ONNX exports")
    device: Literal["auto", "cpu", "cuda"] = "auto"
    runtime: Literal["auto", "torch", "onnx"] = "torch"
    precision: Literal["auto", "fp32", "fp16", "bf16"] = Field(
        default="auto", description="auto = fp16 on CUDA, fp32 on CPU"
    )
    batch_size: int = Field(
        default=0, ge=0, le=1024, description="images per forward pass; 0 = CPU 16, CUDA 256"
    )
    threads: int = Field(default=0, ge=0, description="CPU threads per forward pass; 0 = default")

    @model_validator(mode="after")
    def _onnx_runs_fp32(self) -> ModelSettings:
        if self.runtime == "onnx" and self.precision not in ("auto", "fp32"):
            raise ValueError("model.precision: the onnx runtime runs fp32 (auto or fp32)")
        return self


class DatabaseSettings(BaseModel):
    """The catalog: a SQLAlchemy URL. SQLite (a file, WAL mode) locally; PostgreSQL in production
    (``postgresql+psycopg://user:password@host:5432/imagesearch``)."""

    url: str = "sqlite:///data/catalog.db"
    timeout_s: float = Field(default=10.0, gt=0, description="connect / lock wait")
    pool_size: int = Field(default=10, ge=1, description="connections per process (PostgreSQL)")


class ImageLimits(BaseModel):
    """What an image we accept may weigh, the same for upload, URL ingest, decoding and search."""

    max_bytes: int = Field(
        default=20_000_000, ge=1, description="per file, enforced while the bytes stream in"
    )
    max_pixels: int = Field(
        default=50_000_000, ge=1, description="checked from the header, before anything decodes"
    )


class HttpSettings(BaseModel):
    host: str = "127.0.0.1"
    port: int = Field(default=8000, ge=0, le=65535)
    header_timeout_s: float = Field(
        default=10.0, gt=0, description="a request's headers must arrive within this"
    )
    body_timeout_s: float = Field(
        default=30.0, gt=0, description="longest wait for the next piece of a request body"
    )
    forwarded_allow_ips: str = Field(
        default="127.0.0.1",
        description="proxies whose X-Forwarded-For names the client (the front door)",
    )


MIN_SECRET_CHARS = 32  # session and link-signing secrets: at least this many characters


class AuthSettings(BaseModel):
    """Who may do what. Writes always need a credential; reads only when ``public_read`` is
    false. ``jwt_secret`` signs the page's session tokens and must be the same in every API."""

    public_read: bool = False
    jwt_secret: SecretStr = SecretStr("")
    session_ttl_s: int = Field(default=900, ge=60, description="a page session, renewed in use")
    cookie_secure: bool = Field(default=False, description="true when the front door is HTTPS")
    bootstrap_password: SecretStr = Field(
        default=SecretStr(""), description="the first admin's password (empty: a random one)"
    )


class SigningSettings(BaseModel):
    """Byte links (``/images/...``) signed with HMAC-SHA256 when reads are private; cdnapi
    checks them with the same secret."""

    secret: SecretStr = SecretStr("")
    link_ttl_s: int = Field(default=3600, ge=60, description="how long a signed link stays valid")
    max_link_ttl_s: int = Field(
        default=604_800, ge=60, description="the longest life a link asked for (/link?ttl=) gets"
    )

    @model_validator(mode="after")
    def _default_within_bound(self) -> SigningSettings:
        if self.link_ttl_s > self.max_link_ttl_s:
            raise ValueError("signing.link_ttl_s must not exceed signing.max_link_ttl_s")
        return self


class RateLimitSettings(BaseModel):
    """Moving-window limits in Redis, per credential (per client address when anonymous), in
    the ``limits`` notation (``10/minute``, ``100 per 10 seconds``)."""

    enabled: bool = True
    storage_url: str = Field(
        default="", description="a Redis URL (memory://: this process only); empty: redis.url"
    )
    login: str = "10/minute"
    ingest: str = "120/minute"
    search: str = "300/minute"


class CameraSettings(BaseModel):
    """RTSP cameras (``shared.cameras``): where they may be, and what one capture may cost."""

    allowed_networks: list[str] = Field(
        default=[
            "10.0.0.0/8",
            "172.16.0.0/12",
            "192.168.0.0/16",
            "127.0.0.0/8",
            "::1/128",
            "fc00::/7",
        ],
        description="a camera's address must be in one of these (link-local never is)",
    )
    max_streams: int = Field(default=4, ge=1, description="streams captured at once, all workers")
    fps_ceiling: float = Field(
        default=2.0, gt=0, le=30, description="frames per second per stream, at most"
    )
    max_duration_s: int = Field(default=3600, ge=1, description="the longest capture")
    max_frames: int = Field(default=1000, ge=1, description="the most frames one capture keeps")
    connect_timeout_s: float = Field(default=10.0, gt=0)
    read_timeout_s: float = Field(default=10.0, gt=0)
    reconnect_initial_s: float = Field(default=0.5, gt=0, description="first backoff")
    reconnect_max_s: float = Field(default=30.0, gt=0, description="longest backoff")
    max_reconnects: int = Field(default=10, ge=0, description="then the capture fails")
    slot_ttl_s: int = Field(
        default=30, ge=2, description="a stream slot's expiry, renewed while it runs"
    )

    @field_validator("allowed_networks")
    @classmethod
    def _networks(cls, networks: list[str]) -> list[str]:
        for network in networks:
            ipaddress.ip_network(network, strict=False)  # ValueError names the bad one
        return networks

    @model_validator(mode="after")
    def _backoff_within_bound(self) -> CameraSettings:
        if self.reconnect_initial_s > self.reconnect_max_s:
            raise ValueError("cameras.reconnect_initial_s must not exceed reconnect_max_s")
        return self


class ComplianceCheckSettings(BaseModel):
    """One configured check (``shared.compliance``): its ``name``, recorded with every decision;
    its ``kind``, a built-in or an ``imagesearch.compliance`` entry point; and the kind's own
    options (``outcome``, ``prompts``, ...), checked when the worker builds the check."""

    model_config = ConfigDict(extra="allow")

    name: str = Field(pattern=r"^[a-z0-9][a-z0-9_.-]{0,63}$")
    kind: str = Field(min_length=1)

    @property
    def options(self) -> dict[str, Any]:
        return dict(self.model_extra or {})


class ComplianceSettings(BaseModel):
    """The checks every new image passes, in order, before it becomes searchable."""

    checks: list[ComplianceCheckSettings] = []

    @model_validator(mode="after")
    def _unique_names(self) -> ComplianceSettings:
        names = [check.name for check in self.checks]
        if len(names) != len(set(names)):
            raise ValueError("compliance.checks: each check needs a name of its own")
        return self


class LogSettings(BaseModel):
    level: str = "INFO"
    json_output: bool | None = Field(default=None, description="None = JSON unless stderr is a TTY")


def conf_dir() -> Path:
    return Path(os.environ.get("CONF_DIR", "conf"))


def _read_yaml(path: Path) -> dict[str, Any]:
    if not path.is_file():
        return {}
    data = yaml.safe_load(path.read_text()) or {}
    if not isinstance(data, dict):
        raise ValueError(f"{path}: top level must be a mapping")
    return data


def _deep_merge(base: dict[str, Any], over: dict[str, Any]) -> dict[str, Any]:
    merged = dict(base)
    for key, value in over.items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = _deep_merge(merged[key], value)
        else:
            merged[key] = value
    return merged


class _YamlSource(PydanticBaseSettingsSource):
    def __init__(self, settings_cls: type[BaseSettings], service: str) -> None:
        super().__init__(settings_cls)
        directory = conf_dir()
        self._data = _deep_merge(
            _read_yaml(directory / "common.yaml"), _read_yaml(directory / f"{service}.yaml")
        )

    def get_field_value(self, field: Any, field_name: str) -> tuple[Any, str, bool]:
        return self._data.get(field_name), field_name, False

    def __call__(self) -> dict[str, Any]:
        return {k: v for k, v in self._data.items() if k in self.settings_cls.model_fields}


class ServiceSettings(BaseSettings):
    """Base of every service's settings; subclasses set ``service`` and add their own sections."""

    model_config = SettingsConfigDict(env_nested_delimiter="__", extra="ignore")
    service: ClassVar[str] = "common"

    log: LogSettings = LogSettings()
    limits: ImageLimits = ImageLimits()
    database: DatabaseSettings = DatabaseSettings()

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        return (init_settings, env_settings, _YamlSource(settings_cls, cls.service))


class ApiSettings(ServiceSettings):
    """What both HTTP APIs have: a listener, Redis (rate limits), identity and link signing."""

    http: HttpSettings = HttpSettings()
    redis: RedisSettings = RedisSettings()
    auth: AuthSettings = AuthSettings()
    signing: SigningSettings = SigningSettings()
    rate_limit: RateLimitSettings = RateLimitSettings()
