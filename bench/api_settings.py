"""Settings of bench/api.py's server: the console's own, with the floor views' URLs added."""

from operator_console.settings import *  # noqa: F403

ROOT_URLCONF = "bench.api_urls"
