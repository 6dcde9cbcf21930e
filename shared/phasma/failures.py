"""Failures of the services a function depends on, shared by every client module."""


class DependencyUnavailable(Exception):
    """PostgreSQL, the blob store or the search engine is unreachable or failing (→ 503)."""
