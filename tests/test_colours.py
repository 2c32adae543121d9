"""One '#rrggbb' parser for the compiler and the runtime (rulec.primitives.colours)."""

from __future__ import annotations

import pytest

from rulec.primitives import colours


def test_parses_hex_to_bytes_and_unit_floats():
    assert colours.hex_to_rgb("#e53935") == (229, 57, 53)
    assert colours.hex_to_rgb("#FFFFFF") == (255, 255, 255)
    assert colours.hex_to_rgb01("#ff0000") == (1.0, 0.0, 0.0)


@pytest.mark.parametrize("bad", ["e53935", "#e5393", "#e539355", "#gggggg", "", None, 123])
def test_anything_else_is_a_clear_value_error(bad):
    with pytest.raises(ValueError, match="#rrggbb"):
        colours.hex_to_rgb(bad)


def test_the_runtime_and_the_compiler_use_it():
    from rulec import explain
    from rulec.primitives import detectors
    from rulec.runtime.tasks import world

    assert world.hex_to_rgb is colours.hex_to_rgb
    assert explain._rgb("#1e88e5") == colours.hex_to_rgb("#1e88e5")
    assert detectors.hex_to_rgb01("#1e88e5") == colours.hex_to_rgb01("#1e88e5")
