"""What the routes do: list, read and transcript of calls for a verified principal, every read audited.

A call the caller may not see is answered exactly like a call that does not exist (404), so an
agent cannot probe other agents' call ids. Listing pages through DynamoDB indexes with opaque
cursors (base64 of the last evaluated key, signed so a client cannot forge one): agents through
``by-agent``, a QA user (or a team/queue filter) through the partitions of those teams and queues
(``by-team``, ``by-queue``: a QA listing never reads another team's calls), everyone else through the
``by-update`` feed index, newest change first. The alert list reads the sparse ``alerts*`` indexes,
which hold only calls that tripped an alert rule, in the caller's scope's partitions.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import itertools
import json
from datetime import datetime
from typing import Any

from callsight.analysis.languages import language_pack, supported_languages
from callsight.api import search
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
from callsight.models.call import CallRecord, CallStatus
from callsight.models.transcript import Transcript
from callsight.resources import RECORDINGS_BUCKET
from callsight.storage.audit_log import AuditLog
from callsight.storage.call_queries import Partition, Position, newest_first, parse_stored
from callsight.storage.call_repository import CallRepository, record_of
from callsight.storage.search_index import SearchIndex
from callsight.storage.tables import CallItem, bind_tables
from callsight.storage.transcripts import TranscriptStore

#: Items a listing request reads at most before answering (a selective filter returns a short page
#: with a cursor rather than scanning the whole table in one request).
MAX_EXAMINED = 1000


class NotFound(Exception):
    """404: no such call, or not one the caller may see (indistinguishable on purpose)."""


class BadRequest(ValueError):
    """400 with a message."""


class Forbidden(Exception):
    """403: the route is not for this role (never used for a specific call: those are 404)."""


class Conflict(Exception):
    """409: the call is not in a state the request applies to (e.g. not analysed yet)."""


class CallsApi:
    def __init__(self, settings: Settings) -> None:
        bind_tables(settings)
        self.settings = settings
        self.calls = CallRepository(settings)
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

    def _encode_position(self, position: Position | None, scope: str) -> str | None:
        return self._encode_cursor(
            {"at": position.at, "call_id": position.call_id} if position else None, scope
        )

    def _decode_position(self, cursor: str | None, scope: str) -> Position | None:
        key = self._decode_cursor(cursor, scope)
        return Position(key["at"], key["call_id"]) if key else None

    # --- routes -----------------------------------------------------------------------------------
    def list_calls(self, principal: Principal, query: ListQuery, request_id: str | None = None) -> CallPage:
        if principal.role is Role.AGENT and not principal.agent_id:
            raise BadRequest("this agent token has no callsight:agent_id")
        agent = principal.agent_id if principal.role is Role.AGENT else query.agent
        partitions = None if agent else _listing_partitions(principal, query)
        if partitions is not None:
            page = self._merged_page(principal, query, partitions)
        else:
            page = self._index_page(principal, query, agent)
        self.audit.record(
            actor=principal.subject, role=principal.role.value, action="calls.list", target="calls",
            request_id=request_id, details={"filters": query.model_dump(mode="json", exclude_none=True, exclude={"cursor"}),
                                            "returned": len(page.items)},
        )  # fmt: skip
        return page

    def _merged_page(self, principal: Principal, query: ListQuery, partitions: list[Partition]) -> CallPage:
        """A page from the partitions of the caller's teams and queues (or of the filtered one)."""
        scope = _merged_scope("calls", partitions)
        after = self._decode_position(query.cursor, scope)
        page_size = min(MAX_EXAMINED, max(query.limit + 1, 25))
        items: list[CallSummary] = []
        last, more = None, False
        stream = newest_first(partitions, after=after, page_size=page_size)
        for examined, (position, item) in enumerate(stream):
            if len(items) >= query.limit or examined >= MAX_EXAMINED:
                more = True  # one more exists: the cursor resumes after the last one examined
                break
            last = position
            call = record_of(item)
            if can_see_call(principal, call) and _matches(call, query):
                items.append(CallSummary.of(call))
        return CallPage(items=items, next_cursor=self._encode_position(last if more else None, scope))

    def alerts(self, principal: Principal, query: AlertsQuery, request_id: str | None = None) -> CallPage:
        """Calls in the caller's scope that tripped a per-call alert rule, newest start first: the sparse
        alert indexes (keys only) hold nothing else, so the read is one Query per scope partition and
        one BatchGetItem of the page, however many calls are not alerting."""
        if principal.role not in (Role.ADMIN, Role.QA, Role.AGENT):
            self.audit.record(actor=principal.subject, role=principal.role.value, action="alerts.list", target="calls",
                              request_id=request_id, outcome="denied")  # fmt: skip
            raise Forbidden("the alert list is for admin, QA and agent roles")
        if principal.role is Role.AGENT and not principal.agent_id:
            raise BadRequest("this agent token has no callsight:agent_id")
        partitions = _alert_partitions(principal)
        scope = _merged_scope("alerts", partitions)
        after = self._decode_position(query.cursor, scope)
        stream = newest_first(
            partitions, since=query.since, until=query.until, after=after, page_size=query.limit + 1
        )
        items: list[CallSummary] = []
        last, examined, exhausted = None, 0, False
        while len(items) < query.limit and examined < MAX_EXAMINED:
            taken = list(itertools.islice(stream, min(query.limit - len(items), MAX_EXAMINED - examined)))
            if not taken:
                exhausted = True
                break
            records = self.calls.get_many([item.call_id for _, item in taken])  # one BatchGetItem
            for position, item in taken:
                examined += 1
                last = position
                call = records.get(item.call_id)
                if call is not None and _alerting(call, query) and can_see_call(principal, call):
                    items.append(CallSummary.of(call))
        more = not exhausted and next(stream, None) is not None
        self.audit.record(
            actor=principal.subject, role=principal.role.value, action="alerts.list", target="calls", request_id=request_id,
            details={"filters": query.model_dump(mode="json", exclude_none=True, exclude={"cursor"}), "returned": len(items)},
        )  # fmt: skip
        return CallPage(items=items, next_cursor=self._encode_position(last if more else None, scope))

    def _index_page(self, principal: Principal, query: ListQuery, agent: str | None) -> CallPage:
        scope = f"calls:by-agent:{agent}" if agent else "calls:by-update"
        start = self._decode_cursor(query.cursor, scope)
        page_size = min(MAX_EXAMINED, max(query.limit, 25))
        if agent:  # one agent's calls by start time, newest first
            pages = CallItem.by_agent.query(
                agent, _started_between(query), scan_index_forward=False, last_evaluated_key=start,
                page_size=page_size,
            )  # fmt: skip
        else:  # every call by last change, newest first
            pages = CallItem.by_update.query(
                "0", scan_index_forward=False, last_evaluated_key=start, page_size=page_size
            )
        items: list[CallSummary] = []
        examined = 0
        for item in pages:
            examined += 1
            call = record_of(item)
            if can_see_call(principal, call) and _matches(call, query):
                items.append(CallSummary.of(call))
            if len(items) >= query.limit or examined >= MAX_EXAMINED:
                break
        # A selective filter may fill less than a page within the budget: the cursor continues the scan.
        more = len(items) >= query.limit or examined >= MAX_EXAMINED
        next_key = pages.last_evaluated_key if more else None
        return CallPage(items=items, next_cursor=self._encode_cursor(next_key, scope))

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
        transcript = self.transcripts.get(
            call.transcription.transcript_key, call.transcription.transcript_version_id
        )
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
        self.audit.record(
            actor=principal.subject, role=principal.role.value, action="search", target="calls", request_id=request_id,
            details={"terms": words, "speaker": query.speaker, "returned": len(items), "examined": outcome.examined,
                     "complete": outcome.complete},
        )  # fmt: skip
        return SearchResults(query=query.q, items=items, complete=outcome.complete)

    def feed(self, principal: Principal, query: FeedQuery, request_id: str | None = None) -> CallPage:
        """Calls in the order they last changed, from the cursor on. A call changed again after it was
        delivered appears again later (at-least-once); within a page the order is ``updated_at``."""
        if principal.role not in (Role.CRM, Role.ADMIN):
            self.audit.record(actor=principal.subject, role=principal.role.value, action="feed.read", target="calls",
                              request_id=request_id, outcome="denied")  # fmt: skip
            raise Forbidden("the change feed is for the CRM service client and admins")
        start = self._decode_cursor(query.cursor, "feed")
        pages = CallItem.by_update.query(
            "0", scan_index_forward=True, last_evaluated_key=start, page_size=query.limit
        )
        items: list[CallSummary] = []
        next_key: dict[str, Any] | None = start
        for item in pages:
            call = record_of(item)
            if call.status is not CallStatus.DELETED:  # being deleted: never served
                items.append(CallSummary.of(call))
            serialized = item.serialize()
            next_key = {name: serialized[name] for name in ("call_id", "feed_shard", "updated_at")}
            if len(items) >= query.limit:
                break
        self.audit.record(actor=principal.subject, role=principal.role.value, action="feed.read", target="calls",
                          request_id=request_id, details={"returned": len(items)})  # fmt: skip
        return CallPage(items=items, next_cursor=self._encode_cursor(next_key, "feed"))

    def visible(self, principal: Principal, call_id: str, action: str, request_id: str | None) -> CallRecord:
        call, outcome = self.lookup(principal, call_id)
        self.audit.record(
            actor=principal.subject, role=principal.role.value, action=action, target=f"call:{call_id[:64]}",
            request_id=request_id, outcome=outcome,
        )  # fmt: skip
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
    """Whether ``key`` is a DynamoDB start key of the listing ``scope`` names: exactly its index's key
    attributes, each one string, the partition the listing reads and a stored timestamp. A signed
    cursor is normally one we issued, but one signed by an older version or with a leaked key must
    still be a 400, never a malformed query."""
    if scope.startswith("merged:"):  # a Position: the stored range key and a call id, both strings
        if set(key) != {"at", "call_id"} or not all(isinstance(v, str) for v in key.values()):
            return False
        try:
            parse_stored(key["at"])
        except ValueError:
            return False
        return 0 < len(key["call_id"]) <= 64
    if scope.startswith("calls:by-agent:"):
        partition, moment = ("agent_id", scope.removeprefix("calls:by-agent:")), "started_at"
    else:  # calls:by-update and feed both read the by-update index, partition "0"
        partition, moment = ("feed_shard", "0"), "updated_at"
    if set(key) != {"call_id", partition[0], moment}:
        return False
    values: dict[str, str] = {}
    for name, typed in key.items():
        if not (isinstance(typed, dict) and list(typed) == ["S"] and isinstance(typed["S"], str)):
            return False
        values[name] = typed["S"]
    if values[partition[0]] != partition[1] or not 0 < len(values["call_id"]) <= 64:
        return False
    try:  # as UTCDateTimeAttribute stores it: 2026-11-20T11:30:01.000000+0000
        datetime.strptime(values[moment], "%Y-%m-%dT%H:%M:%S.%f%z")
    except ValueError:
        return False
    return values[moment].endswith("+0000")


