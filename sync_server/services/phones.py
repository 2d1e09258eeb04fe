"""A phone number as the server compares it and as it shows it to anyone but its owner: one
rule for the portal, the office's message log, the rules engine and the server's log."""

from __future__ import annotations

import re


def phone_digits(text: str | None) -> str:
    """A phone number as its digits, without a leading +86 / 86."""
    digits = re.sub(r"\D", "", text or "")
    return digits[2:] if len(digits) == 13 and digits.startswith("86") else digits


def masked_phone(phone: str | None) -> str:
    """The first three and last four digits (138****5678); a number too short to keep a
    middle hidden is all asterisks."""
    digits = phone_digits(phone)
    return digits[:3] + "****" + digits[-4:] if len(digits) >= 7 else "****"
