"""Welcome: which mode this run is in and which environment to work on."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.containers import Vertical
from textual.screen import Screen
from textual.widgets import Footer, Header, Static


class WelcomeScreen(Screen[None]):
    def __init__(self, *, sandbox: bool, env: str) -> None:
        super().__init__()
        self.sandbox = sandbox
        self.env = env

    def compose(self) -> ComposeResult:
        yield Header()
        mode = "Embedded sandbox (no AWS account needed)" if self.sandbox else "AWS account (boto3 default chain)"
        with Vertical(id="welcome"):
            yield Static("On-premises PostgreSQL → Aurora PostgreSQL through AWS PrivateLink", id="welcome-title")
            yield Static(f"Mode: {mode}", id="welcome-mode")
            yield Static(f"Environment: {self.env}", id="welcome-env")
        yield Footer()
