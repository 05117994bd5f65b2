"""Where a request comes from: the one place that decides the address every per-address limit
counts (the web chat's flood gate, back-office logins, refused FHIR tokens) and the audit log
records.

`X-Forwarded-For` is written by whoever sends the request: believed only when the connection
comes from one of the hospital's own reverse proxies (GUAHAO_TRUSTED_PROXIES), otherwise a
script would name a new address with every request and never be limited. Run the server
without uvicorn's own proxy handling (`guahao serve` does; `uvicorn --no-proxy-headers`), which
believes the header from 127.0.0.1 whatever this setting says.
"""

from __future__ import annotations

from collections.abc import Sequence
from ipaddress import IPv4Network, IPv6Network, ip_address

from starlette.types import ASGIApp, Receive, Scope, Send

Networks = Sequence[IPv4Network | IPv6Network]


def _trusted(address: str, proxies: Networks) -> bool:
    try:
        found = ip_address(address)
    except ValueError:
        return False
    return any(found in network for network in proxies)


def client_address(peer: str | None, forwarded_for: str | None, proxies: Networks) -> str | None:
    """The address a request comes from. `peer`: the connection's; `forwarded_for`: the
    X-Forwarded-For header. From a trusted proxy, the rightmost address in the header that is
    not itself a trusted proxy (what the hospital's proxy saw; what is left of it, anyone may
    have written); an address that is not one means the proxy is misconfigured: the peer."""
    if peer is None or not forwarded_for or not _trusted(peer, proxies):
        return peer
    hops = [hop.strip() for hop in forwarded_for.split(",")]
    for hop in reversed(hops):
        if not _trusted(hop, proxies):
            try:
                return str(ip_address(hop))
            except ValueError:
                return peer
    return hops[0] or peer


class ClientAddresses:
    """ASGI middleware: the request's client (`request.client.host`) is `client_address`, and
    its scheme the X-Forwarded-Proto of a trusted proxy (links and cookies behind HTTPS)."""

    def __init__(self, app: ASGIApp, proxies: Networks = ()) -> None:
        self.app = app
        self.proxies = tuple(proxies)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] in ("http", "websocket") and self.proxies:
            client = scope.get("client")
            peer = client[0] if client else None
            if peer is not None and _trusted(peer, self.proxies):
                headers: dict[bytes, list[str]] = {b"x-forwarded-for": [], b"x-forwarded-proto": []}
                for name, value in scope["headers"]:
                    if name in headers:  # several headers are one list, in order
                        headers[name].append(value.decode("latin-1"))
                scope = dict(scope)
                forwarded = ",".join(headers[b"x-forwarded-for"])
                scope["client"] = (client_address(peer, forwarded, self.proxies), 0)
                proto = ",".join(headers[b"x-forwarded-proto"]).split(",")[-1].strip().lower()
                if proto in ("http", "https"):
                    ws = scope["type"] == "websocket"
                    scope["scheme"] = {"http": "ws", "https": "wss"}[proto] if ws else proto
        await self.app(scope, receive, send)
