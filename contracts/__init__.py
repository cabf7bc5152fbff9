"""Shared vocabulary of the platform: the only code services share besides services/common.

Everything that crosses a service boundary (RPC payloads, integration events, queue
topology, structured errors) is defined here, so producer and consumer cannot drift.
"""
