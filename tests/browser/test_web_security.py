"""The browser client's security, as a person's browser meets it: the response headers of every page,
the session cookie's flags (Secure when served over TLS), no access token where page script could
read it, CSRF refusal, what a person wrote rendered inert, and no open redirect after sign-in."""

import re
from urllib.parse import urlsplit

import pytest
import requests
from selenium.common.exceptions import NoAlertPresentException

from tests.browser.conftest import PASSWORD, WebClient, sign_in
from tests.support import eventually

IMG_ATTACK = "<img src=x onerror=alert(1)>"
SCRIPT_ATTACK = "<script>alert(1)</script>"


@pytest.fixture(scope="module")
def attacker(platform):
    """An accredited mentor whose motto and interests are markup (as anyone may write)."""
    user, token = platform.mentor(
        "Hacker", "Markupov", ["digital-technologies"], motto=IMG_ATTACK, interests=SCRIPT_ATTACK
    )
    return user, token


def _pages(web, attacker):
    return [
        "/",
        "/mentors",
        f"/mentors/{attacker[0]['id']}",
        "/sign-in",
        "/register",
        "/forgot-password",
        "/reset-password?token=x",
        "/verify-email?token=x",
        "/no-such-page",
    ]


def test_every_page_has_a_strict_csp_and_nosniff(web, attacker):
    session = requests.Session()
    for path in _pages(web, attacker) + ["/static/app.css", "/static/app.js"]:
        response = session.get(web.url(path), timeout=20)
        csp = response.headers.get("Content-Security-Policy", "")
        assert csp, f"{path}: no Content-Security-Policy"
        assert "unsafe-inline" not in csp and "unsafe-eval" not in csp, f"{path}: {csp}"
        directives = {d.strip().split(" ", 1)[0]: d.strip() for d in csp.split(";") if d.strip()}
        assert directives.get("frame-ancestors") == "frame-ancestors 'none'", f"{path}: {csp}"
        assert "script-src" in directives or "default-src" in directives, f"{path}: {csp}"
        assert response.headers.get("X-Content-Type-Options") == "nosniff", path


def _session_cookie(response):
    cookies = [c for c in response.raw.headers.getlist("Set-Cookie") if c.startswith("mentor_session=")]
    assert cookies, f"no session cookie set: {response.headers}"
    return cookies[-1]


def _sign_in_over_http(web_base, email):
    """Sign in as a form does (GET for the CSRF token, POST): the raw Set-Cookie of the answer."""
    session = requests.Session()
    page = session.get(f"{web_base}/sign-in", timeout=20)
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', page.text).group(1)
    answer = session.post(
        f"{web_base}/sign-in",
        data={"csrf_token": csrf, "email": email, "password": PASSWORD, "next": "/"},
        allow_redirects=False,
        timeout=20,
    )
    assert answer.status_code == 303, answer.text[:500]
    return _session_cookie(answer)


def _flags(cookie):
    return {
        part.strip().split("=", 1)[0].lower(): (part.strip().split("=", 1) + [""])[1] for part in cookie.split(";")[1:]
    }


def test_the_session_cookie_is_httponly_lax_and_secure_behind_tls(platform, web, tmp_path, monkeypatch):
    user, _ = platform.person("mentee", "Olga", "Cookieva")
    flags = _flags(_sign_in_over_http(web.base, user["email"]))
    assert "httponly" in flags and flags.get("samesite", "").lower() == "lax", flags
    assert "secure" not in flags  # served over plain HTTP here: a Secure cookie would never come back

    monkeypatch.setenv("WEB_COOKIE_SECURE", "true")  # a second client, as it runs behind TLS
    secure = WebClient(platform.base, str(tmp_path))
    monkeypatch.delenv("WEB_COOKIE_SECURE")
    try:
        # a Secure cookie never comes back over plain HTTP (so no form can be sent here): the first
        # Set-Cookie, of the sign-in page (the session holding its CSRF token), is what is checked
        flags = _flags(_session_cookie(requests.get(f"{secure.base}/sign-in", timeout=20)))
        assert "httponly" in flags and "secure" in flags and flags.get("samesite", "").lower() == "lax", flags
    finally:
        secure.stop()


