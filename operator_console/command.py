"""The base of every management command of the console: nothing it prints reaches the terminal raw.

Commands print titles, nicknames, openids, account names and file names that came from
people and files. A terminal obeys the escape sequences and bidi overrides such text may
carry (clear the screen, rewrite a line, reorder what the operator reads), so everything a
`ConsoleCommand` writes to stdout or stderr — its own lines and a CommandError's message —
goes through `operator_console.text.printable` first (newlines and tabs kept). The colours
Django's styles add are applied after, so they still work.
"""

from __future__ import annotations

from django.core.management.base import BaseCommand, OutputWrapper

from .text import printable


class CleanOutput(OutputWrapper):
    """An OutputWrapper whose messages are made printable before they are styled and written."""

    def write(self, msg="", style_func=None, ending=None):
        super().write(printable(str(msg), keep_newlines=True), style_func, ending)


def _clean(wrapper: OutputWrapper) -> CleanOutput:
    if isinstance(wrapper, CleanOutput):
        return wrapper
    clean = CleanOutput(wrapper._out, ending=wrapper.ending)
    clean._style_func = wrapper._style_func  # keep a style set before (Django's stderr is red on a tty)
    return clean


class ConsoleCommand(BaseCommand):
    """BaseCommand whose stdout and stderr are CleanOutputs, however Django sets them (in
    __init__, or from call_command's stdout= / stderr=)."""

    @property
    def stdout(self) -> CleanOutput:
        return self._clean_stdout

    @stdout.setter
    def stdout(self, wrapper: OutputWrapper) -> None:
        self._clean_stdout = _clean(wrapper)

    @property
    def stderr(self) -> CleanOutput:
        return self._clean_stderr

    @stderr.setter
    def stderr(self, wrapper: OutputWrapper) -> None:
        self._clean_stderr = _clean(wrapper)
