"""axe-core in the page: the accessibility rules of WCAG 2.0/2.1 A and AA, run by the browser itself.

axe-core is the npm package pinned in tests/browser/package.json (installed by .ci/run with
``npm ci``); its script is injected through WebDriver, which the page's Content-Security-Policy
does not govern, so the page is checked exactly as it is served (with its CSP and its own script).
"""

import os

AXE_JS = os.path.join(os.path.dirname(os.path.abspath(__file__)), "node_modules", "axe-core", "axe.min.js")
TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]
BLOCKING = ("serious", "critical")

_RUN = """
var done = arguments[arguments.length - 1];
axe.run(document, {runOnly: {type: "tag", values: arguments[0]}, resultTypes: ["violations"]})
  .then(function (results) {
    done(results.violations.map(function (v) {
      return {id: v.id, impact: v.impact, help: v.help,
              nodes: v.nodes.map(function (n) { return {target: n.target.join(" "), html: n.html.slice(0, 200),
                                                        summary: n.failureSummary}; })};
    }));
  })
  .catch(function (error) { done({error: String(error)}); });
"""


def _source():
    assert os.path.exists(AXE_JS), f"axe-core is not installed at {AXE_JS}: run .ci/run (npm ci in tests/browser)"
    with open(AXE_JS, encoding="utf-8") as f:
        return f.read()


def violations(browser):
    """Every axe violation of the page now in ``browser`` (a tests/browser/conftest.py Browser)."""
    driver = browser.driver
    if not driver.execute_script("return typeof window.axe === 'object'"):
        driver.execute_script(_source())
    driver.set_script_timeout(60)
    found = driver.execute_async_script(_RUN, TAGS)
    assert not isinstance(found, dict), f"axe failed on {browser.url}: {found.get('error')}"
    return found


def blocking(found):
    return [v for v in found if v["impact"] in BLOCKING]


def describe(url, found):
    """A readable list of violations, for a failure message."""
    lines = [f"{url}:"]
    for v in found:
        lines.append(f"  [{v['impact']}] {v['id']}: {v['help']}")
        for node in v["nodes"][:5]:
            lines.append(f"      at {node['target']}: {node['html']}")
            if node.get("summary"):
                lines.append("        " + node["summary"].replace("\n", "\n        "))
    return "\n".join(lines)


def horizontal_overflow(browser):
    """How many CSS pixels the document is wider than the viewport (0: no horizontal scroll)."""
    return browser.script("return Math.max(0, document.documentElement.scrollWidth - window.innerWidth);")
