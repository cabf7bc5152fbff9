"""Browser tests: the real platform (`nameko run` processes, tests/e2e/conftest.py), the browser
client as its own process (`python -m services.web`), and Debian's Chromium driven by Selenium
through Debian's chromedriver (both installed by .ci/run with apt-get). Nothing is skipped: without
Chromium or the client, the tests fail.
"""

import os
import subprocess
import sys

import pytest
import requests
from selenium import webdriver
from selenium.common.exceptions import StaleElementReferenceException, WebDriverException
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions as EC
from selenium.webdriver.support.ui import Select, WebDriverWait

from tests.e2e.conftest import (  # noqa: F401  (the platform fixture, its settings, and the hook that stops it)
    platform,
    platform_settings,
    pytest_runtest_teardown,
    running_platform,
)
from tests.processes import ROOT
from tests.support import eventually, free_port

CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
CHROMEDRIVER = os.environ.get("CHROMEDRIVER", "/usr/bin/chromedriver")
PASSWORD = "correct horse battery"


class WebClient:
    """The browser client's process, in front of this module's platform."""

    def __init__(self, gateway_base, log_dir):
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        env = dict(
            os.environ,
            GATEWAY_URL=gateway_base,
            WEB_ADDRESS=f"127.0.0.1:{self.port}",
            PLATFORM_ENV="test",
            WEB_SECRET_KEY="test-web-secret-0123456789abcdefghij",
        )
        self._log = open(os.path.join(log_dir, "web.log"), "ab")
        self.process = subprocess.Popen(
            [sys.executable, "-m", "services.web"],
            cwd=ROOT,
            env=env,
            stdout=self._log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
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
def platform_databases():
    """The browser suite's platforms keep their data in databases of their own: the pages they fill
    (every role's, for the accessibility crawl) must not become another suite's mentors and cases."""
    return "browser"


@pytest.fixture(scope="module")
def web(platform, tmp_path_factory):  # noqa: F811
    client = WebClient(platform.base, str(tmp_path_factory.mktemp("web-logs")))
    yield client
    client.stop()


class Browser:
    """One Chromium window (its own profile: its own cookies) driven by Selenium and Debian's chromedriver.

    Selenium, not Playwright: the test session is eventlet-monkey-patched (tests/conftest.py), and
    Playwright's sync API (asyncio in a greenlet, a node driver on pipes) hangs under it; Selenium
    speaks plain HTTP to chromedriver and works there."""

    def __init__(self, width=1280, height=900, language="ru"):
        options = webdriver.ChromeOptions()
        options.binary_location = CHROMIUM
        for argument in (
            "--headless=new",
            "--no-sandbox",
            "--disable-dev-shm-usage",
            "--disable-gpu",
            # no calls home: this machine's closed network refuses them, many at a time
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--no-first-run",
            f"--window-size={max(width, 500)},{height}",
            f"--lang={language}",
        ):
            options.add_argument(argument)
        self.driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)
        self.driver.implicitly_wait(0)
        if width < 500:  # headless windows are at least 500 px wide: emulate a phone's viewport
            self.driver.execute_cdp_cmd(
                "Emulation.setDeviceMetricsOverride",
                {"width": width, "height": height, "deviceScaleFactor": 1, "mobile": True},
            )

    # -- navigation and reading ------------------------------------------------------------
    def go(self, url):
        self.driver.get(url)
        return self

    def find(self, css, timeout=10):
        return WebDriverWait(self.driver, timeout).until(EC.presence_of_element_located((By.CSS_SELECTOR, css)))

    def all(self, css):
        return self.driver.find_elements(By.CSS_SELECTOR, css)

    def text(self, css="main"):
        """The element's text once it is there; read again if the page was replaced meanwhile."""
        self.find(css)
        text = self._read_while_replaced(css, attempts=20)
        return self.find(css).text if text is None else text

    def wait_text(self, text, css="main", timeout=15):
        """Wait until ``text`` shows inside ``css``; return the element's text."""
        WebDriverWait(self.driver, timeout).until(lambda driver: text in (self._read_while_replaced(css) or ""))
        return self._read_while_replaced(css, attempts=20) or self.text(css)

    def _read_while_replaced(self, css, attempts=1):
        """The element's text, or None while the page is being replaced (a form answered, a reload).

        Chromium reports a node of a page being swapped out either as a stale element or as an
        inspector error, "Node with given id does not belong to the document" (a plain
        WebDriverException): both mean "read it again"."""
        for _ in range(attempts):
            try:
                elements = self.driver.find_elements(By.CSS_SELECTOR, css)
                return elements[0].text if elements else None
            except StaleElementReferenceException:
                continue
            except WebDriverException as error:
                if "does not belong to the document" not in str(error):
                    raise
        return None

    @property
    def url(self):
        return self.driver.current_url

    @property
    def html(self):
        return self.driver.page_source

    # -- acting ------------------------------------------------------------------------------
    def fill(self, css, value):
        element = self.find(css)
        element.clear()
        element.send_keys(value)
        return element

    def click(self, css):
        element = WebDriverWait(self.driver, 10).until(EC.element_to_be_clickable((By.CSS_SELECTOR, css)))
        element.click()
        return element

    def click_link(self, text):
        element = WebDriverWait(self.driver, 10).until(EC.element_to_be_clickable((By.LINK_TEXT, text)))
        element.click()

    def click_button(self, text, scope="main"):
        """Click the button whose visible text is ``text`` (inside ``scope``)."""
        for button in self.driver.find_elements(By.CSS_SELECTOR, f"{scope} button"):
            if button.text.strip() == text:
                button.click()
                return button
        raise AssertionError(f"no button {text!r} in {scope}: {[b.text for b in self.all(scope + ' button')]}")

    def select(self, css, value):
        Select(self.find(css)).select_by_value(value)

    def check(self, css):
        element = self.find(css)
        if not element.is_selected():
            self.driver.execute_script("arguments[0].click()", element)

    def screenshot(self, path):
        self.driver.save_screenshot(str(path))

    def script(self, source, *args):
        return self.driver.execute_script(source, *args)

    def quit(self):
        self.driver.quit()


@pytest.fixture(scope="session")
def _chromium_present():
    assert os.path.exists(CHROMIUM), f"Chromium is not installed at {CHROMIUM}: run .ci/run (apt-get install chromium)"
    assert os.path.exists(CHROMEDRIVER), f"chromedriver is not at {CHROMEDRIVER}: apt-get install chromium-driver"


@pytest.fixture
def new_browser(_chromium_present):
    """``new_browser(width=1280)``: a fresh Chromium (own cookies), closed after the test."""
    opened = []

    def make(width=1280, height=900, language="ru"):
        browser = Browser(width, height, language)
        opened.append(browser)
        return browser

    yield make
    for browser in opened:
        browser.quit()


@pytest.fixture
def browser(new_browser):
    return new_browser()


def sign_in(browser, web, email, password=PASSWORD, next_path=None):
    """Sign in through the page, as a person would."""
    browser.go(web.url("/sign-in" + (f"?next={next_path}" if next_path else "")))
    browser.fill("#email", email)
    browser.fill("#password", password)
    browser.click("main form button[type=submit]")
    browser.find(".who")
    return browser
