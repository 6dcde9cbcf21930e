"""Account removal (api-2 §C): everything of an account deleted in resumable batches."""
