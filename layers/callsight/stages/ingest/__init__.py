"""The ingest stage: from an S3 ObjectCreated event to a RECEIVED (or QUARANTINED) call record."""
