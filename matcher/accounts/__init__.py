"""Accounts for people: sign-up, log-in with throttling, sessions, single-use link tokens
(password reset, e-mail verification), organisation memberships and claims."""

from matcher.accounts.claims import Claim, Claims, Member, Membership
from matcher.accounts.people import Accounts, Person
from matcher.accounts.throttle import LoginThrottle

__all__ = ["Accounts", "Claim", "Claims", "LoginThrottle", "Member", "Membership", "Person"]
