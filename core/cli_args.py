"""Argument types for the command lines: a bad number is refused by argparse with a clear message."""

from __future__ import annotations

import argparse
from typing import Callable


def at_least(minimum: int) -> Callable[[str], int]:
    """An argparse ``type``: a whole number no smaller than ``minimum``.

    Args:
        minimum: The smallest number accepted.

    Returns:
        The converter, which raises ``ArgumentTypeError`` for anything else.

    """

    def whole_number(text: str) -> int:
        try:
            number = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
        if number < minimum:
            raise argparse.ArgumentTypeError(f"{number} is less than {minimum}")
        return number

    return whole_number


def positive_number(text: str) -> float:
    """An argparse ``type``: a number above zero (hours, seconds)."""
    try:
        number = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number") from None
    if not number > 0 or number == float("inf"):
        raise argparse.ArgumentTypeError(f"{text} is not a number above zero")
    return number


def fraction(text: str) -> float:
    """An argparse ``type``: a share from 0 to 1 (of the training data, say)."""
    try:
        number = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number") from None
    if not 0.0 <= number <= 1.0:
        raise argparse.ArgumentTypeError(f"{text} is not a share from 0 to 1")
    return number
