"""Services that act on stored calls, above :mod:`callsight.storage` and below the handlers: the
scheduled sweeps (retention, masking, stats rollup, weekly report, access check, audit verification)
and the erasure, legal-hold and consent operations they share with the API and ingest."""
