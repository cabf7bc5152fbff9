"""The browser client's speed (issue #17, "Speed"): page weight, render time beyond the gateway, a
30-event case page in Chromium.

    .venv/bin/python bench/bench_web.py                 # 40 timed loads of each page
    .venv/bin/python bench/bench_web.py --rounds 100 --no-record

Starts the whole platform on scratch databases and a scratch vhost (bench/platform_run.py, all
removed at the end), and the browser client (`python -m services.web`) twice in front of it: once
straight at the gateway (every figure is measured there), once behind a recording proxy in this
process (only to learn which gateway calls each page makes). It seeds a mentee, an accredited mentor
with a photo, a moderator and a personal-mode case of exactly 30 events (filed, proposed, chosen,
accepted, 25 messages, a solution), signs each role in through the client's own sign-in form, then:

(a) weight: each main page's first load, HTML + the CSS and JS it links (photos excluded), in bytes
    as served and gzip-compressed (level 6, what a compressing proxy sends); target <= 150 KB.
    The client itself does not compress (waitress); the figure is the compressed size.
(b) render beyond the gateway: per round, the page through the client, then the same gateway calls
    the page made (recorded), made directly with a keep-alive session, one after the other as the
    page makes them; the difference is what the client adds (Flask, Jinja2, its own HTTP hop).
    p95 of the difference per page; target <= 50 ms.
(c) usable in Chromium: the 30-event case page loaded in headless Chromium (Debian's, through
    Selenium), navigation start to DOMContentLoaded and to load (Navigation Timing); target < 1 s.

A page the client does not have (404) is reported as missing. Appends rows to bench/RESULTS.md;
asserts nothing.
"""

import argparse
import gzip
import os
import re
import statistics
import subprocess
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import requests

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from platform_run import PASSWORD, ROOT, BenchPlatform, append_result, free_port, percentile  # noqa: E402

from tests.browser.world import portrait_png  # noqa: E402
from tests.processes import ServiceProcess  # noqa: E402
from tests.support import case_form  # noqa: E402

WEIGHT_TARGET_KB, RENDER_TARGET_MS, USABLE_TARGET_MS = 150, 50.0, 1000.0
CASE_EVENTS = 30
WEB_SECRET = "bench-web-secret-0123456789abcdefghijkl"  # both clients: a session cookie works on either
RUBRIC = "self-management"
# (role, path): the main pages of each role; {mentor} and {case} are filled in from the seeded data
PAGES = [
    ("visitor", "/"),
    ("visitor", "/mentors"),
    ("visitor", "/mentors/{mentor}"),
    ("visitor", "/sign-in"),
    ("visitor", "/register"),
    ("mentee", "/cases"),
    ("mentee", "/cases/new"),
    ("mentee", "/cases/{case}"),
    ("mentee", "/inbox"),
    ("mentee", "/library"),
    ("mentee", "/account"),
    ("mentor", "/cases"),
    ("mentor", "/cases/{case}"),
    ("mentor", "/profile"),
    ("mentor", "/forum"),
    ("mentor", "/calendar"),
    ("moderator", "/moderation"),
    ("moderator", "/cases/{case}/history"),
    ("moderator", "/statistics"),
]


class Recorder:
    """A forwarding proxy in front of the gateway that remembers every call made through it."""

    def __init__(self, upstream):
        self.upstream = upstream
        self.calls = []
        self.lock = threading.Lock()
        recorder = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):
                pass

            def _forward(self):
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else None
                headers = {
                    k: v for k, v in self.headers.items() if k.lower() not in ("host", "content-length", "connection")
                }
                with recorder.lock:
                    recorder.calls.append((self.command, self.path, headers, body))
                answer = requests.request(
                    self.command, recorder.upstream + self.path, headers=headers, data=body, timeout=30
                )
                self.send_response(answer.status_code)
                for key, value in answer.headers.items():
                    if key.lower() not in ("content-length", "transfer-encoding", "connection", "content-encoding"):
                        self.send_header(key, value)
                self.send_header("Content-Length", str(len(answer.content)))
                self.end_headers()
                self.wfile.write(answer.content)

            do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = _forward

        self.port = free_port()
        self.server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()
        self.base = f"http://127.0.0.1:{self.port}"

    def take(self):
        with self.lock:
            calls, self.calls = self.calls, []
        return calls

    def stop(self):
        self.server.shutdown()


