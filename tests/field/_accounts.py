"""The console tests' fixture accounts: one scrypt hash per password, made once a process.

``_auth.hash_password`` (scrypt, n=2**14) costs about 40 ms a call; the fixtures made five
accounts a console, each with a fresh salt, a few hundred times a run. While
:func:`one_hash_per_password` lasts, ``add_member`` stores the hash made the first time
for that password: a real scrypt hash of it, which every login still checks with scrypt.
The tests of the accounts themselves (test_console_accounts.py, test_console_team.py)
make theirs the ordinary way.
"""

from __future__ import annotations

import functools
from collections.abc import Iterator
from contextlib import contextmanager

import pytest

from offerlab.field import _auth

_HASH_PASSWORD = _auth.hash_password  # the real one, also while it is replaced below


@functools.cache
def _hash_of(password: str) -> str:
    return _HASH_PASSWORD(password)


@contextmanager
def one_hash_per_password() -> Iterator[None]:
    """While it lasts, accounts added with the same password share one hash of it."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(_auth, "hash_password", _hash_of)
        yield
