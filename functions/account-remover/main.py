"""The `account-remover` event function: removes a deleted account's rows and blobs."""

from phasma.events.worker import event_function

handle = event_function("account-remover")
