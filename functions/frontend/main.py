"""The `frontend` function: the server-rendered site and the only public entry point."""

from phasma.frontend.app import frontend_function

handle = frontend_function()
