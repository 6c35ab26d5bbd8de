"""Constants and helpers the DMS run tests share (a module with a unique name, importable from any test)."""

from __future__ import annotations

import json

REGION = "eu-west-1"

# The seed's mapping: every table of demo_schema.
SEED_MAPPINGS = json.dumps(
    {
        "rules": [
            {
                "rule-type": "selection",
                "rule-id": "1",
                "rule-name": "include-demo-schema",
                "object-locator": {"schema-name": "demo_schema", "table-name": "%"},
                "rule-action": "include",
            }
        ]
    }
)
SEED_SETTINGS = json.dumps(
    {
        "FullLoadSettings": {"TargetTablePrepMode": "TRUNCATE_BEFORE_LOAD", "MaxFullLoadSubTasks": 8},
        "Logging": {"EnableLogging": False},
    }
)


class FakeClock:
    """Time that only moves when the code under test sleeps, so waits take no real time."""

    def __init__(self) -> None:
        self.now = 0.0
        self.sleeps: list[float] = []

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds
