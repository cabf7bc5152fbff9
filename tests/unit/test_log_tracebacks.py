"""Error logs keep the traceback but never the frames' local variables, which hold passwords,
tokens and personal data (a failed register() would otherwise log the password it was given)."""

import json
import sys

from services.common.logs import TRACEBACKS


def test_tracebacks_carry_frames_without_local_variables():
    def register(form):
        password = form["password"]  # noqa: F841 - the local a traceback must not show
        token = "demo-session-token"  # noqa: F841
        raise ValueError("A string literal cannot contain NUL (0x00) characters.")

    try:
        register({"email": "anna@example.org", "password": "correct horse battery staple"})
    except ValueError:
        exc_info = sys.exc_info()
    event = TRACEBACKS(None, "error", {"event": "worker_failed", "exc_info": exc_info})
    text = json.dumps(event)
    for secret in ("correct horse battery staple", "anna@example.org", "demo-session-token"):
        assert secret not in text
    [exception] = event["exception"]
    assert exception["exc_type"] == "ValueError"
    assert [f["name"] for f in exception["frames"]][-1] == "register"
    assert all("locals" not in frame for frame in exception["frames"])
