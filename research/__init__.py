"""Researchers' tools: replay the cases event log, anonymized, to study how cases evolve."""
