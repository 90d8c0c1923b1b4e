"""Adding a host and replacing its key, for `main.py hosts` and the hosts API alike: the same name rule, the same
refusals, a key returned once to the caller (which shows it once) and stored only as its sha256. Nothing here logs:
a key must never reach a log."""

from __future__ import annotations

from sqlalchemy.exc import IntegrityError

from config.user_text import HOST_NAME
from fleet.host_keys import key_hash, new_key
from storage import db
from storage.database import write_transaction
from storage.host_store import insert_host, replace_key


class EnrolmentRefused(ValueError):
    """Why a host cannot be added or its key changed; `name` is the name as given. Callers word it for their
    users (the CLI names its NAME argument, the API its field)."""

    def __init__(self, name: str) -> None:
        super().__init__(name)
        self.name = name


class InvalidHostName(EnrolmentRefused):
    allowed = HOST_NAME.allowed


class HostNameTaken(EnrolmentRefused):
    pass


class UnknownHost(EnrolmentRefused):
    pass


def checked_name(name: str) -> str:
    if not HOST_NAME.admits(name):
        raise InvalidHostName(name)
    return name


def add_host(name: str) -> str:
    """A new host and its first key, which is returned (its hash stored)."""
    key = new_key()
    try:
        with write_transaction(db.engine) as connection:
            insert_host(connection, checked_name(name), key_hash(key))
    except IntegrityError:
        raise HostNameTaken(name) from None
    return key


def rotate_key(name: str) -> str:
    """A new key for the host, returned; the old one stops working."""
    key = new_key()
    _replace(checked_name(name), key_hash(key))
    return key


def revoke_key(name: str) -> None:
    """No key for the host: its pushes are refused until a rotate."""
    _replace(checked_name(name), None)


def _replace(name: str, new_hash: str | None) -> None:
    with write_transaction(db.engine) as connection:
        if not replace_key(connection, name, new_hash):
            raise UnknownHost(name)
