"""What the routes do: list, read and transcript of calls for a verified principal, every read audited.

A call the caller may not see is answered exactly like a call that does not exist (404), so an
agent cannot probe other agents' call ids. Listing pages through DynamoDB indexes with opaque
cursors (base64 of the last evaluated key, signed so a client cannot forge one), newest start
first: agents (and an ``agent`` filter) through their ``by-agent`` partition, everyone else through
the ``by-day`` index day by day between the call-day bounds (calls without a start time are not
listed: they stay in ``/feed`` and the call view); a deployment without those bounds yet lists
through the ``by-update`` feed index, newest change first. A QA user's listing (and a team or queue
filter) asks DynamoDB to filter what it reads by team and queue, so one Query usually fills a page.
The alert list reads the sparse ``alerts`` index, which holds only calls that tripped an alert
rule, filtered to the caller's scope. The queries themselves are :mod:`callsight.storage.call_queries`'.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from typing import Any

from callsight.analysis.languages import language_pack, supported_languages
from callsight.api import search
from callsight.api.audited import audited
from callsight.api.errors import BadRequest as BadRequest
from callsight.api.errors import Conflict as Conflict
from callsight.api.errors import Forbidden as Forbidden
from callsight.api.errors import NotFound as NotFound
from callsight.api.models import (
    AlertsQuery,
    CallDetail,
    CallPage,
    CallSummary,
    FeedQuery,
    ListQuery,
    SearchHit,
    SearchQuery,
    SearchResults,
)
from callsight.auth.access import can_see_call, may_see_pii
from callsight.auth.tokens import Principal, Role
from callsight.compliance.masking import mask_transcript
from callsight.compliance.policies import MaskingPolicy
from callsight.config import Settings
from callsight.models.call import CallRecord
from callsight.models.transcript import Transcript
from callsight.resources import RECORDINGS_BUCKET
from callsight.storage import call_queries
from callsight.storage.audit_log import AuditLog
from callsight.storage.call_queries import CallsPage
from callsight.storage.call_repository import CallRepository
from callsight.storage.daily_stats import call_day_bounds
from callsight.storage.search_index import SearchIndex
from callsight.storage.transcripts import TranscriptStore

#: Items a listing request reads at most before answering (a selective filter returns a short page
#: with a cursor rather than scanning the whole table in one request).
MAX_EXAMINED = 1000
#: A listing DynamoDB filters (QA scope, team/queue) or this API filters reads pages this many times
#: larger than the page it answers, so a selective scope usually fills its page in one Query.
SCOPED_PAGE_FACTOR = 8


class CallsApi:
    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.calls = CallRepository(settings)  # binds the tables the listings read
        self.transcripts = TranscriptStore(settings)
        self.audit = AuditLog(settings)
        self.index = SearchIndex(settings)
        self.recordings_bucket = RECORDINGS_BUCKET.physical(settings)
        self._cursor_key = hashlib.sha256(
            b"cursor:" + settings.auth_local_secret.get_secret_value().encode()
        ).digest()

    # --- cursors ----------------------------------------------------------------------------------
    def _encode_cursor(self, key: dict[str, Any] | None, scope: str) -> str | None:
        """An opaque, signed cursor; ``scope`` names the listing it resumes (index and partition), so a
        cursor from one listing handed to another is a 400, never a malformed DynamoDB query."""
        if not key:
            return None
        body = json.dumps({"s": scope, "k": key}, sort_keys=True, separators=(",", ":")).encode()
        mac = hmac.new(self._cursor_key, body, hashlib.sha256).digest()[:12]
        return base64.urlsafe_b64encode(mac + body).decode().rstrip("=")

    def _decode_cursor(self, cursor: str | None, scope: str) -> dict[str, Any] | None:
        if not cursor:
            return None
        try:
            raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
            mac, body = raw[:12], raw[12:]
            if not hmac.compare_digest(mac, hmac.new(self._cursor_key, body, hashlib.sha256).digest()[:12]):
                raise ValueError("signature")
            payload = json.loads(body)
            if not isinstance(payload, dict) or not isinstance(payload.get("k"), dict):
                raise ValueError("shape")
        except ValueError as exc:
            raise BadRequest("cursor is not one this API issued") from exc
        if payload.get("s") != scope:
            raise BadRequest("cursor belongs to another listing (other route or filters): start without it")
        key: dict[str, Any] = payload["k"]
        if not _start_key_fits(key, scope):
            raise BadRequest("cursor does not hold a position in this listing: start without it")
        return key

    # --- routes -----------------------------------------------------------------------------------
    def list_calls(self, principal: Principal, query: ListQuery, request_id: str | None = None) -> CallPage:
        if principal.role is Role.AGENT and not principal.agent_id:
            raise BadRequest("this agent token has no callsight:agent_id")
        agent = principal.agent_id if principal.role is Role.AGENT else query.agent
        page = self._index_page(principal, query, agent)
        # Read before the audited block, as before: a 400 (an agent token without agent_id, a cursor
        # not ours) is not audited, and a failure while reading is an error, never an outcome.
        with audited(self.audit, principal, "calls.list", "calls", request_id,
                     filters=_filters(query), returned=len(page.items)):  # fmt: skip
            return page

    def alerts(self, principal: Principal, query: AlertsQuery, request_id: str | None = None) -> CallPage:
        """Calls in the caller's scope that tripped a per-call alert rule, newest start first. Admin and
        QA read the sparse ``alerts`` index, which holds nothing else (QA filtered to their teams and
        queues by its projected attributes), then one BatchGetItem of the page; an agent reads their
        own ``by-agent`` partition filtered to the calls carrying ``alert_at``."""
        if principal.role not in (Role.ADMIN, Role.QA, Role.AGENT):
            with audited(self.audit, principal, "alerts.list", "calls", request_id):  # audited as denied
                raise Forbidden("the alert list is for admin, QA and agent roles")
        if principal.role is Role.AGENT and not principal.agent_id:
            raise BadRequest("this agent token has no callsight:agent_id")
        if principal.role is Role.AGENT:  # by-agent projects every attribute: no BatchGetItem
            scope = f"alerts:by-agent:{principal.agent_id}"
            agent_page = call_queries.agent_alerting_calls(
                principal.agent_id or "", since=query.since, until=query.until,
                start=self._decode_cursor(query.cursor, scope),
                page_size=min(MAX_EXAMINED, query.limit * SCOPED_PAGE_FACTOR), limit=query.limit, budget=MAX_EXAMINED,
            )  # fmt: skip
            calls, next_key = agent_page.calls, agent_page.next_key
        else:
            scope, teams = "alerts", _qa_teams(principal)
            # Admin reads the index as it is (a page is the page); a QA scope filter reads larger pages.
            page_size = min(MAX_EXAMINED, query.limit * (SCOPED_PAGE_FACTOR if teams is not None else 1))
            page = call_queries.alerting_calls(
                scope_teams=teams, since=query.since, until=query.until,
                start=self._decode_cursor(query.cursor, scope), page_size=page_size, limit=query.limit,
                budget=MAX_EXAMINED,
            )  # fmt: skip
            records = self.calls.get_many([item.call_id for item in page.items])  # one BatchGetItem
            calls = [call for call in (records.get(item.call_id) for item in page.items) if call is not None]
            next_key = page.next_key
        items = [
            CallSummary.of(call) for call in calls if _alerting(call, query) and can_see_call(principal, call)
        ]
        # Read before the audited block (as in list_calls): its 400s are not audited, its failures are errors.
        with audited(self.audit, principal, "alerts.list", "calls", request_id,
                     filters=_filters(query), returned=len(items)):  # fmt: skip
            return CallPage(items=items, next_cursor=self._encode_cursor(next_key, scope))

    def _index_page(self, principal: Principal, query: ListQuery, agent: str | None) -> CallPage:
        # A QA user's scope and a team/queue filter are applied by DynamoDB (a superset of what the
        # caller may see: visibility is checked below): a larger page then usually fills in one Query.
        condition = (
            None if agent else call_queries.listing_condition(_qa_teams(principal), query.team, query.queue)
        )
        narrowed = condition is not None or bool(
            query.model_dump(exclude_none=True, exclude={"limit", "cursor", "include_superseded"})
        )
        page_size = min(MAX_EXAMINED, max(query.limit, 25) * (SCOPED_PAGE_FACTOR if narrowed else 1))

        def accept(call: CallRecord) -> bool:
            return can_see_call(principal, call) and _matches(call, query)

        common: dict[str, Any] = {
            "page_size": page_size,
            "limit": query.limit,
            "budget": MAX_EXAMINED,
            "accept": accept,
        }
        bounds = None if agent else call_day_bounds()
        page: CallsPage
        if agent:  # one agent's calls by start time, newest first
            scope = f"calls:by-agent:{agent}"
            start = self._decode_cursor(query.cursor, scope)
            page = call_queries.calls_by_agent(
                agent, since=query.since, until=query.until, start=start, **common
            )
        elif bounds is not None:  # every call by start time, newest first, day by day
            scope = "calls:by-day"
            start = self._decode_cursor(query.cursor, scope)
            page = call_queries.calls_by_day(
                bounds, since=query.since, until=query.until, condition=condition, start=start, **common
            )
        else:  # no call-day bounds yet (calls written before them): by last change, newest first
            scope = "calls:by-update"
            start = self._decode_cursor(query.cursor, scope)
            page = call_queries.calls_by_update(condition=condition, start=start, **common)
        # A selective filter may fill less than a page within the budget: the cursor continues the scan.
        items = [CallSummary.of(call) for call in page.calls]
        return CallPage(items=items, next_cursor=self._encode_cursor(page.next_key, scope))

    def call_detail(self, principal: Principal, call_id: str, request_id: str | None = None) -> CallDetail:
        call = self.visible(principal, call_id, "call.read", request_id)
        return CallDetail.of_call(call, lookup_hashes=may_see_pii(principal))

    def transcript(self, principal: Principal, call_id: str, request_id: str | None = None) -> Transcript:
        call = self.visible(principal, call_id, "transcript.read", request_id)
        if call.transcription is None:
            raise NotFound(f"call {call_id} has no transcript yet")
        return self.transcript_as_shown(call, pii=may_see_pii(principal))

    def transcript_as_shown(self, call: CallRecord, *, pii: bool) -> Transcript:
        """The stored transcript of ``call`` (it must have one), PII masked unless ``pii``: what the
        transcript route shows a role, and what QA feedback trains on (``pii=False``)."""
        assert call.transcription is not None
        transcript = self.transcripts.find(
            call.transcription.transcript_key, call.transcription.transcript_version_id
        )
        if transcript is None:  # removed (or never written) though the call still names it
            raise NotFound(f"the transcript of call {call.call_id} is not in storage")
        if pii or call.masked_at is not None:
            return transcript
        masked, _ = mask_transcript(
            transcript,
            language_pack(transcript.language.code),
            MaskingPolicy(),
            self.settings.phone_region,
            self.settings.order_number_pattern,
        )
        return masked

    def search(
        self, principal: Principal, query: SearchQuery, request_id: str | None = None
    ) -> SearchResults:
        """Calls where every term was said (by ``speaker`` if given), newest first, visible ones only."""
        words = query.q.split()
        if len(words) > 10:
            raise BadRequest("at most 10 search terms")
        languages = [query.language] if query.language else supported_languages()
        term_keys = [(word, [_term_key(language, word) for language in languages]) for word in words]
        cutoff = search.Cutoff()
        found = search.candidates(self.index, term_keys, query.speaker, cutoff, principal)
        outcome = search.visible_hits(self.calls, principal, found, query.limit, cutoff)
        items = [SearchHit(call=CallSummary.of(call), terms=terms) for call, terms in outcome.hits]
        # Read before the audited block (as in list_calls): its 400s are not audited, its failures are errors.
        with audited(self.audit, principal, "search", "calls", request_id, terms=words, speaker=query.speaker,
                     returned=len(items), examined=outcome.examined, complete=outcome.complete):  # fmt: skip
            return SearchResults(query=query.q, items=items, complete=outcome.complete)

    def feed(self, principal: Principal, query: FeedQuery, request_id: str | None = None) -> CallPage:
        """Calls in the order they last changed, from the cursor on. A call changed again after it was
        delivered appears again later (at-least-once); within a page the order is ``updated_at``."""
        if principal.role not in (Role.CRM, Role.ADMIN):
            with audited(self.audit, principal, "feed.read", "calls", request_id):  # audited as denied
                raise Forbidden("the change feed is for the CRM service client and admins")
        page = call_queries.feed_page(self._decode_cursor(query.cursor, "feed"), query.limit)
        items = [CallSummary.of(call) for call in page.calls]  # calls being deleted are never served
        # Read before the audited block (as in list_calls): its 400s are not audited, its failures are errors.
        with audited(self.audit, principal, "feed.read", "calls", request_id, returned=len(items)):
            return CallPage(items=items, next_cursor=self._encode_cursor(page.next_key, "feed"))

    def visible(self, principal: Principal, call_id: str, action: str, request_id: str | None) -> CallRecord:
        call, outcome = self.lookup(principal, call_id)  # a failure reading is an error: no entry
        with audited(self.audit, principal, action, f"call:{call_id[:64]}", request_id) as entry:
            entry.outcome = outcome  # ok, or denied (not theirs) / not_found: both answered 404
            if call is None:
                raise NotFound(f"no call {call_id[:64]!r}")
        return call

    def lookup(self, principal: Principal, call_id: str) -> tuple[CallRecord | None, str]:
        """The call if the principal may see it, and the audit outcome: ``ok``, ``denied`` (exists,
        not theirs: answered as absent) or ``not_found``. For routes that audit once, at the end."""
        call = self.calls.get(call_id) if _plausible_id(call_id) else None
        if call is None:
            return None, "not_found"
        if not can_see_call(principal, call):
            return None, "denied"
        return call, "ok"


def _start_key_fits(key: dict[str, Any], scope: str) -> bool:
    """Whether ``key`` is a DynamoDB start key of the listing ``scope`` names (its index, partition and
    key attributes). A signed cursor is normally one we issued, but one signed by an older version or
    with a leaked key must still be a 400, never a malformed query."""
    if scope.startswith(("calls:by-agent:", "alerts:by-agent:")):
        return call_queries.start_key_fits(key, "by-agent", scope.split(":by-agent:", 1)[1])
    if scope == "calls:by-day":
        return call_queries.start_key_fits(key, "by-day")
    if scope == "alerts":
        return call_queries.start_key_fits(key, "alerts")
    return call_queries.start_key_fits(key, "by-update")  # calls:by-update and feed


def _filters(query: ListQuery | AlertsQuery) -> dict[str, Any]:
    """A listing's filters as its audit entry records them (the cursor is a position, not a filter)."""
    return query.model_dump(mode="json", exclude_none=True, exclude={"cursor"})


