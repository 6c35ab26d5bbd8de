"""dms-tui: provision, verify, run and prove an on-premises PostgreSQL to Aurora migration through PrivateLink."""

__version__ = "0.1.0"
