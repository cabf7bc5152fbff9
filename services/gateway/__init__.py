"""The HTTP/JSON gateway: authenticates, validates, and turns requests into RPCs into the services."""
