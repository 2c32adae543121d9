"""rulec.windows: one function writes a window, one resolves it, one says what is wrong with it."""

from __future__ import annotations

import pytest

from rulec.windows import WindowError, first_covered, frames_of, resolve_window, window_misfit, window_text


def test_window_text_leaves_an_omitted_side_empty():
    assert window_text(2, 5) == "[2:5]"
    assert window_text(-2, None) == "[-2:]"
    assert window_text(None, None) == "[:]"
    assert window_text("0", "8") == "[0:8]"  # the printer passes bounds as printed text


def test_without_a_length_only_what_is_wrong_at_every_length_is_a_misfit():
    assert window_misfit(5, 2, None)[0] == "E301"
    assert window_misfit(-1, -3, None)[0] == "E301"
    assert window_misfit(-2, None, None, nested=True)[0] == "E303"
    assert window_misfit(-2, None, None) is None  # outermost: counts from the end
    assert window_misfit(3, -2, None) is None  # empty or not, depending on the length
    assert window_misfit(0, 20, None) is None


def test_with_a_length_an_outermost_window_lies_inside_the_video():
    assert window_misfit(0, 20, 16)[0] == "E302"
    assert window_misfit(0, 20, 16, nested=True) is None  # nested windows run past the end near it
    assert window_misfit(20, None, 30, nested=True) is None
    assert window_misfit(20, None, 16, nested=True)[0] == "E301"
    assert window_misfit(-2, None, 16) is None
    assert window_misfit(-2, None, 16, nested=True)[0] == "E303"


def test_resolution_at_a_frame():
    assert list(resolve_window(1, 3, 10).at(4)) == [5, 6]
    assert list(resolve_window(-3, None, 10, offset=1).at(8)) == [9]
    assert resolve_window(5, 2, 10) is None
    assert first_covered(-2, None, 10) == (8, 10)
    assert first_covered(None, 4, 10) == (0, 4)
    with pytest.raises(WindowError, match="T=3"):
        frames_of(3, None, 3)
    with pytest.raises(ValueError, match="offset must be 0 or 1"):
        frames_of(0, None, 3, offset=2)
