"""Accessibility of every page of every role, in real Chromium: axe-core (WCAG 2.0/2.1 A and AA)
finds no serious or critical violation at 1280 px and at 375 px, no page scrolls sideways at 375 px,
and the sign-in page and the case form work by keyboard alone.

"Every page" is found, not listed: each role (visitor, mentee, mentor, moderator) crawls the client
from its home page and from every route without parameters, following the links on the pages, and
takes one page per route of the client's URL map (so a route added later is checked without
touching this file). A route that no role reached fails the test: give some role a link to it (or
data behind it, tests/browser/world.py). With SCREENSHOTS_DIR set, every page checked is also saved
there as a PNG (docs/screenshots comes from such a run).
"""

import os
import re
from html.parser import HTMLParser
from urllib.parse import urljoin, urlsplit

import pytest
import requests
from selenium.webdriver.common.action_chains import ActionChains
from selenium.webdriver.common.keys import Keys
from werkzeug.exceptions import HTTPException
from werkzeug.routing import RequestRedirect

from services.web import settings as web_settings
from services.web.app import create_app
from tests.browser import axe
from tests.browser.conftest import sign_in
from tests.browser.world import seed

ROLES = ("visitor", "mentee", "mentor", "moderator")
MAX_FETCHES = 300  # per role: the crawl stops by itself
FOLLOWED = 8  # pages of one route whose links are followed (the case page of each case, in its state)
CHECKED = 3  # pages of one route checked with axe (the case page in three states)


@pytest.fixture(scope="module")
def world(platform):
    return seed(platform)


def _url_map():
    app = create_app(web_settings.load({"PLATFORM_ENV": "test"}, enforce=False))
    return app.url_map


class _Links(HTMLParser):
    def __init__(self):
        super().__init__()
        self.hrefs = []

    def handle_starttag(self, tag, attrs):
        href = dict(attrs).get({"a": "href", "img": "src"}.get(tag, ""))
        if href:  # pages, and the client's own images (a route too: a mentor's photo)
            self.hrefs.append(href)


def _email(world, role):
    return {
        "mentee": world["mentee"]["email"],
        "mentor": world["mentor"]["email"],
        "moderator": world["moderator_email"],
    }[role]


def _signed_in_browser(new_browser, web, world, role, width):
    browser = new_browser(width=width)
    if role != "visitor":
        sign_in(browser, web, _email(world, role))
    return browser


def _session_of(browser):
    session = requests.Session()
    for cookie in browser.driver.get_cookies():
        session.cookies.set(cookie["name"], cookie["value"])
    return session


class Crawl:
    """One role's pages: the first HTML pages found for each route (endpoint) of the client."""

    def __init__(self, url_map, web, session):
        self.adapter = url_map.bind("localhost")
        self.web, self.session = web, session
        self.pages = {}  # endpoint -> [path, ...] (at most FOLLOWED)
        self.seen = set()
        self.not_pages = set()  # endpoints answering with something else than HTML (a photo, JSON)
        self.refused = {}  # status (403, 404) -> a path answering it: the error page, checked once

    def endpoint(self, path):
        try:
            endpoint, _ = self.adapter.match(urlsplit(path).path, method="GET")
            return endpoint
        except RequestRedirect as redirect:
            return self.endpoint(urlsplit(redirect.new_url).path)
        except HTTPException:
            return None

    def run(self, start):
        queue, fetched = list(start), 0
        while queue and fetched < MAX_FETCHES:
            path = queue.pop(0)
            endpoint = self.endpoint(path)
            if (
                endpoint is None
                or endpoint == "static"
                or len(self.pages.get(endpoint, ())) >= FOLLOWED
                or endpoint in self.not_pages
                or path in self.seen
            ):
                continue
            self.seen.add(path)
            fetched += 1
            response = self.session.get(self.web.url(path), timeout=30)
            final = urlsplit(response.url)
            final_path = final.path + (f"?{final.query}" if final.query else "")
            landed = self.endpoint(final_path)
            if "text/html" not in response.headers.get("Content-Type", ""):
                self.not_pages.add(endpoint)
                continue
            if response.history and landed != endpoint and response.status_code == 200:
                self.not_pages.add(endpoint)  # only leads elsewhere (a chooser's GET form), no page of its own
            if response.status_code not in (200, 400):  # 400: the page of a bad link (an expired token)
                self.refused.setdefault(response.status_code, path)
                continue
            known = [urlsplit(p).path for p in self.pages.setdefault(landed, [])] if landed else [final.path]
            if final.path not in known:  # one page per path: ?rubric=, ?next= variants are the same page
                self.pages[landed].append(final_path)
            parser = _Links()
            parser.feed(response.text)
            for href in parser.hrefs:
                target = urlsplit(urljoin(response.url, href))
                if target.netloc == urlsplit(self.web.base).netloc and target.path:
                    queue.append(target.path + (f"?{target.query}" if target.query else ""))
        return self


