"""Call analysis: categories, sentiment, entities, keyword hits, talk metrics, checkpoints, risk.

Pure domain logic over a :class:`~callsight.models.transcript.Transcript`; everything that depends
on the language lives in :mod:`callsight.analysis.languages` (one module per language).
"""
