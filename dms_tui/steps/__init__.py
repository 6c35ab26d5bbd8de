"""The journey's steps: the only place each step's logic lives. The wizard's screens and the headless commands are
two renderers of the same step events.

Conventions (every module here follows them):

- One module per step, named for it: configure, provision, verify, prepare, migrate, diff, cleanup.
- A step takes the :class:`~dms_tui.environment.Environment` (and the :class:`~dms_tui.journey.Journey` when it reads
  or records journey state) plus typed inputs, and yields typed events: small frozen dataclasses defined in the step
  module (or re-exported from the adapter that produces them). The last event carries the step's result.
- Failures a person can act on are raised as :class:`~dms_tui.errors.StepError` (what, why, what to do next).
- The equivalent command a person could type (dms-tui / aws / terraform / psql) is built here, from the same
  values the step uses, so what is shown cannot drift from what is done.
- Nothing here imports Textual or rich; nothing here asks which mode it is in (the environment answers).
- What the wizard must be able to replace in tests is a field of :class:`~dms_tui.steps.services.StepServices`,
  injected once into the app by its factory; screens never take test seams of their own.
"""
