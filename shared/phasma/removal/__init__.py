"""Account removal (docs/api.md §C): everything of an account deleted in resumable batches."""
