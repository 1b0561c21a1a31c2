"""The command lines' number arguments: a bad number stops argparse with a clear message."""

from __future__ import annotations

import argparse

import pytest

from console import retention
from core.cli_args import at_least, fraction, positive_number


def test_a_whole_number_at_or_above_the_minimum_is_taken() -> None:
    assert at_least(1)("3") == 3
    assert at_least(2)("2") == 2


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("0", "0 is less than 1"),
        ("-4", "-4 is less than 1"),
        ("2.5", "not a whole number"),
        ("", "not a whole number"),
    ],
)
def test_anything_else_is_refused_with_the_reason(text: str, reason: str) -> None:
    with pytest.raises(argparse.ArgumentTypeError, match=reason):
        at_least(1)(text)


@pytest.mark.parametrize("text", ["0", "-1", "nan", "inf", "six"])
def test_hours_must_be_a_number_above_zero(text: str) -> None:
    with pytest.raises(argparse.ArgumentTypeError):
        positive_number(text)
    assert positive_number("0.25") == 0.25


def test_argparse_stops_with_the_option_and_the_reason(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as stopped:
        retention.run(["--days", "0"])
    assert stopped.value.code == 2
    assert "argument --days: 0 is less than 1" in capsys.readouterr().err


@pytest.mark.parametrize("text", ["1.5", "-0.1", "nan", "half"])
def test_a_share_must_lie_from_0_to_1(text: str) -> None:
    with pytest.raises(argparse.ArgumentTypeError):
        fraction(text)
    assert [fraction(text) for text in ("0", "0.25", "1")] == [0.0, 0.25, 1.0]
