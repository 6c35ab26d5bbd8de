"""Reachability checks: prove every hop of the PrivateLink path before data moves (Textual-free).

Entry points: ``verify(target, outputs, on_event=...)`` runs the checklist and returns a ``VerifyReport``;
``build_checks`` + ``run_checks`` run a chosen subset. Events: ``ChecksPlanned``, ``CheckStarted``, ``CheckFinished``.
"""
