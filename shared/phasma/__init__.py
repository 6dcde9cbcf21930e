"""Phasma: the shared package every function imports."""
