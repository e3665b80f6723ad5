"""Typed configuration: every environment variable Callsight reads, with its default, in one place.

Business code never reads ``os.environ``; it asks :func:`get_settings`. Resource *names* are
derived here from the deployment prefix so the template, the local runner and the tests agree.
"""

from __future__ import annotations

import difflib
import os
from collections.abc import Mapping
from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import AliasChoices, BaseModel, ConfigDict, Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

#: FreePBX / Asterisk MixMonitor recording names:
#: ``{calltype}-{dst}-{src}-{YYYYMMDD}-{HHMMSS}-{uniqueid}`` such as
#: ``out-89161234567-201-20261120-101500-1763633700.12``.
FREEPBX_FILENAME_PATTERN = (
    r"^(?P<call_type>in|out|q|external|exten|rg|ivr)-(?P<dst>[^-]+)-(?P<src>[^-]+)-"
    r"(?P<date>\d{8})-(?P<time>\d{6})-(?P<uniqueid>\d+(?:\.\d+)?)$"
)

#: Codecs (FFmpeg names) accepted for transcription: WAV PCM/µ-law/A-law, FLAC, MP3, OGG (Opus/Vorbis).
DEFAULT_ACCEPTED_CODECS = (
    "pcm_s16le,pcm_s24le,pcm_s32le,pcm_u8,pcm_f32le,pcm_mulaw,pcm_alaw,flac,mp3,mp3float,opus,vorbis"
)


