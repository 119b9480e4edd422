"""Logging in through the real login form in web tests (CSRF token included)."""
import re

from helpers import PASSWORD


def csrf_token(client, url: str) -> str:
    page = client.get(url)
    match = re.search(r'name="csrf_token" value="([^"]+)"', page.get_data(as_text=True))
    assert match, f"no CSRF token on {url} ({page.status_code})"
    return match.group(1)


class Auth:
    def __init__(self, client):
        self.client = client

    def login(self, name, password=PASSWORD):
        return self.client.post("/login", data={"name": name, "password": password,
                                                "csrf_token": csrf_token(self.client, "/login")})

    def logout(self):
        return self.client.post("/logout", data={"csrf_token": csrf_token(self.client, "/inbox")})
