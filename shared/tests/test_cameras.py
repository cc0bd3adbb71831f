"""The camera rules ingestapi and the worker share: credentials masked, the address policy (local
networks only, link-local never, the checked address pinned), the capture bounds and defaults."""

from __future__ import annotations

import ipaddress

import pytest

from shared.cameras import (
    CaptureMode,
    Resolver,
    allowed_networks,
    check_camera_url,
    check_defaults,
    mask_rtsp_url,
    redact,
    resolve_params,
)
from shared.config import CameraSettings
from shared.errors import InvalidInput

SETTINGS = CameraSettings()
DEFAULT_NETWORKS = allowed_networks(SETTINGS)
EVERYWHERE = [ipaddress.ip_network("0.0.0.0/0"), ipaddress.ip_network("::/0")]


def resolving_to(*addresses: str) -> Resolver:
    def resolve(host: str, port: int) -> list[str]:
        return list(addresses)

    return resolve


@pytest.mark.parametrize(
    ("url", "masked"),
    [
        ("rtsp://user:s3cret@127.0.0.1:8554/cam", "rtsp://user:***@127.0.0.1:8554/cam"),
        ("rtsp://user:p%40ss@cam.local/live?x=1", "rtsp://user:***@cam.local/live?x=1"),
        ("rtsp://token@cam.local/live", "rtsp://token:***@cam.local/live"),
        ("rtsp://127.0.0.1:8554/cam", "rtsp://127.0.0.1:8554/cam"),
        ("rtsps://[::1]:322/cam", "rtsps://[::1]:322/cam"),
    ],
)
def test_a_url_is_masked_down_to_its_user(url: str, masked: str) -> None:
    assert mask_rtsp_url(url) == masked


def test_an_error_naming_the_password_is_redacted_encoded_or_not() -> None:
    url = "rtsp://user:p%40ss@cam.local/live"
    said = "could not open rtsp://user:p%40ss@cam.local/live (password p@ss refused)"
    assert "p@ss" not in redact(said, url) and "p%40ss" not in redact(said, url)
    assert redact("timed out", "rtsp://cam.local/live") == "timed out"


def test_loopback_is_allowed_and_pinned_with_its_credentials() -> None:
    target = check_camera_url("rtsp://user:s3cret@127.0.0.1:8554/cam", DEFAULT_NETWORKS)
    assert (target.host, target.port, target.address) == ("127.0.0.1", 8554, "127.0.0.1")
    assert target.pinned_url == "rtsp://user:s3cret@127.0.0.1:8554/cam"
    assert "s3cret" not in repr(target) and "s3cret" not in target.masked_url


def test_an_ipv6_zone_is_left_out_of_the_pinned_url() -> None:
    assert check_camera_url("rtsp://[::1%25lo]/cam", DEFAULT_NETWORKS).pinned_url == (
        "rtsp://[::1]:554/cam"
    )
    resolved = check_camera_url("rtsp://cam.lan/x", DEFAULT_NETWORKS, resolving_to("fd00::7%eth0"))
    assert resolved.address == "fd00::7"


def test_a_hostname_is_resolved_once_and_replaced_by_the_checked_address() -> None:
    target = check_camera_url(
        "rtsp://u:pw@cam.lan/live", DEFAULT_NETWORKS, resolving_to("192.168.1.20")
    )
    assert target.pinned_url == "rtsp://u:pw@192.168.1.20:554/live"
    ipv6 = check_camera_url("rtsps://cam.lan/live", DEFAULT_NETWORKS, resolving_to("fd00::7"))
    assert ipv6.pinned_url == "rtsps://[fd00::7]:322/live"


@pytest.mark.parametrize(
    "url",
    [
        "rtsp://169.254.169.254/latest",
        "rtsp://[fe80::1]/cam",
        "rtsp://[::ffff:169.254.169.254]/cam",
        "rtsp://0.0.0.0/cam",
        "rtsp://224.0.0.1/cam",
    ],
)
def test_link_local_and_meaningless_addresses_are_refused_even_when_configured(url: str) -> None:
    with pytest.raises(InvalidInput):
        check_camera_url(url, EVERYWHERE)


def test_a_public_address_is_refused_by_default_and_allowed_when_configured() -> None:
    with pytest.raises(InvalidInput, match="8.8.8.8 is not on an allowed camera network"):
        check_camera_url("rtsp://8.8.8.8/cam", DEFAULT_NETWORKS)
    assert check_camera_url("rtsp://8.8.8.8/cam", EVERYWHERE).address == "8.8.8.8"


