"""Routers of the web app, one module per area (sign-in, pages, exports, API)."""
