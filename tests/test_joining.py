"""How students join: the LAN address in place of localhost, and a QR code of it made offline."""

import io

import pytest
from PIL import Image
from streamlit.testing.v1 import AppTest

from digitlab import joining
from tests.apptest import APP, TIMEOUT, texts


@pytest.mark.parametrize(
    ("page", "lan", "expected"),
    [
        ("http://localhost:8501/train?x=1", "192.168.1.20", "http://192.168.1.20:8501/"),
        ("http://127.0.0.1:8501/", "10.0.0.5", "http://10.0.0.5:8501/"),
        ("http://[::1]:8600/draw", "10.0.0.5", "http://10.0.0.5:8600/"),
        ("http://0.0.0.0:8501/", "10.0.0.5", "http://10.0.0.5:8501/"),
        ("http://192.168.1.20:8501/wall", "10.0.0.5", "http://192.168.1.20:8501/"),  # already reachable
        ("https://digitlab.school.example/", "10.0.0.5", "https://digitlab.school.example/"),
        ("http://localhost:8501/", None, "http://localhost:8501/"),  # no network: nothing better to say
    ],
)
def test_the_join_address_swaps_a_loopback_host_for_the_lan_one(page, lan, expected):
    assert joining.join_url(page, lan) == expected


def test_only_a_non_loopback_address_is_reachable():
    assert joining.reachable("http://192.168.1.20:8501/")
    assert not joining.reachable("http://localhost:8501/")
    assert not joining.reachable("http://127.0.0.1:8501/")


def test_the_lan_address_is_never_loopback():
    address = joining.lan_address()
    assert address is None or not address.startswith("127.")


def test_the_qr_code_is_a_png_that_differs_with_the_address():
    one, other = joining.qr_png("http://192.168.1.20:8501/"), joining.qr_png("http://192.168.1.21:8501/")
    image = Image.open(io.BytesIO(one))
    assert image.format == "PNG" and image.size[0] == image.size[1] >= 200
    assert one != other


@pytest.mark.slow
def test_home_shows_the_join_address_and_its_qr_code(through_the_router, monkeypatch):
    monkeypatch.setattr(joining, "lan_address", lambda: "192.168.1.20")
    at = AppTest.from_file(APP, default_timeout=TIMEOUT).run()
    assert not at.exception, at.exception
    assert "http://192.168.1.20:8501/" in texts(at.code)
    assert "Join this class" in " ".join(e.label for e in at.expander)
