"""Which hosts a webhook may reach: by default only public ones (an SSRF guard, as Gitea's
webhook ALLOWED_HOST_LIST "external").

A webhook URL whose host is, or resolves to, a loopback, private, link-local, multicast,
reserved, shared (100.64/10), site-local or unspecified address - IPv4 or IPv6, including an
IPv4 address inside an IPv6 one (::ffff:127.0.0.1, 6to4, Teredo, NAT64) - or that is named
`localhost` / `*.localhost`, is refused twice: when it is saved (`check_url`: a name that does
not resolve then is accepted, the host may be down) and when it is sent (`GuardedTransport`:
the name is resolved, every address checked, and the connection made to a checked address, so
a name that resolves to a public address at save time and a private one at send time, DNS
rebinding, is refused on the address actually connected to).

Operators let internal receivers through with `HostPolicy` (settings `webhook_allow_private`,
`webhook_allowed_hosts`: host names or CIDR networks)."""

from __future__ import annotations

import ipaddress
import logging
import socket
from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING

import httpx

from matcher.errors import BlockedHostError, ValidationError

if TYPE_CHECKING:
    from matcher.settings import Settings

logger = logging.getLogger(__name__)

Address = ipaddress.IPv4Address | ipaddress.IPv6Address
Network = ipaddress.IPv4Network | ipaddress.IPv6Network

_NAT64 = ipaddress.IPv6Network("64:ff9b::/96")
_SHARED = ipaddress.IPv4Network("100.64.0.0/10")  # carrier-grade NAT: neither private nor global


def _embedded_v4(ip: ipaddress.IPv6Address) -> tuple[ipaddress.IPv4Address | None, bool]:
    """The IPv4 address inside `ip`, and whether `ip` merely writes it (IPv4-mapped, NAT64:
    judged by it alone) rather than tunnels to it (6to4, Teredo: judged by both)."""
    if ip.ipv4_mapped is not None:
        return ip.ipv4_mapped, True
    if ip in _NAT64:
        return ipaddress.IPv4Address(int(ip) & 0xFFFF_FFFF), True
    if ip.sixtofour is not None:
        return ip.sixtofour, False
    if ip.teredo is not None:
        return ip.teredo[1], False
    return None, False


def internal_kind(ip: Address) -> str | None:
    """What makes `ip` internal ("loopback", "private", ...), None for a public address."""
    if isinstance(ip, ipaddress.IPv6Address):
        inner, written = _embedded_v4(ip)
        if inner is not None and (written or internal_kind(inner) is not None):
            return internal_kind(inner)
        if ip.is_site_local:
            return "site-local"
    checks = (
        ("unspecified", ip.is_unspecified),
        ("loopback", ip.is_loopback),
        ("link-local", ip.is_link_local),
        ("multicast", ip.is_multicast),
        ("private", ip.is_private),
        ("reserved", ip.is_reserved),
        ("shared (carrier-grade NAT)", isinstance(ip, ipaddress.IPv4Address) and ip in _SHARED),
    )
    for kind, hit in checks:
        if hit:
            return kind
    return None if ip.is_global else "non-public"


def _numeric(host: str) -> Address | None:
    """The address a host written as a number stands for (also 2130706433, 0x7f.1, 127.1, as
    the C library reads them), None for a name. Never asks DNS."""
    try:
        return ipaddress.ip_address(host)
    except ValueError:
        pass
    try:
        infos = socket.getaddrinfo(host, None, flags=socket.AI_NUMERICHOST)
    except (OSError, UnicodeError, ValueError):
        return None
    return ipaddress.ip_address(infos[0][4][0]) if infos else None


def _is_localhost(host: str) -> bool:
    return host == "localhost" or host.endswith(".localhost")


@dataclass(frozen=True)
class HostPolicy:
    """Default: public hosts only. `allow_private` lets every host through; `allowed_hosts`
    lists host names (exact, any case) and CIDR networks let through even when internal."""

    allow_private: bool = False
    allowed_hosts: tuple[str, ...] = ()

    @classmethod
    def from_settings(cls, settings: Settings) -> HostPolicy:
        return cls(settings.webhook_allow_private, tuple(settings.webhook_allowed_hosts))

    def _networks(self) -> list[Network]:
        nets: list[Network] = []
        for entry in self.allowed_hosts:
            try:
                nets.append(ipaddress.ip_network(entry.strip(), strict=False))
            except ValueError:
                continue
        return nets

    def _names(self) -> set[str]:
        return {e.strip().lower().rstrip(".") for e in self.allowed_hosts if e.strip()}

    def name_allowed(self, host: str) -> bool:
        return self.allow_private or _normal(host) in self._names()

    def refusal(self, ip: Address) -> str | None:
        """What makes `ip` one not to reach ("loopback", ...; None: it may be reached)."""
        if self.allow_private:
            return None
        kind = internal_kind(ip)
        if kind is None or any(ip in net for net in self._networks() if ip.version == net.version):
            return None
        return kind


def _normal(host: str) -> str:
    return host.strip().strip("[]").lower().rstrip(".")


def url_host(url: str) -> tuple[str, int]:
    """The host (ASCII, IDNA-encoded; as httpx, which sends, reads it) and port of an http(s)
    URL; ValidationError when it has none."""
    try:
        parsed = httpx.URL(url)
        host = parsed.raw_host.decode("ascii")
    except (httpx.InvalidURL, UnicodeError, ValueError) as exc:
        raise ValidationError(f"is not a valid URL ({exc})", field="notify_to") from None
    if parsed.scheme not in ("http", "https") or not host:
        raise ValidationError("a webhook URL is http:// or https:// with a host", field="notify_to")
    return host, parsed.port or (443 if parsed.scheme == "https" else 80)


