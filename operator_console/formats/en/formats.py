"""The console's formats for this language: the same for every language (operator_console/formats)."""

from operator_console.formats import *  # noqa: F403
