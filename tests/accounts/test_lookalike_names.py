"""Names that look alike are one name: `alice`, `aIice` and `a1ice` cannot all be registered."""

from __future__ import annotations

import pytest
from flask import Flask
from sqlalchemy import select

from tests.conftest import AuthActions
from webapp.accounts.identity import username_skeleton
from webapp.accounts.models import User
from webapp.core.extensions import db

TAKEN = "That username is taken"


@pytest.mark.parametrize(
    ("first", "second"),
    [
        ("alice", "aIice"),  # capital i for l
        ("alice", "a1ice"),  # one for l
        ("aIice", "alice"),
        ("bob0", "bobO"),  # zero for O
        ("bob0", "bobo"),
        ("lily", "IiIy"),
        ("user_1", "USER_l"),
    ],
)
def test_a_lookalike_of_a_taken_name_is_refused(
    app: Flask, auth: AuthActions, first: str, second: str
) -> None:
    assert auth.register(first).status_code == 303
    refused = auth.register(second, email=f"other-{second}@example.com")
    assert refused.status_code == 422
    assert TAKEN in refused.get_data(as_text=True)
    with app.app_context():
        names = db.session.scalars(select(User.username)).all()
    assert names == [first]


def test_only_one_of_three_lookalikes_gets_an_account(app: Flask, auth: AuthActions) -> None:
    statuses = [
        auth.register(name, email=f"{n}@example.com").status_code
        for n, name in enumerate(["alice", "aIice", "a1ice"])
    ]
    assert statuses == [303, 422, 422]


def test_names_that_only_share_letters_are_still_free(app: Flask, auth: AuthActions) -> None:
    for name in ("alice", "alicia", "malice", "alice2"):
        assert auth.register(name).status_code == 303, name


def test_the_database_decides_a_race_between_lookalikes(app: Flask) -> None:
    """The unique constraint on the skeleton holds even when the friendly look-up is
    skipped (two registrations that both passed it)."""
    from sqlalchemy.exc import IntegrityError

    with app.app_context():
        for name in ("alice", "aIice"):
            db.session.add(
                User(
                    username=name,
                    username_canon=name.casefold(),
                    username_skeleton=username_skeleton(name),
                    email=f"{name.casefold()}-{len(name)}@example.com",
                    password_hash="x",
                )
            )
        with pytest.raises(IntegrityError):
            db.session.commit()
        db.session.rollback()


def test_the_skeleton_folds_only_lookalikes() -> None:
    assert username_skeleton("alice") == username_skeleton("ALICE") == username_skeleton("a1ice")
    assert username_skeleton("bob0") == username_skeleton("BOBO")
    assert username_skeleton("alice") != username_skeleton("alise")