class QueueProfile(BaseModel):
    """Speech-recognition hints for the calls of one PBX queue (or ``"*"``: every queue)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    language: str | None = Field(default=None, description="ISO 639-1 code; skips language detection.")
    hotwords: str | None = Field(default=None, description="Product names, brands: biases decoding.")
    initial_prompt: str | None = Field(default=None, description="Example phrasing in the queue's domain.")


class Settings(BaseSettings):
    """Runtime configuration, validated at cold start (env prefix ``CALLSIGHT_``)."""

    model_config = SettingsConfigDict(
        env_prefix="CALLSIGHT_", frozen=True, extra="ignore", validate_by_name=True, validate_by_alias=True
    )

    # --- where AWS is -------------------------------------------------------------------------
    aws_endpoint: str | None = Field(
        default=None,
        description="Point every AWS client at this endpoint (embedded emulator or LocalStack).",
    )
    dynamodb_endpoint: str | None = Field(
        default=None,
        validation_alias=AliasChoices("CALLSIGHT_DYNAMODB_ENDPOINT", "AWS_ENDPOINT_URL_DYNAMODB"),
        description="DynamoDB only, at this endpoint instead of `aws_endpoint` (e.g. LocalStack without "
        "Docker, whose DynamoDB needs Java: DynamoDB on a moto server). Also read from AWS's own "
        "`AWS_ENDPOINT_URL_DYNAMODB`, which an explicit `aws_endpoint` would otherwise override.",
    )
    region: str = Field(default="us-east-1", description="AWS region of every client.")
    prefix: str = Field(default="callsight-local", description="Deployment prefix of every resource name.")

    # --- ingest limits --------------------------------------------------------------------------
    recordings_prefix: str = Field(
        default="recordings/",
        description="Only objects under this key prefix of the recordings bucket are calls.",
    )
    max_object_bytes: int = Field(
        default=512 * 1024 * 1024, gt=0, description="Larger uploads are quarantined (`too_large`)."
    )
    max_duration_s: float = Field(
        default=4 * 3600, gt=0, description="Longer recordings are quarantined at ingest (`too_long`)."
    )
    min_duration_s: float = Field(
        default=0.5, ge=0, description="Shorter recordings are quarantined (`too_short`)."
    )
    accepted_codecs: str = Field(
        default=DEFAULT_ACCEPTED_CODECS,
        description="FFmpeg codec names accepted; others are quarantined (`unsupported_codec`).",
    )
    consent_opt_out_policy: Literal["delete", "keep"] = Field(
        default="delete",
        description="A recording of a number on the stop list (`opted_out`) is never transcribed: 'delete' "
        "deletes its audio and sidecars (every version) and keeps an audited receipt; 'keep' keeps it as a "
        "QUARANTINED call (reason `opted_out`) under the retention policies. A legal hold always keeps it.",
    )

    # --- metadata -------------------------------------------------------------------------------
    filename_pattern: str = Field(
        default=FREEPBX_FILENAME_PATTERN,
        description="Regex over the recording's file name (no extension) giving call type, numbers, date, time, id.",
    )
    pbx_timezone: str = Field(default="UTC", description="IANA time zone of the times in PBX file names.")
    require_start_time: bool = Field(
        default=False,
        description="Quarantine calls whose start time no metadata source gives (else: upload time, flagged).",
    )
    agent_channel: Literal["left", "right"] = Field(
        default="left", description="Stereo: the agent's side when the call's own metadata does not say."
    )
    phone_region: str = Field(default="RU", description="Region for numbers written without a country code.")
    order_number_pattern: str | None = Field(
        default=None,
        description="Regex the tenant's order ids fully match once normalised (AB123456); none: any order-cued number.",
    )
    phone_hash_key: SecretStr = Field(
        default=SecretStr("local-development-only-phone-hash-key"),
        description="HMAC key for customer phone lookup hashes (from Secrets Manager in AWS).",
    )

    # --- speech recognition (callsight.asr) -------------------------------------------------------
    asr_model: str = Field(
        default="base",
        description="A CTranslate2 Whisper model directory, or the name of a bundled model ('base').",
    )
    asr_model_cache_dir: Path | None = Field(
        default=None,
        description="Where bundled models are assembled (default: ~/.cache/callsight, /tmp in Lambda).",
    )
    asr_device: Literal["auto", "cpu", "cuda"] = Field(
        default="auto", description="'auto': CUDA when a GPU is visible, else CPU."
    )
    asr_compute_type: str | None = Field(default=None, description="Default: float16 on CUDA, int8 on CPU.")
    asr_batched: bool | None = Field(
        default=None, description="Use faster-whisper's batched pipeline (default: on CUDA only)."
    )
    asr_batch_size: int = Field(default=8, gt=0, description="Segments per batch in the batched pipeline.")
    asr_beam_size: int = Field(default=5, gt=0, description="Beam search width (1: greedy, faster).")
    asr_cpu_threads: int = Field(default=0, ge=0, description="0: one per available core.")
    asr_vad_filter: bool = Field(default=True, description="Skip silence with Silero VAD before decoding.")
    asr_vad_threshold: float = Field(
        default=0.3, gt=0, lt=1, description="Silero VAD speech threshold (0.5 drops telephony speech)."
    )
    asr_languages: str = Field(
        default="ru,en", description="Languages detection may choose from (empty: any Whisper language)."
    )
    asr_max_duration_s: float = Field(
        default=3 * 3600, gt=0, description="Longer recordings are quarantined as too long, never cut."
    )
    asr_turn_pause_s: float = Field(
        default=1.0, gt=0, description="Stereo: a pause this long starts a new turn of the same speaker."
    )
    asr_mono_turn_pause_s: float = Field(
        default=0.4, gt=0, description="Mono: a pause this long starts a new turn (the only cue there is)."
    )
    asr_queue_profiles: dict[str, QueueProfile] = Field(
        default_factory=dict,
        description='JSON: {"<queue>": {"language": "ru", "hotwords": "...", "initial_prompt": "..."}, "*": {...}}',
    )
    diarization_enabled: bool = Field(
        default=True,
        description="Mono: tell agent and customer apart by voice (needs the `diarization` extra; "
        "without it, or when off, mono speakers stay 'unknown').",
    )
    diarization_min_confidence: float = Field(
        default=0.5,
        ge=0,
        le=1,
        description="Mono: the two-voice split is used at or above this confidence; below it speakers stay 'unknown'.",
    )
    voice_print_min_margin: float = Field(
        default=0.05,
        ge=0,
        le=2,
        description="Mono call of an agent with an enrolled voice print (opt-in, `callsight voiceprint`): the "
        "voice whose centre is at least this much closer (cosine similarity) to the print is the agent, even "
        "against the rule pack's phrases; a smaller margin leaves the choice to the phrases.",
    )
    voice_print_min_similarity: float = Field(
        default=0.905,
        ge=-1,
        le=1,
        description="Mono call with an enrolled voice print: the voice named agent by the print must also be at "
        "least this similar (cosine) to it, else the print names nobody (its owner may not be in the call).",
    )

    # --- analysis (callsight.analysis) --------------------------------------------------------------
    label_model: Literal["tenant", "shipped", "off"] = Field(
        default="tenant",
        description="Learned label layer: 'tenant' = this deployment's model (trained from QA corrections by "
        "`callsight train --from-feedback`) when one is stored, else the shipped one; 'shipped'; 'off' = rules only.",
    )
    analysis_rules: Path | None = Field(
        default=None,
        description="Rule file (YAML/JSON); default: the shipped pack analysis/rules/default.yaml.",
    )
    alerts_topic_arn: str | None = Field(
        default=None,
        description="The alerts topic's ARN (deployed); unset: resolved by name with CreateTopic (local).",
    )
    alerts_enabled: bool = Field(
        default=True, description="Publish alert rules' hits to the SNS alerts topic."
    )
    alerts_disabled: str | None = Field(
        default=None,
        description="Alert rule ids to turn off, comma-separated (an unknown id stops start-up), e.g. "
        "`recording_notice_missing` where the PBX plays the recording notice before the recording starts "
        "(the `recording_notice` checkpoint is still reported).",
    )

    # --- API authentication (callsight.auth) ---------------------------------------------------------
    auth_issuer: str = Field(default="callsight-local", description="Expected `iss` of bearer tokens.")
    auth_audience: str = Field(default="callsight-api", description="Expected `aud` of bearer tokens.")
    auth_jwks_url: str | None = Field(
        default=None,
        description="JWKS of the identity provider (RS256/ES256). Unset: HS256 with the local secret.",
    )
    auth_local_secret: SecretStr = Field(
        default=SecretStr("local-development-only-jwt-secret-change-me"),
        description="HS256 key for local tokens (`callsight token`); never used when a JWKS URL is set.",
    )
    auth_jwks_refetch_cooldown_s: float = Field(
        default=30,
        ge=0,
        description="An unknown key id refetches the JWKS at most this often (rotation vs abuse).",
    )
    auth_roles_claim: str = Field(default="callsight:role", description="Claim holding the caller's role.")
    auth_leeway_s: int = Field(default=30, ge=0, le=300, description="Clock skew tolerated on exp/nbf.")
    auth_max_token_lifetime_s: int = Field(
        default=12 * 3600, ge=60, description="Longest token lifetime accepted (exp - iat) and minted."
    )

    # --- secrets from Secrets Manager (deployed): read once at cold start, never in the environment ---
    phone_hash_key_secret_arn: str | None = Field(
        default=None, description="Secrets Manager secret whose string replaces `phone_hash_key`."
    )
    auth_local_secret_arn: str | None = Field(
        default=None, description="Secrets Manager secret whose string replaces `auth_local_secret`."
    )
    audit_key: SecretStr = Field(
        default=SecretStr("local-development-only-audit-chain-key"),
        description="HMAC-SHA256 key sealing the audit chains (from Secrets Manager in AWS).",
    )
    audit_key_secret_arn: str | None = Field(
        default=None, description="Secrets Manager secret whose string replaces `audit_key`."
    )
    audit_anchor_dir: Path | None = Field(
        default=None,
        description="Also keep audit anchors as files here (`local up` sets it: files outlive the "
        "in-memory emulator, so `audit verify` reports an audit log lost with it).",
    )

    # --- access-anomaly alerts from the audit log (callsight.compliance.access_anomaly) ---------------
    access_alerts_topic_arn: str | None = Field(
        default=None,
        description="The access-alerts topic's ARN (deployed); unset: resolved by name with CreateTopic (local).",
    )
    access_window_minutes: int = Field(
        default=60, gt=0, le=1440,
        description="Length of the checked window (divides a day); the schedule checks the last whole one.",
    )  # fmt: skip
    access_baseline_days: int = Field(
        default=14, ge=1, le=90, description="Days before the window that make a principal's usual volume."
    )
    access_volume_factor: float = Field(
        default=5.0, gt=1,
        description="Volume alert: calls read or exported in the window at least this times the principal's "
        "mean per active window of the baseline days ...",
    )  # fmt: skip
    access_volume_floor: int = Field(
        default=200, ge=1,
        description="... and at least this many (the only bar for a principal with no history).",
    )  # fmt: skip
    access_timezone: str = Field(default="UTC", description="IANA time zone of the tenant's working hours.")
    access_working_hours: str = Field(
        default="08:00-20:00", description="Working hours (local; `22:00-06:00` runs over midnight)."
    )
    access_working_days: str = Field(
        default="mon-fri", description="Working days (`mon-fri`, `sun-thu`, `mon,wed,fri`)."
    )
    access_out_of_hours_roles: str = Field(
        default="admin,qa,agent",
        description="Roles whose reads out of working hours alert (the CRM client reads around the clock).",
    )
    access_out_of_hours_min_reads: int = Field(
        default=1, ge=1, description="Out-of-hours alert: read or export requests in the window."
    )
    access_denials_threshold: int = Field(
        default=5,
        ge=1,
        description="Denials alert: denied requests (403, or a call that is not theirs) in the window.",
    )

    api_agents_may_download_audio: bool = Field(
        default=False, description="Agents may fetch (redacted) audio of their own calls; off: 403."
    )

    # --- idempotency ----------------------------------------------------------------------------
    idempotency_ttl_s: int = Field(
        default=24 * 3600,
        gt=0,
        description="How long a processed event is remembered (duplicates within it are skipped).",
    )

    @field_validator("access_timezone")
    @classmethod
    def _known_timezone(cls, value: str) -> str:
        from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(f"{value!r} is not an IANA time zone (e.g. Europe/Moscow)") from exc
        return value

    @field_validator("access_window_minutes")
    @classmethod
    def _divides_a_day(cls, value: int) -> int:
        if 1440 % value:
            raise ValueError(
                f"{value} minutes does not divide a day (1440 minutes): use e.g. 15, 30, 60, 120"
            )
        return value

    @field_validator("recordings_prefix")
    @classmethod
    def _prefix_ends_with_slash(cls, value: str) -> str:
        return value if not value or value.endswith("/") else value + "/"

    @property
    def asr_language_set(self) -> frozenset[str]:
        return frozenset(c.strip().lower() for c in self.asr_languages.split(",") if c.strip())

    def queue_profile(self, queue: str | None) -> QueueProfile:
        """The profile of ``queue``, falling back to ``"*"``, then to no hints."""
        if queue is not None and queue in self.asr_queue_profiles:
            return self.asr_queue_profiles[queue]
        return self.asr_queue_profiles.get("*", QueueProfile())

    @property
    def alerts_disabled_set(self) -> frozenset[str]:
        return frozenset(a.strip() for a in (self.alerts_disabled or "").split(",") if a.strip())

    @property
    def accepted_codec_set(self) -> frozenset[str]:
        return frozenset(c.strip() for c in self.accepted_codecs.split(",") if c.strip())

    def endpoint_for(self, service: str) -> str | None:
        """The endpoint of ``service``'s clients: ``dynamodb_endpoint`` for DynamoDB if set, else
        ``aws_endpoint`` (``None``: the SDK's own resolution, i.e. real AWS)."""
        if service == "dynamodb" and self.dynamodb_endpoint:
            return self.dynamodb_endpoint
        return self.aws_endpoint

    # --- resource names (one source of truth, see callsight.resources) ----------------------------
    def name(self, suffix: str) -> str:
        return f"{self.prefix}-{suffix}"

    def secret_arns(self) -> dict[str, str]:
        """The settings given as a Secrets Manager ARN (the deployed template passes ARNs, so no key
        sits in a function's environment or configuration): field name -> ARN. Resolved by
        :func:`callsight.storage.secrets.with_secrets`."""
        return {
            field: arn
            for field, arn in (
                ("phone_hash_key", self.phone_hash_key_secret_arn),
                ("auth_local_secret", self.auth_local_secret_arn),
                ("audit_key", self.audit_key_secret_arn),
            )
            if arn
        }


#: ``CALLSIGHT_*`` variables that are not settings: read by the test suite and CI scripts only.
TOOLING_VARIABLES = frozenset({"CALLSIGHT_CHROMIUM", "CALLSIGHT_PYTHON312", "CALLSIGHT_TEST_BACKEND"})


class UnknownSetting(ValueError):
    """A ``CALLSIGHT_*`` variable that no setting reads (a typo would otherwise be silently ignored)."""


def setting_variables() -> dict[str, str]:
    """Every ``CALLSIGHT_*`` variable a setting reads, with the setting's name."""
    names: dict[str, str] = {}
    for name, field in Settings.model_fields.items():
        names[f"CALLSIGHT_{name.upper()}"] = name
        alias = field.validation_alias
        for choice in alias.choices if isinstance(alias, AliasChoices) else []:
            if isinstance(choice, str) and choice.upper().startswith("CALLSIGHT_"):
                names[choice.upper()] = name
    return names


def check_environment(environ: Mapping[str, str] = os.environ) -> None:
    """Refuse a ``CALLSIGHT_*`` variable that is neither a setting nor a tooling variable, naming
    the closest setting (called at start-up by :func:`get_settings`)."""
    known = setting_variables()
    unknown = sorted(
        name for name in environ if name.upper().startswith("CALLSIGHT_") and name.upper() not in known
        and name.upper() not in TOOLING_VARIABLES
    )  # fmt: skip
    if not unknown:
        return
    problems = []
    for name in unknown:
        close = difflib.get_close_matches(name.upper(), known, n=1, cutoff=0.75)
        problems.append(f"{name}" + (f" (did you mean {close[0]}?)" if close else ""))
    raise UnknownSetting(
        "not a Callsight setting: " + "; ".join(problems) + ". Every setting is listed in the README's "
        "Configuration table (`python -m callsight.config` prints it); unset the variable or fix its name."
    )


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The process-wide settings from the environment, after refusing misspelt ``CALLSIGHT_*``
    variables; call :func:`reset_settings` after changing the environment. Settings given as secret
    ARNs are not read here: deployed functions call :func:`callsight.storage.secrets.resolved_settings`."""
    check_environment()
    return Settings()


def reset_settings() -> None:
    get_settings.cache_clear()


def _shown_default(name: str) -> str:
    field = Settings.model_fields[name]
    default = field.get_default(call_default_factory=True)
    if isinstance(default, SecretStr):
        return "a local-development value"
    if default is None or default == {}:
        return "unset"
    if isinstance(default, bool):
        return str(default).lower()
    if isinstance(default, float) and default.is_integer():
        default = int(default)
    return "`" + str(default).replace("|", "\\|") + "`"


def settings_markdown() -> str:
    """The README's Configuration table: every setting, its default and what it does."""
    rows = ["| variable | default | what it does |", "|---|---|---|"]
    for name, field in Settings.model_fields.items():
        what = (field.description or "").replace("|", "\\|")
        rows.append(f"| `CALLSIGHT_{name.upper()}` | {_shown_default(name)} | {what} |")
    return "\n".join(rows) + "\n"


if __name__ == "__main__":  # python -m callsight.config: print the table for the README
    print(settings_markdown(), end="")