def _listing_partitions(principal: Principal, query: ListQuery) -> list[Partition] | None:
    """The team/queue partitions a listing reads (None: the whole ``by-update`` feed index). A team or
    queue filter reads that partition alone; a QA user without one reads each of their teams' and
    queues' partitions (a scope name may be either); visibility is still checked on every call."""
    if query.team is not None:
        return [Partition("by-team", query.team)]
    if query.queue is not None:
        return [Partition("by-queue", query.queue)]
    if principal.role is Role.QA:
        return [
            Partition(index, name) for name in sorted(principal.teams) for index in ("by-team", "by-queue")
        ]
    return None


def _alert_partitions(principal: Principal) -> list[Partition]:
    if principal.role is Role.AGENT:
        return [Partition("alerts-by-agent", principal.agent_id or "")]
    if principal.role is Role.QA:
        return [
            Partition(index, name)
            for name in sorted(principal.teams)
            for index in ("alerts-by-team", "alerts-by-queue")
        ]
    return [Partition("alerts", "0")]


def _merged_scope(route: str, partitions: list[Partition]) -> str:
    """A merged listing's cursor scope: the route and a digest of its partitions (a QA user's cursor
    is refused after their teams changed, and stays short however many teams they have)."""
    names = "\n".join(f"{p.index}={p.key}" for p in partitions)
    return f"merged:{route}:{hashlib.sha256(names.encode()).hexdigest()[:24]}"


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
    if call.analysis is None:
        return None
    customer = call.analysis.sentiment_customer
    return customer if customer is not None else call.analysis.sentiment_overall


def _within(value: float | None, low: float | None, high: float | None) -> bool:
    if low is None and high is None:
        return True
    return value is not None and (low is None or value >= low) and (high is None or value <= high)


def _started_between(q: ListQuery) -> Any:
    """Range condition on ``started_at`` for the by-agent index (None: no bounds)."""
    if q.since is not None and q.until is not None:
        return CallItem.started_at.between(q.since, q.until)
    if q.since is not None:
        return CallItem.started_at >= q.since
    if q.until is not None:
        return CallItem.started_at <= q.until
    return None
