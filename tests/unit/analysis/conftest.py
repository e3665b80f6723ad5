from __future__ import annotations

import pytest
from callsight.analysis.analyzer import Analyzer
from callsight.analysis.rules import load_rules


@pytest.fixture(scope="session")
def analyzer() -> Analyzer:
    return Analyzer(load_rules(), "RU", lambda phone: f"hash-of-{phone[-4:]}")
