"""The `frontend` function: server-rendered pages, forms and the image proxy (frontend.md).

It is the only public entry point. It calls the backend functions server-side
(`backend.py`), relays the session cookie onto its own origin (`cookies.py`),
guards every mutation by origin (`security.py`) and renders Jinja2 templates from
the repository's `frontend/` folder (`rendering.py`, `assets.py`). The page
handlers live in `pages/`, one module per area, wired up in `routes.py`.
"""
