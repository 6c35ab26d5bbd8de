"""The equivalent-command box says when it shows less than the whole command (at 80x24 a long one is cut at its
height), so a cut command never passes for the whole one; `c` copies it whole."""

from __future__ import annotations

from textual.app import App, ComposeResult

from dms_tui.widgets.command_hint import CommandHint

LONG = "aws dms create-replication-task --table-mappings " + "'" + '{"rules": []}' * 40 + "'"


class _Hint(App[None]):
    def compose(self) -> ComposeResult:
        yield CommandHint("dms-tui diff --sandbox", id="command-hint")


async def test_a_cut_command_says_so_on_the_box_and_a_whole_one_does_not() -> None:
    app = _Hint()
    async with app.run_test(size=(80, 24)) as pilot:
        hint = app.query_one(CommandHint)
        await pilot.pause()
        assert not hint.cut and not hint.border_subtitle
        hint.command = LONG
        await pilot.pause()
        await pilot.pause()
        assert hint.cut and hint.border_subtitle == "cut here · c copies it whole"
        hint.command = "dms-tui verify --sandbox"
        await pilot.pause()
        await pilot.pause()
        assert not hint.cut and not hint.border_subtitle
