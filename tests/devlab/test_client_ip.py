"""client_ip(): REMOTE_ADDR unless the peer is a trusted proxy."""

import pytest
from django.test import RequestFactory

from devlab.http import client_ip, network_key

rf = RequestFactory()


def _request(remote, xff=None):
    extra = {"REMOTE_ADDR": remote}
    if xff is not None:
        extra["HTTP_X_FORWARDED_FOR"] = xff
    return rf.get("/", **extra)


def test_without_trusted_proxies_remote_addr_is_used(settings):
    settings.TRUSTED_PROXIES = []
    assert client_ip(_request("203.0.113.7")) == "203.0.113.7"


def test_forwarded_for_from_an_untrusted_peer_is_ignored(settings):
    settings.TRUSTED_PROXIES = []
    assert client_ip(_request("203.0.113.7", "1.2.3.4")) == "203.0.113.7"


def test_trusted_proxy_yields_the_right_most_untrusted_hop(settings):
    settings.TRUSTED_PROXIES = ["10.0.0.0/8"]
    assert client_ip(_request("10.0.0.2", "198.51.100.9, 10.0.0.5")) == "198.51.100.9"


def test_client_cannot_choose_its_ip_through_a_trusted_proxy(settings):
    settings.TRUSTED_PROXIES = ["127.0.0.1"]
    # nginx appends the real peer; the forged value stands to its left.
    assert client_ip(_request("127.0.0.1", "6.6.6.6, 198.51.100.9")) == "198.51.100.9"


def test_trusted_proxy_without_forwarded_for_is_the_client(settings):
    settings.TRUSTED_PROXIES = ["127.0.0.1"]
    assert client_ip(_request("127.0.0.1")) == "127.0.0.1"


def test_malformed_hop_stops_the_walk(settings):
    settings.TRUSTED_PROXIES = ["127.0.0.1"]
    assert client_ip(_request("127.0.0.1", "1.2.3.4, not-an-ip")) == "127.0.0.1"


@pytest.mark.parametrize("remote", ["::1", "2001:db8::1"])
def test_ipv6_addresses_work(settings, remote):
    settings.TRUSTED_PROXIES = ["::1/128"]
    assert client_ip(_request(remote, "2001:db8::42")) == ("2001:db8::42" if remote == "::1" else remote)


@pytest.mark.parametrize(
    ("ip", "key"),
    [
        ("203.0.113.7", "203.0.113.7"),
        ("2001:db8:1:2:3:4:5:6", "2001:db8:1:2::/64"),
        ("2001:DB8:1:2::1", "2001:db8:1:2::/64"),
        ("::ffff:203.0.113.7", "203.0.113.7"),
        ("::1", "::/64"),
        (None, "unknown"),
        ("", "unknown"),
        ("not an ip", "unknown"),
    ],
)
def test_network_key_names_an_ipv4_client_by_address_and_an_ipv6_client_by_its_64(ip, key):
    assert network_key(ip) == key


def test_two_ipv6_addresses_in_different_64s_are_different_clients():
    assert network_key("2001:db8:1:2::1") != network_key("2001:db8:1:3::1")
