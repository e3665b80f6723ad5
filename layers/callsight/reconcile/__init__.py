"""Reconciliation: every recording has exactly one call, every call its recording, nothing is stuck.

``callsight reconcile`` (:mod:`.command`) runs :func:`~callsight.reconcile.service.run_reconcile`:
:mod:`.inventory` reads a snapshot (S3 versions, the calls table, queue depths, dead letters),
:mod:`.logic` judges it (pure), :mod:`.fixes` applies the few repairs that are provably safe.
"""
