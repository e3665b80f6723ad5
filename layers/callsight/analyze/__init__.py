"""The analyze pipeline stage (see :mod:`callsight.analyze.service`)."""
