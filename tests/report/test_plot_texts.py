"""Names from the user's files reach the plots as they are: a tab or a carriage return in an
offer's name is drawn as a space, not as a missing-glyph box (matplotlib warned "Glyph 9
missing from font(s) DejaVu Sans" for the CSV test's hostile market file), and dollar
signs are dollar signs, not mathtext (two of them set the text between in italics; an
unknown command between them raised ParseFatalException and no plot was written)."""

from __future__ import annotations

import warnings

import matplotlib.pyplot as plt
import pandas as pd

from offerlab.report import plot_shares
from offerlab.report._png import printable_texts

HOSTILE = ["\tKeep leasing", "\r-Buy a used car", "Our\x1bFlex\x85Electric", "two\nlines"]
DOLLARS = ["Save $5 or $6", "Deal $\\nosuch$ now", "already \\$ escaped"]


def test_control_characters_become_spaces_and_line_breaks_stay() -> None:
    fig, ax = plt.subplots()
    ax.barh(HOSTILE, [1, 2, 3, 4])
    ax.set_title("shares\tof\x07preference")
    ax.legend(["a\rb"])
    printable_texts(fig)
    fig.canvas.draw()  # category ticks are formatted here
    ticks = [t.get_text() for t in ax.get_yticklabels()]
    assert ticks == [" Keep leasing", " -Buy a used car", "Our Flex Electric", "two\nlines"]
    assert ax.get_title() == "shares of preference"
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["a b"]
    plt.close(fig)


def test_a_plot_of_hostile_offer_names_draws_every_glyph(tmp_path) -> None:
    shares = pd.DataFrame({"offer": HOSTILE, "share": [0.1, 0.2, 0.3, 0.4]})
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # "Glyph 13 (\r) missing from font(s)…" fails
        path = plot_shares(shares, tmp_path / "shares.png", title="Shares\tby offer")
    assert path.stat().st_size > 0


def test_dollar_signs_are_drawn_as_dollar_signs(tmp_path) -> None:
    fig, ax = plt.subplots()
    ax.barh(DOLLARS, [1, 2, 3])
    printable_texts(fig)
    printable_texts(fig)  # twice: nothing escaped twice
    fig.canvas.draw()  # would raise ParseFatalException on "\\nosuch"
    ticks = [t.get_text() for t in ax.get_yticklabels()]
    assert ticks == ["Save \\$5 or \\$6", "Deal \\$\\nosuch\\$ now", "already \\$ escaped"]
    # matplotlib draws each "\\$" outside mathtext as "$"
    assert [t._preprocess_math(t.get_text()) for t in ax.get_yticklabels()] == [
        ("Save $5 or $6", False), ("Deal $\\nosuch$ now", False), ("already $ escaped", False)
    ]  # fmt: skip
    plt.close(fig)
    shares = pd.DataFrame({"offer": DOLLARS, "share": [0.2, 0.3, 0.5]})
    assert plot_shares(shares, tmp_path / "shares.png").stat().st_size > 0
