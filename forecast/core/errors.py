"""The one exception bad input raises, with a message that says where and what."""

from __future__ import annotations


class InputError(ValueError):
    """Bad input data or configuration, found before anything is written.

    The message names the file, column and row (1-based line number in the file, the
    header being line 1), the value found and what was expected. All problems found in a
    file are reported together.
    """


def problem(path, column: str | None, row: int | None, got, expected: str) -> str:
    """One line of an :class:`InputError` message.

    ``data/births.csv, column "age", row 214: got "15-19 "; expected an integer age 0-100.``
    """
    where = [str(path)]
    if column is not None:
        where.append(f'column "{column}"')
    if row is not None:
        where.append(f"row {row}")
    got_text = "nothing" if got is None else f'"{_clipped(str(got))}"'
    return f"{', '.join(where)}: got {got_text}; expected {expected}."


#: Longest value a problem line shows whole; longer ones are cut, with their length.
SHOWN_CHARACTERS = 80


def _clipped(text: str) -> str:
    """``text``, or its start and length where it is longer than :data:`SHOWN_CHARACTERS`."""
    if len(text) <= SHOWN_CHARACTERS:
        return text
    return f"{text[:SHOWN_CHARACTERS]}... ({len(text):,} characters)"


def raise_if(problems: list[str], limit: int = 20) -> None:
    """Raise one :class:`InputError` listing up to ``limit`` problems, if there are any."""
    if not problems:
        return
    shown = problems[:limit]
    more = len(problems) - len(shown)
    tail = [f"... and {more} more problems of the same kind."] if more else []
    raise InputError("\n".join(shown + tail))


class Interrupted(RuntimeError):
    """The run was stopped (Ctrl-C, SIGTERM) or a stage did not get all it asked for;
    nothing is written."""


class OutputError(RuntimeError):
    """The run's files could not be written (disk full, permissions); the run folder is
    left as it was."""
