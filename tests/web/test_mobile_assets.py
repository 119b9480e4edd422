"""What makes the UI a phone app: every page links the web app manifest and sets the theme colour, the
manifest names the app and its icons (PNG files of the sizes it says), and the navigation folds into a
menu below the lg breakpoint."""
import json
import struct
from urllib.parse import urljoin


def png_size(data: bytes) -> tuple[int, int]:
    assert data[:8] == b"\x89PNG\r\n\x1a\n" and data[12:16] == b"IHDR"
    return struct.unpack(">II", data[16:24])


def test_the_manifest_names_the_app_and_its_icons(client):
    page = client.get("/login").get_data(as_text=True)
    assert '<link rel="manifest" href="/static/manifest.webmanifest">' in page
    assert '<meta name="theme-color" content="#9e1b1b">' in page and 'name="viewport"' in page
    response = client.get("/static/manifest.webmanifest")
    assert response.status_code == 200 and response.mimetype == "application/manifest+json"
    manifest = json.loads(response.get_data(as_text=True))
    assert manifest["name"] == "整改流程引擎" and manifest["theme_color"] == "#9e1b1b"
    assert urljoin("/static/manifest.webmanifest", manifest["start_url"]) == "/inbox"
    assert urljoin("/static/manifest.webmanifest", manifest["scope"]) == "/"
    sizes = set()
    for icon in manifest["icons"]:
        image = client.get(urljoin("/static/manifest.webmanifest", icon["src"]))
        assert image.status_code == 200 and image.mimetype == icon["type"] == "image/png"
        width, height = png_size(image.get_data())
        assert icon["sizes"] == f"{width}x{height}"
        sizes.add(width)
    assert {192, 512} <= sizes


def test_the_navigation_folds_into_a_menu(client, auth):
    auth.login("张伟")
    page = client.get("/inbox").get_data(as_text=True)
    assert "navbar-expand-lg" in page and 'class="collapse navbar-collapse" id="main-nav"' in page
    assert 'aria-controls="main-nav" aria-expanded="false"' in page and ">菜单<" in page
    assert '/static/js/nav.js' in page
    assert client.get("/static/js/nav.js").status_code == 200
