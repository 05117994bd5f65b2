"""Which address a request comes from (bot.addresses): X-Forwarded-For is believed only from
the hospital's own proxies."""

from __future__ import annotations

from ipaddress import ip_network

import pytest

from bot.addresses import client_address

PROXIES = [ip_network("10.0.0.0/8"), ip_network("127.0.0.1/32"), ip_network("::1/128")]


@pytest.mark.parametrize(
    ("peer", "forwarded", "proxies", "expected"),
    [
        ("203.0.113.9", "198.51.100.1", [], "203.0.113.9"),  # no proxies: the connection's
        ("203.0.113.9", "198.51.100.1", PROXIES, "203.0.113.9"),  # not from a proxy
        ("127.0.0.1", "198.51.100.1", [], "127.0.0.1"),  # default: nobody is believed
        ("127.0.0.1", "198.51.100.1", PROXIES, "198.51.100.1"),
        ("127.0.0.1", None, PROXIES, "127.0.0.1"),
        # What the patient's side wrote left of the proxy's entry is not believed.
        ("127.0.0.1", "1.2.3.4, 198.51.100.1", PROXIES, "198.51.100.1"),
        ("127.0.0.1", "198.51.100.1, 10.1.2.3", PROXIES, "198.51.100.1"),  # two proxies
        ("127.0.0.1", "10.9.9.9, 10.1.2.3", PROXIES, "10.9.9.9"),  # all inside
        ("127.0.0.1", "not-an-address", PROXIES, "127.0.0.1"),
        ("::1", "2001:db8::7", PROXIES, "2001:db8::7"),
    ],
)
def test_the_address_a_request_comes_from(
    peer: str, forwarded: str | None, proxies: list[object], expected: str
) -> None:
    assert client_address(peer, forwarded, proxies) == expected  # type: ignore[arg-type]
