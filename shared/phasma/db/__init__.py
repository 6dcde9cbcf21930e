"""PostgreSQL access: connecting, pooling and schema migrations."""
