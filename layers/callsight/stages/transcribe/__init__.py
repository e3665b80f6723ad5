"""The transcribe pipeline stage (see :mod:`callsight.stages.transcribe.service`)."""
