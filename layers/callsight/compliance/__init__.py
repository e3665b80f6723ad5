"""Compliance: the tamper-evident audit log, retention and masking policies, legal holds, the
retention sweep and erasure by subject. Domain rules here; DynamoDB/S3 access in ``callsight.storage``."""
