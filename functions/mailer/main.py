"""The `mailer` event function: verification, password-reset and notice mail over SMTP."""

from phasma.events.worker import event_function

handle = event_function("mailer")