def start_web(bench, gateway_url, name):
    """`python -m services.web` in front of ``gateway_url``, stopped with the platform."""
    port = free_port()
    env = dict(
        os.environ,
        GATEWAY_URL=gateway_url,
        WEB_ADDRESS=f"127.0.0.1:{port}",
        PLATFORM_ENV="test",
        WEB_SECRET_KEY=WEB_SECRET,
    )
    process = ServiceProcess(name, env, bench.log_dir)
    process._log = open(process.log_path, "ab")
    process.process = subprocess.Popen(
        [sys.executable, "-m", "services.web"],
        cwd=ROOT,
        env=env,
        stdout=process._log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    bench.extra.append(process)
    base = f"http://127.0.0.1:{port}"
    bench.wait_http(f"{base}/", 60, process)
    return base


def web_session(web_base, email=None, password=None):
    """A browser's cookie jar, signed in through the client's own form (GET for the CSRF token, POST)."""
    session = requests.Session()
    if email:
        page = session.get(f"{web_base}/sign-in", timeout=30)
        csrf = re.search(r'name="csrf_token" value="([^"]+)"', page.text).group(1)
        answer = session.post(
            f"{web_base}/sign-in",
            data={"csrf_token": csrf, "email": email, "password": password, "next": "/"},
            allow_redirects=False,
            timeout=30,
        )
        assert answer.status_code == 303, f"sign-in as {email}: {answer.status_code}"
    return session


def seed(bench):
    """Accounts and a personal-mode case of exactly CASE_EVENTS events; returns emails and ids."""
    http = requests.Session()
    moderator_token = bench.moderator(http)
    mentor = bench.accredited_mentor(http, moderator_token, [RUBRIC])
    mentor_token = bench.call(
        http, "POST", "/api/v1/auth/sign-in", json={"email": mentor["email"], "password": PASSWORD}
    )["access_token"]
    photo = http.put(
        f"{bench.base}/api/v1/me/mentor-profile/photo",
        data=portrait_png(),
        timeout=30,
        headers={"Authorization": f"Bearer {mentor_token}", "Content-Type": "image/png"},
    )
    photo.raise_for_status()
    bench.call(
        http,
        "PUT",
        "/api/v1/me/mentor-profile",
        token=mentor_token,
        json={
            "rubrics": [RUBRIC],
            "accepting_cases": True,
            "place_of_work": "Moscow City University",
            "position": "Associate professor",
            "motto": "Ask before you advise.",
            "interests": "Classroom climate; the first years at school.",
        },
    )
    mentee, mentee_token = bench.person(http, "mentee")
    case = bench.call(
        http,
        "POST",
        "/api/v1/cases",
        token=mentee_token,
        expect=(201,),
        json=case_form(
            rubrics=[RUBRIC],
            mode="personal",
            publication_consent=True,
            essence="I plan every evening until midnight and still come to lessons unprepared.",
        ),
    )
    path = f"/api/v1/cases/{case['id']}"
    deadline = time.monotonic() + 60
    while bench.call(http, "GET", path, token=mentee_token)["state"] != "choosing_mentor":
        if time.monotonic() > deadline:
            raise RuntimeError("no mentors proposed within 60 s")
        time.sleep(0.3)
    bench.call(http, "POST", f"{path}/mentor", token=mentee_token, json={"mentor_id": mentor["id"]})
    bench.call(http, "POST", f"{path}/accept", token=mentor_token)

    def events():
        return len(bench.call(http, "GET", f"{path}/history", token=mentee_token)["items"])

    turn = 0
    while events() < CASE_EVENTS - 1:
        token = mentee_token if turn % 2 == 0 else mentor_token
        bench.call(
            http,
            "POST",
            f"{path}/messages",
            token=token,
            expect=(201,),
            json={"text": f"Message {turn + 1}: what I tried this week, and what happened in class."},
        )
        turn += 1
    bench.call(
        http,
        "POST",
        f"{path}/solutions",
        token=mentor_token,
        expect=(201,),
        json={
            "text": "Plan by weeks, not by evenings: one template, reused and adjusted.",
            "materials": [{"title": "Weekly lesson planning", "reference": "https://example.org/planning"}],
        },
    )
    return {
        "mentee": mentee["email"],
        "mentor": mentor["email"],
        "moderator": bench.moderator_email,
        "mentor_id": mentor["id"],
        "case_id": case["id"],
        "case_events": events(),
    }


def linked_assets(html):
    """The CSS and JS a page links (the client's own: /static/...)."""
    styles = re.findall(r'<link[^>]+rel="stylesheet"[^>]+href="([^"]+)"', html)
    scripts = re.findall(r'<script[^>]+src="([^"]+)"', html)
    return styles + scripts


def weight(session, web_base, path):
    """(bytes as served, bytes gzip-compressed, whether the client compressed) of a first load."""
    page = session.get(web_base + path, timeout=30)
    bodies = [page.content]
    compressed_by_client = page.headers.get("Content-Encoding") == "gzip"
    for asset in linked_assets(page.text):
        bodies.append(requests.get(web_base + asset, timeout=30).content)
    return sum(len(b) for b in bodies), sum(len(gzip.compress(b, 6)) for b in bodies), compressed_by_client


def replay(http, gateway_base, calls):
    """The page's gateway calls, made directly, one after the other: seconds taken."""
    started = time.perf_counter()
    for method, path, headers, body in calls:
        http.request(method, gateway_base + path, headers=headers, data=body, timeout=30)
    return time.perf_counter() - started


def chromium_loads(web_base, cookie, path, rounds):
    """Navigation Timing of ``rounds`` loads of ``path`` in headless Chromium: (DOMContentLoaded, load) ms."""
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = os.environ.get("CHROMIUM", "/usr/bin/chromium")
    for argument in (
        "--headless=new",
        "--no-sandbox",
        "--disable-dev-shm-usage",
        "--disable-gpu",
        "--window-size=1280,900",
    ):
        options.add_argument(argument)
    driver = webdriver.Chrome(service=Service(os.environ.get("CHROMEDRIVER", "/usr/bin/chromedriver")), options=options)
    try:
        driver.get(web_base + "/static/app.css")  # on the site, to set its cookie
        driver.add_cookie({"name": "mentor_session", "value": cookie, "path": "/"})
        dcl, load = [], []
        for _ in range(rounds):
            driver.get(web_base + path)
            timing = driver.execute_script(
                "var n = performance.getEntriesByType('navigation')[0];"
                "return [n.domContentLoadedEventEnd - n.startTime, n.loadEventEnd - n.startTime, document.title];"
            )
            dcl.append(timing[0])
            load.append(timing[1])
        return dcl, load, timing[2]
    finally:
        driver.quit()


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=40, help="timed loads of each page (b)")
    parser.add_argument("--chromium-rounds", type=int, default=15, help="loads of the case page in Chromium (c)")
    parser.add_argument("--no-record", action="store_true", help="print only; append nothing to RESULTS.md")
    args = parser.parse_args()

    load_before = os.getloadavg()[0]
    with BenchPlatform("web") as bench:
        recorder = Recorder(bench.base)
        web = start_web(bench, bench.base, "web")
        recording_web = start_web(bench, recorder.base, "web-recorded")
        bench.moderator_email = None
        _moderator = bench.moderator

        def moderator(session):  # keep the moderator's e-mail: the client's sign-in form needs it
            token = _moderator(session)
            me = bench.call(session, "GET", "/api/v1/me", token=token)
            bench.moderator_email = me["email"]
            return token

        bench.moderator = moderator
        data = seed(bench)
        print(f"seeded: case {data['case_id']} with {data['case_events']} events", flush=True)
        sessions = {"visitor": web_session(web)}
        for role in ("mentee", "mentor", "moderator"):
            sessions[role] = web_session(web, data[role], PASSWORD)

        rows, missing = [], []
        http = requests.Session()
        for role, template in PAGES:
            path = template.format(mentor=data["mentor_id"], case=data["case_id"])
            session = sessions[role]
            recorder.take()
            probe = session.get(recording_web + path, timeout=30)
            calls = recorder.take()
            if probe.status_code == 404 or "text/html" not in probe.headers.get("Content-Type", ""):
                missing.append(f"{role} {template}")
                continue
            if probe.status_code != 200:
                print(f"  {role} {template}: HTTP {probe.status_code}", flush=True)
            raw, packed, client_gzip = weight(session, web, path)
            page_ms, calls_ms, beyond_ms = [], [], []
            for number in range(args.rounds):
                if number % 2:  # alternate the order: neither side always runs on a warmer machine
                    direct = replay(http, bench.base, calls)
                started = time.perf_counter()
                session.get(web + path, timeout=30)
                page = time.perf_counter() - started
                if not number % 2:
                    direct = replay(http, bench.base, calls)
                page_ms.append(page * 1000)
                calls_ms.append(direct * 1000)
                beyond_ms.append((page - direct) * 1000)
            rows.append(
                {
                    "role": role,
                    "page": template,
                    "calls": len(calls),
                    "raw": raw,
                    "gzip": packed,
                    "client_gzip": client_gzip,
                    "page_p50": statistics.median(page_ms),
                    "page_p95": percentile(page_ms, 0.95),
                    "calls_p50": statistics.median(calls_ms),
                    "calls_p95": percentile(calls_ms, 0.95),
                    "beyond_p50": statistics.median(beyond_ms),
                    "beyond_p95": percentile(beyond_ms, 0.95),
                }
            )
            r = rows[-1]
            print(
                f"  {role:9} {template:24} {r['calls']} calls  {raw / 1024:6.1f} KB raw {packed / 1024:5.1f} KB gzip  "
                f"page p50 {r['page_p50']:6.1f} ms p95 {r['page_p95']:6.1f}  gateway calls p50 "
                f"{r['calls_p50']:6.1f} p95 {r['calls_p95']:6.1f}  beyond p50 {r['beyond_p50']:5.1f} "
                f"p95 {r['beyond_p95']:5.1f} ms",
                flush=True,
            )

        case_path = f"/cases/{data['case_id']}"
        usable = None
        if "mentee /cases/{case}" in missing:
            print("the case page is missing: (c) not measured", flush=True)
        else:
            cookie = sessions["mentee"].cookies.get("mentor_session")
            dcl, load, title = chromium_loads(web, cookie, case_path, args.chromium_rounds)
            usable = (statistics.median(dcl), max(dcl), statistics.median(load), max(load), title)
            print(
                f"case page of {data['case_events']} events in Chromium ({title!r}), {args.chromium_rounds} loads: "
                f"DOMContentLoaded p50 {usable[0]:.0f} ms, max {usable[1]:.0f} ms; load p50 {usable[2]:.0f} ms, "
                f"max {usable[3]:.0f} ms (target < {USABLE_TARGET_MS:.0f} ms)",
                flush=True,
            )
        recorder.stop()
    load_after = os.getloadavg()[0]

    if missing:
        print("pages the client does not have (404): " + ", ".join(missing))
    if not rows:
        print("no page measured")
        return
    heaviest = max(rows, key=lambda r: r["gzip"])
    slowest = max(rows, key=lambda r: r["beyond_p95"])
    weight_met = heaviest["gzip"] <= WEIGHT_TARGET_KB * 1024
    render_met = slowest["beyond_p95"] <= RENDER_TARGET_MS
    print(
        f"\n(a) heaviest first load: {heaviest['role']} {heaviest['page']} {heaviest['gzip'] / 1024:.1f} KB gzip "
        f"({heaviest['raw'] / 1024:.1f} KB as served; client compresses: {heaviest['client_gzip']}); target <= "
        f"{WEIGHT_TARGET_KB} KB: {'met' if weight_met else 'NOT met'}; ratio {heaviest['gzip'] / 1024 / WEIGHT_TARGET_KB:.2f}"
    )
    print(
        f"(b) largest render p95 beyond the gateway: {slowest['role']} {slowest['page']} {slowest['beyond_p95']:.1f} ms"
        f" (page p95 {slowest['page_p95']:.1f}, its {slowest['calls']} gateway calls p95 {slowest['calls_p95']:.1f}); "
        f"target <= {RENDER_TARGET_MS:.0f} ms: {'met' if render_met else 'NOT met'}"
    )
    if args.no_record:
        return
    pages = f"{len(rows)} pages of 4 roles" + (f" ({len(missing)} missing: {', '.join(missing)})" if missing else "")
    append_result(
        "bench_web",
        f"{pages}: first load, HTML + linked CSS/JS",
        f"heaviest {heaviest['gzip'] / 1024:.1f} KB gzip ({heaviest['role']} {heaviest['page']}; "
        f"{heaviest['raw'] / 1024:.1f} KB as served, the client does not compress) (target <= {WEIGHT_TARGET_KB} KB: "
        f"{'met' if weight_met else 'NOT met'})",
        f"median page {statistics.median(r['gzip'] for r in rows) / 1024:.1f} KB gzip",
        f"{heaviest['gzip'] / 1024 / WEIGHT_TARGET_KB:.2f} of target",
        load_before,
        load_after,
    )
    append_result(
        "bench_web",
        f"{pages}, {args.rounds} loads each through the client beside its gateway calls made directly",
        f"render beyond the gateway p95: worst {slowest['beyond_p95']:.1f} ms ({slowest['role']} {slowest['page']}), "
        f"median page {statistics.median(r['beyond_p95'] for r in rows):.1f} ms (target <= {RENDER_TARGET_MS:.0f}: "
        f"{'met' if render_met else 'NOT met'})",
        f"the same gateway calls directly: p95 {slowest['calls_p95']:.1f} ms ({slowest['calls']} calls); "
        f"page p95 {slowest['page_p95']:.1f} ms",
        f"{slowest['beyond_p95'] / RENDER_TARGET_MS:.2f} of target",
        load_before,
        load_after,
    )
    if usable:
        append_result(
            "bench_web",
            f"case page of {data['case_events']} events, headless Chromium, {args.chromium_rounds} loads",
            f"DOMContentLoaded p50 {usable[0]:.0f} ms, max {usable[1]:.0f} ms; load p50 {usable[2]:.0f} ms, max "
            f"{usable[3]:.0f} ms (target < {USABLE_TARGET_MS:.0f} ms: {'met' if usable[3] < USABLE_TARGET_MS else 'NOT met'})",
            "navigation start (Navigation Timing)",
            f"{usable[3] / USABLE_TARGET_MS:.2f} of target (max load)",
            load_before,
            load_after,
        )


if __name__ == "__main__":
    main()
