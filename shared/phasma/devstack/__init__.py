"""The local development stack: dependency servers started from PyPI wheels."""