def _qa_teams(principal: Principal) -> list[str] | None:
    """A QA user's teams and queues, which scope what DynamoDB returns them; None for other roles."""
    return sorted(principal.teams) if principal.role is Role.QA else None


def _alerting(call: CallRecord, q: AlertsQuery) -> bool:
    """Still an alerting call in the period (an index entry may lag a re-analysis), not replaced."""
    return (
        call.analysis is not None
        and bool(call.analysis.alerts)
        and call.superseded_by is None
        and (q.since is None or (call.started_at is not None and call.started_at >= q.since))
        and (q.until is None or (call.started_at is not None and call.started_at < q.until))
    )


def _term_key(language: str, word: str) -> str:
    """The index partition of ``word`` (stemmed as ``language`` stems it)."""
    pack = language_pack(language)
    if pack is None:
        raise BadRequest(f"language {language!r} is not supported")
    tokens = pack.tokens(word)
    if not tokens:
        raise BadRequest(f"search term {word!r} has no letters or digits")
    return f"{language}#{tokens[0].stem}"


def _plausible_id(call_id: str) -> bool:
    return 8 <= len(call_id) <= 64 and all(c.isalnum() or c == "-" for c in call_id)


def _matches(call: CallRecord, q: ListQuery) -> bool:
    checks = (
        q.include_superseded or call.superseded_by is None,  # a re-uploaded recording is one call
        q.status is None or call.status is q.status,
        q.agent is None or call.agent_id == q.agent,
        q.team is None or call.team == q.team,
        q.queue is None or call.queue == q.queue,
        q.tag is None or q.tag in call.tags,
        q.language is None or (call.transcription is not None and call.transcription.language == q.language),
        q.direction is None or call.direction is q.direction,
        q.since is None or (call.started_at is not None and call.started_at >= q.since),
        q.until is None or (call.started_at is not None and call.started_at < q.until),
        q.outcome is None or (call.analysis is not None and call.analysis.outcome == q.outcome),
        _within(_sentiment(call), q.sentiment_min, q.sentiment_max),
        _within(call.audio.duration_s if call.audio else None, q.min_duration_s, q.max_duration_s),
    )
    return all(checks)


def _sentiment(call: CallRecord) -> float | None:
    return call.analysis.headline_sentiment if call.analysis is not None else None


def _within(value: float | None, low: float | None, high: float | None) -> bool:
    if low is None and high is None:
        return True
    return value is not None and (low is None or value >= low) and (high is None or value <= high)
