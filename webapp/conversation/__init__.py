"""The conversation: the feed and its comments."""
