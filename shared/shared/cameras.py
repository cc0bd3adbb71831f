"""RTSP cameras and their captures: the types, the address policy and the capture bounds, so
ingestapi (which accepts a capture) and the worker (which runs it) apply the same rules.

A camera's URL carries its credentials: they are stored, because connecting needs them, but never
answered, logged or put in a problem detail. Answers and logs use ``mask_rtsp_url``; the URL
fields are left out of the dataclasses' ``repr``.

Cameras live on local networks, so the address policy is the reverse of URL ingest's: every
address the host resolves to must be inside ``cameras.allowed_networks``, and link-local addresses
(cloud metadata services live there) are refused even when configured. The host is resolved once
and the connection goes to the address that was checked (``PinnedTarget.pinned_url``), so a DNS
answer that changes between the check and the connect cannot move the stream elsewhere.
"""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from enum import StrEnum
from typing import Any
from urllib.parse import SplitResult, unquote, urlsplit

from shared.config import CameraSettings
from shared.domain import normalise_tags
from shared.errors import InvalidInput, NotFound

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network
Resolver = Callable[[str, int], list[str]]

SCHEMES = {"rtsp": 554, "rtsps": 322}
ALWAYS_REFUSED = (ipaddress.ip_network("169.254.0.0/16"), ipaddress.ip_network("fe80::/10"))
MAX_MIN_CHANGE = 2.0  # cosine distance: 0 (same direction) .. 2 (opposite)


class CameraNotFound(NotFound):
    code = "camera-not-found"


class CaptureNotFound(NotFound):
    code = "capture-not-found"


class CaptureState(StrEnum):
    QUEUED = "queued"
    CONNECTING = "connecting"
    CAPTURING = "capturing"
    DONE = "done"
    FAILED = "failed"
    CANCELLED = "cancelled"


FINAL_STATES = frozenset({CaptureState.DONE, CaptureState.FAILED, CaptureState.CANCELLED})


class CaptureMode(StrEnum):
    SINGLE_FRAME = "single_frame"
    INTERVAL = "interval"


@dataclass(frozen=True)
class CaptureParams:
    """What one capture does. In ``single_frame`` mode ``max_frames`` is 1."""

    mode: CaptureMode
    interval_s: float
    max_frames: int
    duration_s: float
    min_change: float
    tags: tuple[str, ...] = ()

    def as_dict(self) -> dict[str, Any]:
        return {
            "mode": self.mode.value,
            "interval_s": self.interval_s,
            "max_frames": self.max_frames,
            "duration_s": self.duration_s,
            "min_change": self.min_change,
            "tags": list(self.tags),
        }

    @classmethod
    def from_dict(cls, stored: Mapping[str, Any]) -> CaptureParams:
        return cls(**{**stored, "mode": CaptureMode(stored["mode"]), "tags": tuple(stored["tags"])})


BUILT_IN_DEFAULTS = CaptureParams(CaptureMode.SINGLE_FRAME, 1.0, 10, 60.0, 0.0).as_dict()
PARAM_NAMES = frozenset(BUILT_IN_DEFAULTS)


@dataclass(frozen=True)
class Camera:
    camera_id: str
    name: str
    rtsp_url: str = field(repr=False)
    defaults: dict[str, Any]
    created_by: str
    created_at: int
    updated_at: int

    @property
    def masked_url(self) -> str:
        return mask_rtsp_url(self.rtsp_url)


@dataclass(frozen=True)
class Capture:
    """A capture; its id is also its job's id. ``camera_id`` is None for an admin's ad-hoc URL
    and once its camera is deleted; ``rtsp_url`` is what the worker connects to either way."""

    capture_id: str
    camera_id: str | None
    rtsp_url: str = field(repr=False)
    params: CaptureParams
    state: CaptureState = CaptureState.QUEUED
    frames_kept: int = 0
    frames_skipped: int = 0
    reconnects: int = 0
    error: str | None = None
    cancel_requested: bool = False
    created_by: str = ""
    created_at: int = 0
    updated_at: int = 0
    finished_at: int | None = None

    @property
    def masked_url(self) -> str:
        return mask_rtsp_url(self.rtsp_url)