@pytest.fixture(scope="module")
def crawled(platform, web, world, _chromium_present):
    """Each role's pages (crawled over HTTP with the role's own session cookie, from a real sign-in)."""
    url_map = _url_map()
    plain = [
        rule.rule
        for rule in url_map.iter_rules()
        if "GET" in rule.methods and not rule.arguments and rule.endpoint != "static"
    ]
    crawls = {}
    from tests.browser.conftest import Browser

    for role in ROLES:
        browser = Browser()
        try:
            if role != "visitor":
                sign_in(browser, web, _email(world, role))
            crawls[role] = Crawl(url_map, web, _session_of(browser)).run(["/"] + sorted(plain))
        finally:
            browser.quit()
    every = {rule.endpoint for rule in url_map.iter_rules() if "GET" in rule.methods and rule.endpoint != "static"}
    reached = set().union(*(set(c.pages) | c.not_pages for c in crawls.values()))
    assert not every - reached, (
        f"routes no role reached (add a link or data to tests/browser/world.py): {sorted(every - reached)}"
    )
    return crawls


def _shot_name(role, endpoint, width, number):
    name = re.sub(r"[^a-z0-9]+", "-", endpoint.lower()).strip("-") + (f"-{number}" if number > 1 else "")
    return f"{role}-{name}{'-375' if width < 500 else ''}.png"


def _screenshot(browser, path):
    """The page from its top, up to 2000 CSS px tall (PNG)."""
    import base64

    height = min(2000, browser.script("return document.documentElement.scrollHeight;"))
    width = browser.script("return window.innerWidth;")
    shot = browser.driver.execute_cdp_cmd(
        "Page.captureScreenshot",
        {
            "format": "png",
            "captureBeyondViewport": True,
            "clip": {"x": 0, "y": 0, "width": width, "height": height, "scale": 1},
        },
    )
    with open(path, "wb") as f:
        f.write(base64.b64decode(shot["data"]))


def _check_every_page(crawled, new_browser, web, world, width):
    problems, checked = [], 0
    shots = os.environ.get("SCREENSHOTS_DIR")
    for role in ROLES:
        crawl = crawled[role]
        browser = _signed_in_browser(new_browser, web, world, role, width)
        # the visitor's pages are the same for everyone but their header: signed in, only the home page
        pages = [
            (e, p)
            for e, found in sorted(crawl.pages.items())
            for p in found[:CHECKED]
            if role == "visitor" or not e.startswith("public.") or e == "public.home"
        ]
        paths = pages + [(f"error-{status}", path) for status, path in sorted(crawl.refused.items())]
        if role == "visitor":
            paths.append(("error-404", "/no-such-page"))
        numbers = {}
        for endpoint, path in paths:
            numbers[endpoint] = numbers.get(endpoint, 0) + 1
            browser.go(web.url(path))
            browser.find("main")
            checked += 1
            found = axe.blocking(axe.violations(browser))
            if found:
                problems.append(f"[{role}, {width} px] " + axe.describe(path, found))
            if width < 500:
                scroll_width = browser.script("return document.documentElement.scrollWidth;")
                if scroll_width > width:
                    problems.append(f"[{role}, {width} px] {path}: scrolls sideways (scrollWidth {scroll_width})")
            if shots:
                os.makedirs(shots, exist_ok=True)
                _screenshot(browser, os.path.join(shots, _shot_name(role, endpoint, width, numbers[endpoint])))
        browser.quit()
    print(f"{checked} pages checked at {width} px")
    assert not problems, "\n".join(problems)
    assert checked >= 10


def test_no_serious_accessibility_violation_on_any_page_of_any_role_at_1280px(crawled, new_browser, web, world):
    _check_every_page(crawled, new_browser, web, world, 1280)


