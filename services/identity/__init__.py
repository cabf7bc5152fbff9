"""identity: accounts, sign-in tokens and the mentors' public profiles.

Started with ``nameko run --config services/identity/config.yaml services.identity.service``;
moderators are created by an operator with ``python -m services.identity.admin``.
"""
