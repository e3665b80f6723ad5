"""Compliance rules, pure: the tamper-evident audit chain, retention and masking policies, masking
and audio redaction, access-anomaly rules. The services that apply them to stored calls live in
:mod:`callsight.sweeps`; DynamoDB/S3 access in :mod:`callsight.storage`."""