@pytest.mark.parametrize(
    "addresses", [("169.254.169.254",), ("8.8.8.8",), ("192.168.1.20", "8.8.8.8")]
)
def test_a_hostname_with_any_refused_address_is_refused(addresses: tuple[str, ...]) -> None:
    with pytest.raises(InvalidInput) as refused:
        check_camera_url(
            "rtsp://admin:s3cret@cam.lan/live", DEFAULT_NETWORKS, resolving_to(*addresses)
        )
    assert "cam.lan" in refused.value.detail and "s3cret" not in refused.value.detail


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1/cam",
        "file:///etc/passwd",
        "rtmp://127.0.0.1/live",
        "127.0.0.1:8554/cam",
        "rtsp:///cam",
        "rtsp://127.0.0.1:99999/cam",
        "rtsp://127.0.0.1:0/cam",
        "rtsp://admin:s3/cret@127.0.0.1/cam",
    ],
)
def test_anything_but_a_well_formed_rtsp_url_is_refused_without_its_secret(url: str) -> None:
    with pytest.raises(InvalidInput) as refused:
        check_camera_url(url, EVERYWHERE)
    assert "s3" not in refused.value.detail


def test_an_unresolvable_host_is_refused() -> None:
    with pytest.raises(InvalidInput, match="could not be resolved"):
        check_camera_url("rtsp://cam.invalid/live", DEFAULT_NETWORKS, resolving_to())


def test_unset_parameters_come_from_the_camera_then_the_built_ins() -> None:
    params = resolve_params(
        {"mode": "interval", "tags": ["Door"]}, {"interval_s": 2, "max_frames": 5}, SETTINGS
    )
    assert params.as_dict() == {
        "mode": "interval",
        "interval_s": 2.0,
        "max_frames": 5,
        "duration_s": 60.0,
        "min_change": 0.0,
        "tags": ["door"],
    }
    assert resolve_params({}, {}, SETTINGS).mode is CaptureMode.SINGLE_FRAME


def test_a_single_frame_capture_keeps_one_frame_whatever_the_defaults_say() -> None:
    assert resolve_params({"mode": "single_frame"}, {"max_frames": 50}, SETTINGS).max_frames == 1


@pytest.mark.parametrize(
    ("requested", "says"),
    [
        ({"mode": "interval", "interval_s": 0.2}, "interval_s must be at least 0.5 s"),
        ({"duration_s": 3601}, "duration_s must be more than 0 and at most 3600"),
        ({"duration_s": 0}, "duration_s must be more than 0"),
        ({"max_frames": 1001}, "max_frames must be between 1 and 1000"),
        ({"max_frames": 0}, "max_frames must be between 1 and 1000"),
        ({"min_change": 2.5}, "min_change is a cosine distance, between 0 and 2"),
        ({"min_change": -0.1}, "min_change is a cosine distance"),
        ({"mode": "video"}, "mode is single_frame or interval"),
        ({"tags": ['no"quotes']}, "is not allowed"),
    ],
)
def test_parameters_out_of_bounds_are_refused_with_the_bound(
    requested: dict[str, object], says: str
) -> None:
    with pytest.raises(InvalidInput, match=says):
        resolve_params(requested, {}, SETTINGS)


def test_the_interval_floor_follows_the_fps_ceiling() -> None:
    slow = CameraSettings(fps_ceiling=0.25)
    with pytest.raises(InvalidInput, match="at least 4 s"):
        resolve_params({"mode": "interval", "interval_s": 3}, {}, slow)
    assert resolve_params({"mode": "interval", "interval_s": 4}, {}, slow).interval_s == 4


def test_camera_defaults_keep_only_what_was_given_and_are_bounded() -> None:
    assert check_defaults({"mode": "interval", "max_frames": 20, "tags": None}, SETTINGS) == {
        "mode": "interval",
        "max_frames": 20,
    }
    for mode in ("interval", "single_frame"):  # a request may switch the mode to interval
        with pytest.raises(InvalidInput, match="interval_s must be at least"):
            check_defaults({"mode": mode, "interval_s": 0.1}, SETTINGS)
    with pytest.raises(InvalidInput, match="unknown capture parameter 'fps'"):
        check_defaults({"fps": 30}, SETTINGS)


def test_settings_refuse_a_network_that_is_not_one() -> None:
    with pytest.raises(ValueError, match="not-a-network"):
        CameraSettings(allowed_networks=["not-a-network"])
