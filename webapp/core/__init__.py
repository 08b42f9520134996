"""Shared plumbing: configuration, the database, security headers, throttling, errors and
the helpers every feature uses. Nothing here imports a feature."""
