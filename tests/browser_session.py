"""Signing in and out through the real login page in the e2e tests (headless Chromium), and the check
that a page fits the window."""
import re

from helpers import PASSWORD

NO_OVERFLOW = "document.documentElement.scrollWidth <= window.innerWidth"


def login(page, url, name):
    page.goto(url + "/login")
    page.fill("#name", name)
    page.fill("#password", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(re.compile(r".*/inbox$"))


def logout(page):
    page.click("text=退出")
    page.wait_for_url(re.compile(r".*/login$"))
