"""The analyze pipeline stage (see :mod:`callsight.stages.analyze.service`)."""
