"""The fetch behind ``POST /api/v1/ingest/url``: one URL's bytes into a ``ReceivedFile``, SSRF-safe.

Each hop's host is resolved here, every address it resolves to must be public, and the connection
goes to the vetted address (the original name travels as ``Host`` and TLS SNI), so a DNS answer
that changes between the check and the connect cannot point us at an internal service. Redirects
are followed by hand, each target checked the same way. The byte cap is enforced while the body
streams, and the whole fetch is bounded in time.
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
import tempfile
from collections.abc import Callable

import httpx

from shared.errors import UrlNotAllowed, UrlNotFetched
from shared.logging import get_logger
from shared.uploads import SPOOL_BYTES, ReceivedFile, safe_filename

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

    async def fetch(self, url: str) -> ReceivedFile:
        """The body at ``url`` (after at most 3 redirects). The caller closes the file."""
        target = _parse(url)
        timeout = httpx.Timeout(self._timeout_s, connect=min(CONNECT_TIMEOUT_S, self._timeout_s))
        try:
            async with asyncio.timeout(self._timeout_s):
                async with httpx.AsyncClient(timeout=timeout, trust_env=False) as client:
                    for _ in range(MAX_REDIRECTS + 1):
                        received, location = await self._get(client, target)
                        if received is not None:
                            return received
                        target = _parse(location, base=target)
        except TimeoutError as exc:
            raise UrlNotFetched(f"{target.host} did not answer in {self._timeout_s:g} s") from exc
        raise UrlNotFetched(f"more than {MAX_REDIRECTS} redirects", "url-redirects")

    async def _get(
        self, client: httpx.AsyncClient, target: httpx.URL
    ) -> tuple[ReceivedFile | None, str]:
        """One hop: the body, or ``(None, location)`` when the answer is a redirect."""
        address = await self._vetted_address(target)
        pinned = target.copy_with(host=str(address))
        headers = {"Host": target.netloc.decode("ascii"), "Accept-Encoding": "identity"}
        extensions = {"sni_hostname": _host(target)} if target.scheme == "https" else {}
        try:
            request = client.build_request("GET", pinned, headers=headers, extensions=extensions)
            response = await client.send(request, stream=True)
        except httpx.TimeoutException as exc:
            raise UrlNotFetched(f"{target.host} did not answer in {self._timeout_s:g} s") from exc
        except httpx.HTTPError as exc:
            log.info("url unreachable", host=target.host, error=type(exc).__name__)
            raise UrlNotFetched(f"could not connect to {target.host}") from exc
        try:
            if response.status_code in _REDIRECTS and "location" in response.headers:
                return None, response.headers["location"]
            if not response.is_success:
                raise UrlNotFetched(f"the URL answered {response.status_code}", "url-bad-status")
            return await self._receive(response, _filename(target)), ""
        except httpx.HTTPError as exc:
            raise UrlNotFetched(f"{target.host} broke off the transfer") from exc
        finally:
            await response.aclose()

    async def _vetted_address(self, target: httpx.URL) -> IPAddress:
        host = _host(target)
        port = target.port or (443 if target.scheme == "https" else 80)
        try:
            infos = await asyncio.get_running_loop().getaddrinfo(
                host, port, type=socket.SOCK_STREAM
            )
        except (socket.gaierror, UnicodeError) as exc:
            raise UrlNotFetched(f"the host {host} could not be resolved") from exc
        addresses = [ipaddress.ip_address(str(info[4][0]).split("%", 1)[0]) for info in infos]
        if not addresses:
            raise UrlNotFetched(f"the host {host} could not be resolved")
        if not all(map(self._is_allowed, addresses)):
            log.warning("url refused", host=host)
            raise UrlNotAllowed(f"{host} is not a public address; only public hosts are fetched")
        return addresses[0]

    async def _receive(self, response: httpx.Response, filename: str) -> ReceivedFile:
        spool = tempfile.SpooledTemporaryFile(max_size=SPOOL_BYTES)  # noqa: SIM115 (caller closes)
        part = ReceivedFile(filename, spool)
        declared = response.headers.get("content-length", "")
        if declared.isdigit() and int(declared) > self._max_bytes:
            part.size, part.too_large = int(declared), True
            return part
        try:
            async for chunk in response.aiter_raw():
                part.size += len(chunk)
                if part.size > self._max_bytes:  # stop reading: the rest is never fetched
                    part.too_large = True
                    spool.truncate(0)
                    break
                spool.write(chunk)
                part.sha256.update(chunk)
        except BaseException:
            part.close()
            raise
        spool.seek(0)
        return part


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
