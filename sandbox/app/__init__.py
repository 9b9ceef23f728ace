"""The Flask app: built from a spec and settings, requests run through one pipeline."""

from sandbox.app.wsgi import create_app

__all__ = ["create_app"]
