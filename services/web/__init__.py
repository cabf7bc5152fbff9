"""The browser client: server-rendered pages for mentees, mentors, moderators and visitors.

It is a client of the gateway's public HTTP API and nothing else: no database, no broker. The
person's access token lives in the signed, HttpOnly session cookie; every page is rendered from
gateway calls made for that request (services/web/gateway.py).
"""
