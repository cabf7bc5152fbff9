"""The client's pages, one module per area, each with a Flask blueprint named ``bp``.

Every module of this package is found and registered (so adding an area touches no shared list).
URL map (the paths other areas link to):
  public.py     /, /mentors, /mentors/<id>, /sign-in, /register, /sign-out, /language,
                /verify-email, /forgot-password, /reset-password
  account.py    /account, /account/questionnaire, /account/notifications, /account/access-log, /account/data
  community.py  /inbox, /inbox/unread (JSON for the badge), /library, /library/<id>, /forum, /forum/<id>,
                /calendar, /calendar/<id>, /messages, /messages/<user_id>
  cases.py      /cases, /cases/new, /cases/<id> (+ its actions), /cases/<id>/history
  mentoring.py  /profile, /profile/availability, /profile/accreditation
  moderation.py /moderation, /moderation/accreditation, /moderation/mentors/<id>,
                /moderation/people/<id>/erasure, /moderation/library..., /statistics
  publication.py /moderation/drafts, /moderation/drafts/<id> (review), /account/publications[/<id>]
  surveys.py    /surveys, /surveys/new, /surveys/settings, /surveys/<id> (answer), /surveys/<id>/results[.csv]
"""

import importlib
import pkgutil

BLUEPRINTS = []
for _module in sorted(pkgutil.iter_modules(__path__), key=lambda m: m.name):
    _blueprint = getattr(importlib.import_module(f"{__name__}.{_module.name}"), "bp", None)
    if _blueprint is not None:
        BLUEPRINTS.append(_blueprint)
