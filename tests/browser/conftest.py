"""Browser tests: the real platform (`nameko run` processes, tests/e2e/conftest.py), the browser
client as its own process (`python -m services.web`), and Debian's Chromium driven by Playwright.

Playwright's own browser download cannot work here: it drives ``/usr/bin/chromium`` (installed by
.ci/run with apt-get). Nothing is skipped: without Chromium or the client, the tests fail.
"""
import os
import subprocess
import sys

import pytest
import requests
from playwright.sync_api import sync_playwright

from tests.e2e.conftest import _free_port, platform  # noqa: F401  (the platform fixture, module scope)
from tests.processes import ROOT
from tests.support import eventually

CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
PASSWORD = "correct horse battery"


class WebClient:
    """The browser client's process, in front of this module's platform."""

    def __init__(self, gateway_base, log_dir):
        self.port = _free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        env = dict(os.environ, GATEWAY_URL=gateway_base, WEB_ADDRESS=f"127.0.0.1:{self.port}", PLATFORM_ENV="test",
                   WEB_SECRET_KEY="test-web-secret-0123456789abcdefghij")
        self._log = open(os.path.join(log_dir, "web.log"), "ab")
        self.process = subprocess.Popen([sys.executable, "-m", "services.web"], cwd=ROOT, env=env,
                                        stdout=self._log, stderr=subprocess.STDOUT, start_new_session=True)
        eventually(self._up, timeout=30, message="the browser client answers")

    def _up(self):
        assert self.process.poll() is None, "the browser client exited (see web.log)"
        try:
            return requests.get(f"{self.base}/", timeout=2).status_code == 200
        except requests.ConnectionError:
            return False

    def url(self, path):
        return f"{self.base}{path}"

    def stop(self):
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
        self._log.close()


@pytest.fixture(scope="module")
def web(platform, tmp_path_factory):  # noqa: F811
    client = WebClient(platform.base, str(tmp_path_factory.mktemp("web-logs")))
    yield client
    client.stop()


@pytest.fixture(scope="session")
def browser():
    assert os.path.exists(CHROMIUM), f"Chromium is not installed at {CHROMIUM}: run .ci/run (apt-get install chromium)"
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        yield chromium
        chromium.close()


@pytest.fixture
def new_page(browser):
    """``new_page(width=1280)``: a page in a fresh browser context (its own cookies); closed after the test."""
    contexts = []

    def make(width=1280, height=900, language="ru"):
        context = browser.new_context(viewport={"width": width, "height": height}, locale=language)
        context.set_default_timeout(15000)
        contexts.append(context)
        return context.new_page()

    yield make
    for context in contexts:
        context.close()


@pytest.fixture
def page(new_page):
    return new_page()


def sign_in(page, web, email, password=PASSWORD, next_path=None):
    """Sign in through the page, as a person would."""
    page.goto(web.url("/sign-in" + (f"?next={next_path}" if next_path else "")))
    page.fill("#email", email)
    page.fill("#password", password)
    page.locator("main button[type=submit]").click()
    page.wait_for_selector(".who")