def mask_rtsp_url(url: str) -> str:
    """``rtsp://user:***@host:port/path``: the password hidden; a URL without credentials as is."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return "rtsp://***"
    userinfo, at, hostport = parts.netloc.rpartition("@")
    if not at:
        return url
    user = userinfo.split(":", 1)[0]
    return parts._replace(netloc=f"{user}:***@{hostport}").geturl()


def redact(text: str, url: str) -> str:
    """``text`` (an error message) with the password of ``url`` masked wherever it appears."""
    try:
        password = urlsplit(url).password
    except ValueError:
        return text
    for secret in {password, unquote(password)} if password else ():
        text = text.replace(secret, "***")
    return text


@dataclass(frozen=True)
class PinnedTarget:
    """A camera URL that passed the policy: ``pinned_url`` is the URL with its host replaced by
    the address that was checked (credentials kept), the one to connect to."""

    host: str
    port: int
    address: str
    pinned_url: str = field(repr=False)

    @property
    def masked_url(self) -> str:
        return mask_rtsp_url(self.pinned_url)


def allowed_networks(settings: CameraSettings) -> list[IPNetwork]:
    return [ipaddress.ip_network(network, strict=False) for network in settings.allowed_networks]


def resolve_host(host: str, port: int) -> list[str]:
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (OSError, UnicodeError, ValueError) as exc:  # gaierror is an OSError
        raise InvalidInput(f"the camera host {host} could not be resolved") from exc
    return [str(info[4][0]) for info in infos]


def check_camera_url(
    url: str, allowed: Sequence[IPNetwork], resolve: Resolver = resolve_host
) -> PinnedTarget:
    """The pinned target of ``url``, or ``InvalidInput`` (whose detail names the host, never
    the credentials) when the scheme or any resolved address is not allowed."""
    parts, host, port = _parse(url)
    try:
        addresses = [_address(host)]
    except ValueError:
        addresses = [_address(found) for found in resolve(host, port)]
    if not addresses:
        raise InvalidInput(f"the camera host {host} could not be resolved")
    for address in addresses:
        if not _allowed(address, allowed):
            raise InvalidInput(
                f"{host} is not on an allowed camera network (cameras.allowed_networks); "
                "link-local addresses never are"
            )
    address = _plain(addresses[0])
    shown = f"[{address}]" if address.version == 6 else str(address)
    userinfo, at, _ = parts.netloc.rpartition("@")
    pinned = parts._replace(netloc=f"{userinfo}{at}{shown}:{port}").geturl()
    return PinnedTarget(host, port, str(address), pinned)


def _parse(url: str) -> tuple[SplitResult, str, int]:
    try:
        parts = urlsplit(url.strip())
        port = parts.port
    except ValueError as exc:
        raise InvalidInput("the camera URL is malformed") from exc
    if parts.scheme.lower() not in SCHEMES:
        raise InvalidInput("a camera URL is rtsp:// or rtsps://")
    if not parts.hostname or port == 0:
        raise InvalidInput("the camera URL has no host or port 0")
    if "@" in parts.path + parts.query + parts.fragment:
        # a password with an unencoded '/' ends the host early and would show in the path
        raise InvalidInput("the camera URL's credentials must be percent-encoded")
    return parts, parts.hostname, port or SCHEMES[parts.scheme.lower()]


def _address(text: str) -> IPAddress:
    """An address without its IPv6 zone (``fe80::1%eth0``): the zone picks an interface, and
    the pinned URL must name the address only."""
    return ipaddress.ip_address(text.split("%", 1)[0])


def _plain(address: IPAddress) -> IPAddress:
    """An IPv4-mapped IPv6 address is the IPv4 address it reaches."""
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return address.ipv4_mapped
    return address


def _allowed(address: IPAddress, allowed: Sequence[IPNetwork]) -> bool:
    address = _plain(address)
    if address.is_link_local or address.is_multicast or address.is_unspecified:
        return False
    if any(address in network for network in ALWAYS_REFUSED):
        return False
    return any(address.version == net.version and address in net for net in allowed)


def resolve_params(
    requested: Mapping[str, Any], defaults: Mapping[str, Any], settings: CameraSettings
) -> CaptureParams:
    """A capture's parameters: what the request set, else the camera's defaults, else the
    built-ins; then checked against the bounds (``InvalidInput`` says which and why)."""
    merged = {**BUILT_IN_DEFAULTS}
    for given in (defaults, requested):
        merged.update({name: value for name, value in given.items() if value is not None})
    params = _checked(merged, settings)
    if params.mode is CaptureMode.SINGLE_FRAME:
        return replace(params, max_frames=1)
    return params


def check_defaults(defaults: Mapping[str, Any], settings: CameraSettings) -> dict[str, Any]:
    """A camera's defaults as stored: only the parameters given, each within the bounds (an
    interval too, whatever the mode: a request may switch to interval mode)."""
    given = {name: value for name, value in defaults.items() if value is not None}
    resolved = _checked({**BUILT_IN_DEFAULTS, **given}, settings).as_dict()
    _checked({**resolved, "mode": CaptureMode.INTERVAL.value}, settings)
    return {name: resolved[name] for name in given}


def _checked(merged: dict[str, Any], settings: CameraSettings) -> CaptureParams:
    if unknown := sorted(set(merged) - PARAM_NAMES):
        raise InvalidInput(f"unknown capture parameter {unknown[0]!r}")
    try:
        mode = CaptureMode(merged["mode"])
        interval_s = float(merged["interval_s"])
        max_frames = int(merged["max_frames"])
        duration_s = float(merged["duration_s"])
        min_change = float(merged["min_change"])
    except (TypeError, ValueError) as exc:
        raise InvalidInput("mode is single_frame or interval; the others are numbers") from exc
    floor = 1 / settings.fps_ceiling
    if mode is CaptureMode.INTERVAL and interval_s < floor:
        raise InvalidInput(
            f"interval_s must be at least {floor:g} s (at most {settings.fps_ceiling:g} "
            "frames per second)"
        )
    if not 0 < duration_s <= settings.max_duration_s:
        raise InvalidInput(f"duration_s must be more than 0 and at most {settings.max_duration_s}")
    if not 1 <= max_frames <= settings.max_frames:
        raise InvalidInput(f"max_frames must be between 1 and {settings.max_frames}")
    if not 0 <= min_change <= MAX_MIN_CHANGE:
        raise InvalidInput(f"min_change is a cosine distance, between 0 and {MAX_MIN_CHANGE:g}")
    tags = tuple(normalise_tags(merged["tags"]))
    return CaptureParams(mode, interval_s, max_frames, duration_s, min_change, tags)
