"""Comments on posts: list, create, and delete by the comment's or the post's author."""