def _resolve(host: str, port: int) -> list[Address]:
    infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    seen: dict[Address, None] = {}
    for info in infos:
        raw = str(info[4][0]).split("%", 1)[0]  # drop an IPv6 zone id
        seen.setdefault(ipaddress.ip_address(raw), None)
    return list(seen)


_OPERATOR_HINT = (
    " (an operator can allow internal receivers: MATCHER_WEBHOOK_ALLOW_PRIVATE or"
    " MATCHER_WEBHOOK_ALLOWED_HOSTS)"
)


def _refuse(host: str, why: str, field: str | None, reveal: bool) -> BlockedHostError:
    """The refusal; the settings that would let it through are named only when `reveal`
    (the reader is the operator: the log, the outbox, `matcher notify run`), never to a
    person saving a URL (the API's 422, the page's form)."""
    return BlockedHostError(
        f"the webhook host {host} {why}: webhooks may reach only public addresses"
        + (_OPERATOR_HINT if reveal else ""),
        field=field,
    )


def _check_addresses(
    host: str,
    addresses: Iterable[Address],
    policy: HostPolicy,
    field: str | None,
    reveal: bool,
) -> None:
    """BlockedHostError for the first address `policy` refuses. The address a name resolves
    to, and the settings that would allow it, are named only when `reveal` (at send time, to
    the operator: the outbox and the log): a person saving a URL learns that the name is
    internal, not what the service's DNS says nor how the service is configured."""
    for ip in addresses:
        kind = policy.refusal(ip)
        if kind is None:
            continue
        if str(ip) == host:
            raise _refuse(host, f"is a {kind} address", field, reveal)
        shown = f"{ip}, a" if reveal else "a"
        raise _refuse(host, f"resolves to {shown} {kind} address", field, reveal)


def check_url(
    url: str, policy: HostPolicy, *, field: str | None = "notify_to", reveal: bool = False
) -> None:
    """At save time: BlockedHostError when the URL's host is internal or resolves to an
    internal address (named in the message, with the settings that would allow it, when
    `reveal`: the reader is the operator). A name that does not resolve now
    is accepted (checked again at send)."""
    host, port = url_host(url)
    name = _normal(host)
    if policy.name_allowed(name):
        return
    if _is_localhost(name):
        raise _refuse(host, "is a loopback name", field, reveal)
    literal = _numeric(name)
    if literal is not None:
        _check_addresses(name, [literal], policy, field, reveal)
        return
    try:
        addresses = _resolve(name, port)
    except (OSError, UnicodeError, ValueError):
        return  # the host may be down or its name not yet published: checked again at send
    _check_addresses(name, addresses, policy, field, reveal)


def check_address(address: str | None, policy: HostPolicy) -> None:
    """`check_url` for an alert address that is a webhook URL (an e-mail address, or none,
    passes): the saved-need routes call it, off the event loop (it may ask DNS)."""
    if address and address.strip().lower().startswith(("http://", "https://")):
        check_url(address.strip(), policy, field="notify_to")


def connectable(host: str, port: int, policy: HostPolicy) -> list[Address]:
    """At send time: the addresses of `host` it may connect to, all checked (BlockedHostError
    when any is internal: a name that answers both ways is not trusted); httpx.ConnectError
    when it does not resolve."""
    name = _normal(host)
    allowed_name = policy.name_allowed(name)
    if _is_localhost(name) and not allowed_name:
        raise _refuse(host, "is a loopback name", None, True)
    literal = _numeric(name)
    if literal is not None:
        addresses = [literal]
    else:
        try:
            addresses = _resolve(name, port)
        except (OSError, UnicodeError, ValueError) as exc:
            raise httpx.ConnectError(f"cannot resolve {host}: {exc}") from exc
        if not addresses:
            raise httpx.ConnectError(f"{host} has no address")
    if not allowed_name:
        _check_addresses(name, addresses, policy, None, True)
    return addresses


class GuardedTransport(httpx.HTTPTransport):
    """An httpx transport that resolves the request's host itself, refuses it when any of its
    addresses is internal (BlockedHostError) and connects to a checked address (the request
    keeps its Host header, and for https its name for SNI and certificate checks): what was
    checked is what is connected to, whatever DNS answers a moment later."""

    def __init__(self, policy: HostPolicy, **kwargs: object) -> None:
        super().__init__(**kwargs)  # type: ignore[arg-type]
        self.policy = policy

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        original = request.url
        host = original.raw_host.decode("ascii")
        port = original.port or (443 if original.scheme == "https" else 80)
        addresses = connectable(host, port, self.policy)
        if original.scheme == "https" and _numeric(_normal(host)) is None:
            request.extensions = {**request.extensions, "sni_hostname": _normal(host)}
        last: httpx.ConnectError | None = None
        try:
            for ip in addresses:
                request.url = original.copy_with(host=str(ip))
                try:
                    return super().handle_request(request)
                except httpx.ConnectError as exc:
                    last = exc
        finally:
            request.url = original
        assert last is not None
        raise last


def guarded_client(
    policy: HostPolicy, *, timeout: float, transport: httpx.BaseTransport | None = None
) -> httpx.Client:
    """The HTTP client webhooks are POSTed with: no redirects followed, connected through
    `GuardedTransport(policy)` (`transport`: tests' own, in its place)."""
    return httpx.Client(
        timeout=timeout,
        follow_redirects=False,
        transport=transport or GuardedTransport(policy),
    )
