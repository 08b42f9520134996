"""People: profile pages, the hover card, follows, avatars and last-seen times."""
