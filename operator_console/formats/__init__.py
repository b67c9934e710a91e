"""The console's one way of writing a date and a time, whatever the language.

settings.FORMAT_MODULE_PATH points Django here: with localization always on, a locale's own
format file (Django's "Nov. 30, 2026, 2:49 p.m.", or 2026年11月30日 for zh-hans) would win over
settings.DATETIME_FORMAT, so every language the console speaks has a module (`en`, `zh_Hans`)
giving these. operator_console.platform_time.format_moment writes the same format, so a list
column, a read-only field, the history and a sentence of the console read alike:
"2026-11-30 14:49:05", ISO 8601's order with seconds, unambiguous for an ops team anywhere.
"""

# Django's date-format syntax (django.utils.dateformat) for what pages show.
DATETIME_FORMAT = "Y-m-d H:i:s"
DATE_FORMAT = "Y-m-d"
TIME_FORMAT = "H:i:s"
SHORT_DATETIME_FORMAT = DATETIME_FORMAT
SHORT_DATE_FORMAT = DATE_FORMAT
YEAR_MONTH_FORMAT = "Y-m"
MONTH_DAY_FORMAT = "m-d"
FIRST_DAY_OF_WEEK = 1  # Monday: the platform's weeks are ISO weeks

# strftime formats a form reads; the first one is what a form's input shows.
DATE_INPUT_FORMATS = ["%Y-%m-%d"]
TIME_INPUT_FORMATS = ["%H:%M:%S", "%H:%M"]
DATETIME_INPUT_FORMATS = ["%Y-%m-%d %H:%M:%S", "%Y-%m-%d %H:%M", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%dT%H:%M", "%Y-%m-%d"]

__all__ = [
    "DATETIME_FORMAT",
    "DATE_FORMAT",
    "TIME_FORMAT",
    "SHORT_DATETIME_FORMAT",
    "SHORT_DATE_FORMAT",
    "YEAR_MONTH_FORMAT",
    "MONTH_DAY_FORMAT",
    "FIRST_DAY_OF_WEEK",
    "DATE_INPUT_FORMATS",
    "TIME_INPUT_FORMATS",
    "DATETIME_INPUT_FORMATS",
]
