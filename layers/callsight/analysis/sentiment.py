"""A call's sentiment from its turns: per turn, agent and customer means, the overall mean, and
the trend from the first to the last third (the customer's turns; every turn on an unseparated mono
call). Pure: the language module scores a turn's text."""

from __future__ import annotations

from statistics import fmean

from callsight.analysis.languages.base import LanguagePack
from callsight.analysis.text import TurnView
from callsight.models.analysis import SentimentSummary
from callsight.models.transcript import Speaker, Transcript

#: A turn scoring within this of zero says nothing about the speaker's mood.
NEUTRAL_TURN = 0.05


def sentiment_summary(
    turns: list[TurnView], pack: LanguagePack, transcript: Transcript, mono: bool
) -> SentimentSummary:
    scores = [pack.sentiment(t.text) for t in turns]
    weights = [max(1, len(t.tokens)) for t in turns]

    def mean(selected: list[int]) -> float | None:
        """Token-weighted mean over the turns that carry any sentiment (neutral turns such as
        "order 51734" would otherwise dilute one furious turn to nothing); 0 when none do."""
        if not selected:
            return None
        toned = [i for i in selected if abs(scores[i]) >= NEUTRAL_TURN] or selected
        total = sum(weights[i] for i in toned)
        return round(sum(scores[i] * weights[i] for i in toned) / total, 4)

    agent = mean([i for i, t in enumerate(turns) if t.speaker is Speaker.AGENT])
    customer = mean([i for i, t in enumerate(turns) if t.speaker is Speaker.CUSTOMER])
    focus = [i for i, t in enumerate(turns) if mono or t.speaker is Speaker.CUSTOMER] or list(
        range(len(turns))
    )
    third = transcript.duration_s / 3
    first = [scores[i] for i in focus if turns[i].start < third]
    last = [scores[i] for i in focus if turns[i].start >= 2 * third]
    first_third = round(fmean(first), 4) if first else 0.0
    last_third = round(fmean(last), 4) if last else first_third
    return SentimentSummary(
        per_turn=scores,
        agent=agent,
        customer=customer,
        overall=mean(list(range(len(turns)))) or 0.0,
        trend=round(last_third - first_third, 4),
        first_third=first_third,
        last_third=last_third,
    )
