"""The fetch behind ``POST /api/v1/ingest/url``: one URL's bytes into a ``ReceivedFile``, SSRF-safe.

Each hop's host is resolved here, every address it resolves to must be public, and the connection
goes to the vetted address (the original name travels as ``Host`` and TLS SNI), so a DNS answer
that changes between the check and the connect cannot point us at an internal service. Redirects
are followed by hand, each target checked the same way. The byte cap is enforced while the body
streams, and the whole fetch is bounded in time: every hop and every read gets only what is left
of one deadline, so a server that drips bytes cannot hold the fetch past it.
"""

from __future__ import annotations

import ipaddress
import socket
import time
from collections.abc import Callable

import httpx

from shared.errors import UrlNotAllowed, UrlNotFetched
from shared.logging import get_logger
from shared.spool import ReceivedFile, safe_filename

log = get_logger(__name__)

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
MAX_REDIRECTS = 3
CONNECT_TIMEOUT_S = 5.0
_REDIRECTS = {301, 302, 303, 307, 308}
_NAT64 = ipaddress.IPv6Network("64:ff9b::/96")


def is_public_address(address: IPAddress) -> bool:
    """True only for a globally routable unicast address, IPv4 forms inside IPv6 included."""
    if isinstance(address, ipaddress.IPv6Address):
        embedded = address.ipv4_mapped or address.sixtofour
        if embedded is None and address in _NAT64:
            embedded = ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
        if embedded is not None:  # IPv4 mapped, 6to4 or NAT64: it reaches the IPv4 address
            return is_public_address(embedded)
    return address.is_global and not (
        address.is_loopback
        or address.is_private
        or address.is_link_local
        or address.is_multicast
        or address.is_reserved
        or address.is_unspecified
    )


def _any_address(_: IPAddress) -> bool:
    return True


class UrlFetcher:
    def __init__(
        self,
        max_bytes: int,
        timeout_s: float,
        allow_private: bool = False,
        is_allowed: Callable[[IPAddress], bool] | None = None,
    ) -> None:
        """``is_allowed`` replaces the address policy (tests); ``allow_private`` lifts it."""
        self._max_bytes = max_bytes
        self._timeout_s = timeout_s
        self._is_allowed = is_allowed or (_any_address if allow_private else is_public_address)

    def fetch(self, url: str) -> ReceivedFile:
        """The body at ``url`` (after at most 3 redirects). The caller closes the file."""
        target = _parse(url)
        deadline = _Deadline(self._timeout_s, target)
        with httpx.Client(trust_env=False) as client:
            for _ in range(MAX_REDIRECTS + 1):
                received, location = self._get(client, target, deadline)
                if received is not None:
                    return received
                target = _parse(location, base=target)
                deadline.host = target.host
        raise UrlNotFetched(f"more than {MAX_REDIRECTS} redirects", "url-redirects")

    def _get(
        self, client: httpx.Client, target: httpx.URL, deadline: _Deadline
    ) -> tuple[ReceivedFile | None, str]:
        """One hop: the body, or ``(None, location)`` when the answer is a redirect."""
        address = self._vetted_address(target)
        pinned = target.copy_with(host=str(address))
        headers = {"Host": target.netloc.decode("ascii"), "Accept-Encoding": "identity"}
        extensions: dict[str, object] = {"timeout": deadline.timeouts()}
        if target.scheme == "https":
            extensions["sni_hostname"] = _host(target)
        try:
            request = client.build_request("GET", pinned, headers=headers, extensions=extensions)
            response = client.send(request, stream=True)
        except httpx.TimeoutException as exc:
            raise deadline.expired() from exc
        except httpx.HTTPError as exc:
            log.info("url unreachable", host=target.host, error=type(exc).__name__)
            raise UrlNotFetched(f"could not connect to {target.host}") from exc
        try:
            if response.status_code in _REDIRECTS and "location" in response.headers:
                return None, response.headers["location"]
            if not response.is_success:
                raise UrlNotFetched(f"the URL answered {response.status_code}", "url-bad-status")
            return self._receive(response, _filename(target), deadline), ""
        except httpx.TimeoutException as exc:
            raise deadline.expired() from exc
        except httpx.HTTPError as exc:
            raise UrlNotFetched(f"{target.host} broke off the transfer") from exc
        finally:
            response.close()

    def _vetted_address(self, target: httpx.URL) -> IPAddress:
        host = _host(target)
        port = target.port or (443 if target.scheme == "https" else 80)
        try:
            infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
        except (socket.gaierror, UnicodeError) as exc:
            raise UrlNotFetched(f"the host {host} could not be resolved") from exc
        addresses = [ipaddress.ip_address(str(info[4][0]).split("%", 1)[0]) for info in infos]
        if not addresses:
            raise UrlNotFetched(f"the host {host} could not be resolved")
        if not all(map(self._is_allowed, addresses)):
            log.warning("url refused", host=host)
            raise UrlNotAllowed(f"{host} is not a public address; only public hosts are fetched")
        return addresses[0]

    def _receive(
        self, response: httpx.Response, filename: str, deadline: _Deadline
    ) -> ReceivedFile:
        part = ReceivedFile(filename, self._max_bytes)
        declared = response.headers.get("content-length", "")
        if declared.isdigit() and int(declared) > self._max_bytes:
            part.refuse(int(declared))  # never fetched
            return part
        try:
            for chunk in response.iter_raw():
                deadline.check()
                if not part.write(chunk):
                    break  # over the cap: stop reading, the rest is never fetched
        except BaseException:
            part.close()
            raise
        part.rewind()
        return part


class _Deadline:
    """One time budget for a whole fetch, redirects and every read included."""

    def __init__(self, seconds: float, target: httpx.URL) -> None:
        self.seconds = seconds
        self.host = target.host
        self._end = time.monotonic() + seconds

    def left(self) -> float:
        return self._end - time.monotonic()

    def check(self) -> None:
        if self.left() <= 0:
            raise self.expired()

    def timeouts(self) -> dict[str, float]:
        """httpx's per-operation timeouts for the next hop: no more than what is left."""
        self.check()
        left = self.left()
        return {"connect": min(CONNECT_TIMEOUT_S, left), "read": left, "write": left, "pool": left}

    def expired(self) -> UrlNotFetched:
        return UrlNotFetched(f"{self.host} did not answer in {self.seconds:g} s")


def _parse(url: str, base: httpx.URL | None = None) -> httpx.URL:
    try:
        target = base.join(url) if base is not None else httpx.URL(url.strip())
    except (httpx.InvalidURL, TypeError, ValueError) as exc:
        raise UrlNotAllowed("the URL is malformed") from exc
    if target.scheme not in ("http", "https"):
        raise UrlNotAllowed("only http and https URLs are fetched")
    if target.userinfo:
        raise UrlNotAllowed("credentials in URLs are not accepted")
    if not target.host:
        raise UrlNotAllowed("the URL has no host")
    return target.copy_with(fragment=None)


def _host(target: httpx.URL) -> str:
    """The host as DNS and TLS see it (IDNA-encoded)."""
    return target.raw_host.decode("ascii")


def _filename(target: httpx.URL) -> str:
    return safe_filename(str(target.path).rsplit("/", 1)[-1])
