"""ASGI entry point for multi-worker servers: `uvicorn pappus.asgi:app --workers 4`."""

from pappus.app import create_app

app = create_app()
