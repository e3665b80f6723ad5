"""The transcribe pipeline stage (see :mod:`callsight.transcribe.service`)."""
