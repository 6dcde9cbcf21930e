"""HTTP plumbing: routing, the request pipeline, errors and responses."""
