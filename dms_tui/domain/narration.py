"""What each step of the journey shows a customer, in plain language: what it proves and why the hop exists.

Text as data, below the UI: the wizard's presenter mode shows it beside each step, and the hand-over report or the
served demo can print the same words. Keyed by the journey step's name ("configure", "provision", ...),
"welcome" for the start, and "<step>-<moment>" for a later moment of a step (the change-data-capture part of
"migrate").
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Narration:
    """One step told to a customer: a headline, what the step proves, and why this hop of the path exists."""

    headline: str
    proves: str
    why: str


NARRATION: dict[str, Narration] = {
    "welcome": Narration(
        "From your data centre to Aurora, without joining the networks",
        "We move a PostgreSQL database into Amazon Aurora PostgreSQL with AWS Database Migration Service.",
        "Everything here runs the same code that runs against a real AWS account; the sandbox just plays AWS.",
    ),
    "configure": Narration(
        "Three networks that never touch",
        "The source, the migration service and Aurora each live in their own VPC; the address ranges may even "
        "be the same, as an on-premises network often overlaps the cloud's.",
        "Nothing is routed or peered: AWS PrivateLink gives DMS a private door into each database's network, "
        "and nothing more.",
    ),
    "provision": Narration(
        "Built from code, nothing by hand",
        "Terraform creates the networks, load balancers, PrivateLink endpoints, both databases, the secrets and "
        "the DMS replication instance from one bundle you can run in your own account.",
        "Passwords are generated straight into Secrets Manager: nobody types or sees them, nothing writes them "
        "to disk.",
    ),
    "verify": Narration(
        "Proving the path before any data moves",
        "Every hop is tested on its own: the endpoint names resolve, TCP passes through each PrivateLink "
        "endpoint, the secrets log in, and DMS's own connection test passes.",
        "A failure here names the hop and the fix, before a single row is copied.",
    ),
    "prepare": Narration(
        "Data we can count",
        "The source gets a demo table with a known number of rows and a primary key (live changes need one to "
        "apply updates and deletes); the target database starts empty.",
        "An empty target means that every row found there afterwards was carried by DMS.",
    ),
    "migrate": Narration(
        "The migration itself",
        "AWS DMS copies every table: it reads through one PrivateLink endpoint and writes through the other, "
        "table by table, with rows per second as it goes.",
        "The task is the same object you would see in the AWS console, with the same statistics.",
    ),
    # The migrate step once a change-capturing task has loaded every table: the workload's writes keep flowing.
    "migrate-cdc": Narration(
        "Live changes, while the source stays in use",
        "A workload writes 20 changes a second to the source; DMS reads each one from the write-ahead log and "
        "applies it to Aurora: captured and applied climb together.",
        "The application keeps running during the copy: it stops only for the seconds of the cutover.",
    ),
    "diff": Narration(
        "Proof that nothing was lost or changed",
        "Both databases are compared row by row, by hashes of every column, independently of DMS.",
        "Identical means the same rows with the same values; any difference is shown side by side.",
    ),
    "cutover": Narration(
        "Switching the application over",
        "Writes to the source stop, the last changes reach Aurora, a final comparison proves both sides equal, "
        "and the application can point at the target.",
        "How long the application had to wait is measured and shown in the summary.",
    ),
    "cleanup": Narration(
        "Leaving nothing behind",
        "Everything that was created is removed in order, and the removal is checked.",
        "The cost stops here; the configuration is kept, so the same demo can be shown again.",
    ),
}


def narration_for(step: str) -> Narration:
    """The narration of a step by its name; a plain one for a step without words of its own."""
    return NARRATION.get(step) or Narration(step.capitalize(), "", "")
