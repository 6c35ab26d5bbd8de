"""What Prepare may do with a table that already exists (shared by the command's flags, the screen and the data
layer, and light enough for the CLI parser to import)."""

from __future__ import annotations

from typing import Literal

IfExists = Literal["keep", "truncate", "recreate"]
IF_EXISTS_CHOICES: tuple[IfExists, ...] = ("keep", "truncate", "recreate")