def test_no_access_token_where_page_script_can_read_it(platform, web, browser):
    user, _ = platform.person("mentee", "Nina", "Tokenova")
    sign_in(browser, web, user["email"])
    token = platform.call("POST", "/api/v1/auth/sign-in", json={"email": user["email"], "password": PASSWORD})
    assert token["access_token"]
    stored = browser.script("""
        var out = {cookie: document.cookie, local: [], session: []};
        for (var i = 0; i < localStorage.length; i++) { var k = localStorage.key(i); out.local.push(k + '=' + localStorage.getItem(k)); }
        for (var j = 0; j < sessionStorage.length; j++) { var s = sessionStorage.key(j); out.session.push(s + '=' + sessionStorage.getItem(s)); }
        return out;""")
    assert "mentor_session" not in stored["cookie"], stored  # HttpOnly: script cannot read the session
    assert stored["local"] == [] and stored["session"] == [], stored
    # an access token has the shape of the gateway's tokens: none of them anywhere script can reach
    everything = " ".join([stored["cookie"], *stored["local"], *stored["session"], browser.html])
    assert token["access_token"][:16] not in everything
    browser.go(web.url("/"))
    assert "Tokenova" in browser.text(".who")  # still signed in: the cookie works, script just cannot read it


def test_a_post_without_the_csrf_token_is_refused_and_changes_nothing(platform, web, browser):
    user, _ = platform.person("mentee", "Vera", "Csrfova")
    sign_in(browser, web, user["email"])
    session = requests.Session()
    for cookie in browser.driver.get_cookies():
        session.cookies.set(cookie["name"], cookie["value"])
    refused = session.post(web.url("/sign-out"), data={}, allow_redirects=False, timeout=20)
    assert refused.status_code == 400 and "<h1>" in refused.text
    assert "Traceback" not in refused.text
    wrong = session.post(web.url("/sign-out"), data={"csrf_token": "forged"}, allow_redirects=False, timeout=20)
    assert wrong.status_code == 400
    browser.go(web.url("/"))
    assert "Csrfova" in browser.text(".who")  # the sign-out was not carried out: still signed in
    # and as a page: a form posted from elsewhere without the token shows the refusal page
    browser.script("""
        var f = document.createElement('form'); f.method = 'post'; f.action = '/sign-out';
        document.body.appendChild(f); f.submit();""")
    browser.find("h1")
    assert browser.find("main p.lead").text  # the catalogue's words, not a stack trace
    browser.go(web.url("/"))
    assert "Csrfova" in browser.text(".who")


def test_what_a_person_wrote_renders_inert(platform, web, browser, attacker):
    mentor, _ = attacker
    browser.go(web.url(f"/mentors/{mentor['id']}"))
    main = browser.wait_text("onerror")
    assert IMG_ATTACK in main and SCRIPT_ATTACK in main  # shown as the characters written
    assert browser.script("return document.querySelectorAll('main img[src=x], main img[src$=\"/x\"]').length") == 0
    assert browser.script("return Array.from(document.scripts).every(function (s) { return s.src; })")
    with pytest.raises(NoAlertPresentException):
        _ = browser.driver.switch_to.alert.text  # reading it is what raises when no alert is open
    browser.go(web.url("/mentors?rubric=digital-technologies"))
    assert "Markupov" in browser.wait_text("Markupov")
    with pytest.raises(NoAlertPresentException):
        _ = browser.driver.switch_to.alert.text  # reading it is what raises when no alert is open


def test_sign_in_never_redirects_off_the_site(platform, web, browser):
    user, _ = platform.person("mentee", "Rita", "Redirectova")
    for target in (
        "https://evil.example",
        "//evil.example/x",
        "/\\evil.example",
        "https:evil.example",
        "/%2F%2Fevil.example",
        " //evil.example",
    ):
        browser.go(web.url("/sign-in?next=" + requests.utils.quote(target, safe="")))
        browser.fill("#email", user["email"])
        browser.fill("#password", PASSWORD)
        browser.click("main form button[type=submit]")
        eventually(lambda: urlsplit(browser.url).path != "/sign-in", message="sign-in leaves the form")
        assert browser.url.startswith(web.base + "/"), f"next={target!r} led to {browser.url}"
        assert "evil.example" not in urlsplit(browser.url).netloc
        assert "Redirectova" in browser.text(".who")
        browser.click('header form[action="/sign-out"] button')  # as a person leaves, before the next try
        browser.find('header a[href="/sign-in"]')
