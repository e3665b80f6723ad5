"""The pipeline's stages, one package each: ``ingest`` (an uploaded object becomes a call),
``transcribe`` (a call's audio becomes a transcript; the speech itself is :mod:`callsight.asr`),
``analyze`` (a transcript becomes an analysis; the rules themselves are :mod:`callsight.analysis`),
and :mod:`queue` (the SQS retry/idempotency shell their handlers share)."""
