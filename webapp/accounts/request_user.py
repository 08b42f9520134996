"""The logged-in user as each request holds it: plain columns, not an ORM entity."""

from __future__ import annotations

from dataclasses import dataclass
from dataclasses import field
from datetime import datetime
from typing import NamedTuple

from webapp.accounts.models import User


class CurrentSession(NamedTuple):
    """What a request needs of its session: plain columns, not an ORM entity."""

    id: int
    created_at: datetime
    last_seen_at: datetime
    remembered: bool


@dataclass(frozen=True, slots=True)
class CurrentUser:
    """The logged-in user as a request sees it: the columns of the user row and the session,
    read as one Core row, not an ORM entity.

    It is loaded on every request, so it skips what an entity costs: the ORM's statement
    and row machinery and the identity map (measured in docs/performance.md, "Where the time
    goes"). It is read-only; a view that changes the account loads the entity with
    `current_account()`.
    """

    id: int
    username: str
    username_canon: str
    email: str
    email_confirmed_at: datetime | None
    password_hash: str = field(repr=False)
    about_me: str
    created_at: datetime
    last_seen: datetime
    show_hovercards: bool
    current_session: CurrentSession

    # What Flask-Login asks of a user object.
    is_authenticated = True
    is_active = True
    is_anonymous = False

    def get_id(self) -> str:
        return str(self.id)

    @property
    def email_confirmed(self) -> bool:
        return self.email_confirmed_at is not None

    @classmethod
    def of(cls, user: User, user_session: CurrentSession) -> CurrentUser:
        return cls(*(getattr(user, name) for name in USER_COLUMNS), user_session)


USER_COLUMNS = [name for name in CurrentUser.__dataclass_fields__ if name != "current_session"]

#: What reads an account's columns can be given: the request's CurrentUser or the entity.
Account = User | CurrentUser
