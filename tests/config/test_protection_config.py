"""The [protection] section: on by default, validated like every section."""

from __future__ import annotations

import pytest

from statebot.config.model import parse_config
from statebot.errors import ConfigError


def test_protection_is_on_by_default_trips_on_a_lost_stop_and_assumes_the_stop_first() -> None:
    p = parse_config("").protection
    assert (p.enabled, p.on_lost, p.both_reached) == (True, "trip", "stop")


def test_protection_settings_are_read() -> None:
    p = parse_config('[protection]\nenabled = false\non_lost = "resend"\nboth_reached = "target"\n').protection
    assert (p.enabled, p.on_lost, p.both_reached) == (False, "resend", "target")


@pytest.mark.parametrize(("text", "named"), [
    ('[protection]\non_lost = "explode"\n', "protection.on_lost"),
    ('[protection]\nboth_reached = "open"\n', "protection.both_reached"),
    ("[protection]\nenabled = 1\n", "protection.enabled"),
    ("[protection]\nstop_at = 3\n", "protection.stop_at"),
])
def test_a_bad_protection_setting_is_one_error_naming_its_key(text: str, named: str) -> None:
    with pytest.raises(ConfigError) as caught:
        parse_config(text)
    assert named in str(caught.value) and "\n" not in str(caught.value)