def test_no_serious_accessibility_violation_nor_sideways_scroll_at_375px(crawled, new_browser, web, world):
    _check_every_page(crawled, new_browser, web, world, 375)


def test_axe_does_report_what_it_must(web, new_browser):
    """The check itself: a control without a label and text without contrast, put into a real page,
    are reported as serious or critical (so a clean result above means something)."""
    browser = new_browser()
    browser.go(web.url("/sign-in"))
    browser.script("""
        var input = document.createElement('input'); input.type = 'text'; input.id = 'unlabelled';
        var faint = document.createElement('p'); faint.textContent = 'Faint text'; faint.style.color = '#d0d0d0';
        document.querySelector('main').appendChild(input); document.querySelector('main').appendChild(faint);""")
    found = {v["id"] for v in axe.blocking(axe.violations(browser))}
    assert {"label", "color-contrast"} <= found, found


# -- the keyboard -----------------------------------------------------------------------------------

_TAB_STOPS = """
var all = document.querySelectorAll('a[href], button, input, select, textarea, [tabindex]');
var stops = [], groups = {};
for (var i = 0; i < all.length; i++) {
  var e = all[i];
  if (e.disabled || e.type === 'hidden' || e.tabIndex < 0 || !e.getClientRects().length) continue;
  if (e.type === 'radio') {  // a radio group is one Tab stop: its checked radio, else its first
    var key = (e.form ? 'f' : '') + e.name;
    if (groups[key] !== undefined) { if (e.checked) stops[groups[key]] = e; continue; }
    groups[key] = stops.length;
  }
  stops.push(e);
}
stops.forEach(function (e, n) { e.setAttribute('data-tab-stop', String(n)); });
return stops.length;
"""


def _tab_through(browser):
    """Tab from the top of the page to the end: the stops reached, in order, against the page's own."""
    count = browser.script(_TAB_STOPS)
    reached = []
    for _ in range(count):
        _press(browser, Keys.TAB)
        reached.append(
            browser.script("var a = document.activeElement; return a ? a.getAttribute('data-tab-stop') : null;")
        )
    return count, reached


def _press(browser, *keys):
    """Keys to whatever has the focus, as a person's keyboard sends them."""
    ActionChains(browser.driver).send_keys(*keys).perform()


def _tab_to(browser, css):
    for _ in range(80):
        if browser.script("return document.activeElement.matches(arguments[0]);", css):
            return
        _press(browser, Keys.TAB)
    raise AssertionError(f"Tab never reached {css}")


def test_sign_in_by_keyboard_alone_skip_link_first(web, world, new_browser):
    browser = new_browser()
    browser.go(web.url("/sign-in"))
    count, reached = _tab_through(browser)
    assert reached == [str(n) for n in range(count)], f"Tab order {reached} is not the page's order of {count}"
    browser.go(web.url("/sign-in"))
    _press(browser, Keys.TAB)
    assert browser.script("return document.activeElement.classList.contains('skip');"), "skip link not first"
    _press(browser, Keys.ENTER)  # the skip link moves the focus to <main>
    assert browser.script("return document.activeElement.id;") == "main"
    _tab_to(browser, "#email")
    _press(browser, world["mentee"]["email"], Keys.TAB)
    assert browser.script("return document.activeElement.id;") == "password"
    _press(browser, "correct horse battery", Keys.ENTER)
    assert "Smirnova" in browser.text(".who")


def test_the_case_form_by_keyboard_alone(web, world, new_browser):
    browser = new_browser()
    sign_in(browser, web, world["mentee"]["email"])
    browser.go(web.url("/cases/new"))
    assert browser.all("main form[method=post] textarea"), f"no case form at /cases/new: {browser.text('h1')!r}"
    count, reached = _tab_through(browser)
    assert reached == [str(n) for n in range(count)], f"Tab order {reached} is not the page's order of {count}"
    browser.go(web.url("/cases/new"))
    _press(browser, Keys.TAB)
    assert browser.script("return document.activeElement.classList.contains('skip');"), "skip link not first"
    # Enter on the form's submit button sends it: empty, it comes back with the errors next to the fields
    _tab_to(browser, "main form[method=post] button[type=submit]")
    _press(browser, Keys.ENTER)
    browser.find("#form-banner")
    assert browser.all(".field-error"), "no field error after sending the empty form"
