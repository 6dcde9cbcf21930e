"""Search: users, posts and hashtags on PostgreSQL or Meilisearch; typeahead; recent searches."""
