#!/usr/bin/env bash
# Rebuild the bundled sample call recordings from the dialogue scripts.
#
#   events/samples/scripts/<name>.txt   -> dialogue, one turn per line
#                                          ("agent: ..." / "customer: ...")
#   events/samples/recordings/*         -> FreePBX MixMonitor-style recordings
#   events/samples/manifest.json        -> machine-readable list of samples
#   events/samples/README.md            -> table between the SAMPLES TABLE markers
#
# English turns are synthesised with espeak-ng, Russian turns with festival
# (voice_msu_ru_nsh_clunits; espeak-ng Russian is not intelligible to Whisper).
# Stereo layout: LEFT = agent, RIGHT = customer; each channel is digital
# silence while the other party speaks.
#
# Usage: bash events/samples/generate.sh        (works from any directory)
# The output is deterministic: running it twice produces identical files.
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
SCRIPTS_DIR="$HERE/scripts"
REC_DIR="$HERE/recordings"
MANIFEST="$HERE/manifest.json"
README="$HERE/README.md"

export LC_ALL=C.UTF-8

die() { echo "generate.sh: error: $*" >&2; exit 1; }

# --- tool check --------------------------------------------------------------
missing=()
for tool in espeak-ng sox soxi text2wave date awk; do
    command -v "$tool" >/dev/null 2>&1 || missing+=("$tool")
done
if ((${#missing[@]})); then
    die "missing required tool(s): ${missing[*]}
  On Debian/Ubuntu: apt-get install espeak-ng sox libsox-fmt-all festival festvox-ru"
fi
if ! sox -h 2>/dev/null | grep -q 'AUDIO FILE FORMATS:.*flac'; then
    die "sox has no FLAC support (install libsox-fmt-all)"
fi

WORK="$(mktemp -d "${TMPDIR:-/tmp}/callsight-samples.XXXXXX")"
trap 'rm -rf "$WORK"' EXIT
mkdir -p "$WORK/out"

SOX=(sox -D -R -V1)   # no dither, repeatable => byte-identical output

EN_SPEED=180          # espeak-ng words per minute
RU_TEMPO=1.25         # festival's msu_ru voice is slow; speed it up a little
GAPS=(0.5 0.4 0.45 0.4 0.5 0.4 0.45 0.4 0.5 0.45)   # pause before each turn, s
LEAD_IN=0.2           # silence at the start of a recording, s
TAIL=0.2              # silence at the end of a recording, s

# Metadata for the sidecar JSON written next to the queue (q-) call.
SIDECAR_AGENT_ID=204
SIDECAR_TEAM=sales-ru

# --- helpers -----------------------------------------------------------------

json_str() {  # json_str VALUE -> "escaped value"
    local s=$1
    s=${s//\\/\\\\}
    s=${s//\"/\\\"}
    printf '"%s"' "$s"
}

# synth_turn VOICE_SPEC TEXT RATE OUT.wav
#   VOICE_SPEC = engine:voice[:pitch_cents], e.g. espeak:en-gb+f3,
#                festival:msu_ru_nsh_clunits:-300
synth_turn() {
    local spec=$1 text=$2 rate=$3 out=$4
    local engine voice pitch
    IFS=: read -r engine voice pitch <<<"$spec"
    local raw="$WORK/raw.wav" effects=()
    case $engine in
        espeak)
            printf '%s\n' "$text" | espeak-ng -v "$voice" -s "$EN_SPEED" --stdin -w "$raw"
            ;;
        festival)
            printf '%s\n' "$text" >"$WORK/turn.txt"   # UTF-8 text, as the msu_ru voice expects
            text2wave -eval "(voice_${voice})" "$WORK/turn.txt" -o "$raw" 2>"$WORK/festival.log" \
                || { cat "$WORK/festival.log" >&2; die "text2wave failed on: $text"; }
            effects+=(tempo -s "$RU_TEMPO")
            ;;
        *) die "unknown synthesis engine '$engine' in voice spec '$spec'" ;;
    esac
    [[ -s $raw ]] || die "$engine produced no audio for: $text"
    if [[ -n ${pitch:-} && $pitch != 0 ]]; then
        effects+=(pitch "$pitch")
    fi
    # trim the synthesiser's own leading/trailing silence, level, resample
    "${SOX[@]}" "$raw" -c 1 -b 16 "$out" \
        silence 1 0.01 -50d reverse silence 1 0.01 -50d reverse \
        "${effects[@]}" norm -3 rate -v "$rate"
}

codec_args() {  # sox output-format options for a codec name (ffprobe naming)
    case $1 in
        pcm_s16le) echo "-e signed-integer -b 16" ;;
        pcm_mulaw) echo "-e u-law -b 8" ;;
        pcm_alaw)  echo "-e a-law -b 8" ;;
        flac)      echo "-b 16 -C 8" ;;
        *) die "unsupported codec $1" ;;
    esac
}

soxi_encoding() {  # what `soxi -e` reports for a codec name
    case $1 in
        pcm_s16le) echo "Signed Integer PCM" ;;
        pcm_mulaw) echo "u-law" ;;
        pcm_alaw)  echo "A-law" ;;
        flac)      echo "FLAC" ;;
    esac
}

channel_rms() {  # channel_rms FILE CHANNEL
    "${SOX[@]}" "$1" -n remix "$2" stat 2>&1 | awk '/^RMS +amplitude/ {print $3}'
}

MANIFEST_ENTRIES=()
TABLE_ROWS=()

# build_call NAME LANG CHANNELS RATE CODEC CALLTYPE DST SRC EPOCH COUNTER \
#            AGENT_VOICE CUSTOMER_VOICE DIRECTION SUMMARY
build_call() {
    local name=$1 lang=$2 channels=$3 rate=$4 codec=$5 calltype=$6 dst=$7 src=$8
    local epoch=$9 counter=${10} agent_voice=${11} customer_voice=${12}
    local direction=${13} summary=${14}
    local script="$SCRIPTS_DIR/$name.txt"
    [[ -f $script ]] || die "dialogue script not found: $script"

    local ext=wav
    [[ $codec == flac ]] && ext=flac
    # FreePBX MixMonitor naming; the PBX clock is UTC, so the timestamp and
    # the uniqueid (epoch.counter) describe the same instant.
    local stamp
    stamp="$(date -u -d "@$epoch" +%Y%m%d-%H%M%S)"
    local file="$calltype-$dst-$src-$stamp-$epoch.$counter.$ext"

    local segdir="$WORK/$name"
    mkdir -p "$segdir"
    local segs=() n=0 line speaker text voice remix
    "${SOX[@]}" -n -r "$rate" -c "$channels" -b 16 "$segdir/lead.wav" trim 0 "$LEAD_IN"
    segs+=("$segdir/lead.wav")
    while IFS= read -r line || [[ -n $line ]]; do
        line=${line%$'\r'}
        [[ -z ${line//[[:space:]]/} || $line == \#* ]] && continue
        speaker=${line%%:*}
        text=${line#*:}
        text=${text#"${text%%[![:space:]]*}"}
        case $speaker in
            agent)    voice=$agent_voice;    remix=(remix 1 0) ;;
            customer) voice=$customer_voice; remix=(remix 0 1) ;;
            *) die "$script: line must start with 'agent:' or 'customer:': $line" ;;
        esac
        [[ $channels == 1 ]] && remix=()
        [[ -n $text ]] || die "$script: empty turn: $line"
        synth_turn "$voice" "$text" "$rate" "$segdir/turn$n.wav"
        local gap=${GAPS[$((n % ${#GAPS[@]}))]}
        # pause before the turn (skipped for the first), then the speech with
        # the other party's channel silent
        if ((n > 0)); then
            "${SOX[@]}" "$segdir/turn$n.wav" "$segdir/seg$n.wav" "${remix[@]}" pad "$gap" 0
        else
            "${SOX[@]}" "$segdir/turn$n.wav" "$segdir/seg$n.wav" "${remix[@]}"
        fi
        segs+=("$segdir/seg$n.wav")
        n=$((n + 1))
    done <"$script"
    ((n >= 2)) || die "$script: needs at least two turns"
    "${SOX[@]}" -n -r "$rate" -c "$channels" -b 16 "$segdir/tail.wav" trim 0 "$TAIL"
    segs+=("$segdir/tail.wav")

    # shellcheck disable=SC2046
    "${SOX[@]}" "${segs[@]}" -r "$rate" -c "$channels" $(codec_args "$codec") "$WORK/out/$file"

    # --- verify the output ---
    local out="$WORK/out/$file" got
    got="$(soxi -r "$out")"; [[ $got == "$rate" ]] || die "$file: rate $got, expected $rate"
    got="$(soxi -c "$out")"; [[ $got == "$channels" ]] || die "$file: $got channels, expected $channels"
    got="$(soxi -e "$out")"; [[ $got == "$(soxi_encoding "$codec")" ]] \
        || die "$file: encoding '$got', expected '$(soxi_encoding "$codec")'"
    local ch rms
    for ((ch = 1; ch <= channels; ch++)); do
        rms="$(channel_rms "$out" "$ch")"
        awk -v r="$rms" 'BEGIN { exit !(r > 0.02) }' \
            || die "$file: channel $ch is (nearly) silent, RMS=$rms"
    done
    local duration size
    duration="$(soxi -D "$out" | awk '{printf "%.3f", $1}')"
    size="$(wc -c <"$out")"
    printf '  %-62s %s ch %5s Hz %-9s %6ss %4d KB  %d turns\n' \
        "$file" "$channels" "$rate" "$codec" "$duration" $((size / 1024)) "$n"

    # --- sidecar for the queue call ---
    local sidecar=""
    if [[ $calltype == q ]]; then
        sidecar="$file.json"
        # started_at is given in the customer's local zone (Moscow, UTC+3):
        # the same instant as the UTC stamp in the file name.
        local started_at
        started_at="$(date -u -d "@$((epoch + 3 * 3600))" +%Y-%m-%dT%H:%M:%S)+03:00"
        cat >"$WORK/out/$sidecar" <<EOF
{
  "agent_id": "$SIDECAR_AGENT_ID",
  "team": "$SIDECAR_TEAM",
  "queue": "$dst",
  "direction": "$direction",
  "customer_phone": "$src",
  "started_at": "$started_at",
  "pbx_call_id": "$epoch.$counter",
  "language": "$lang"
}
EOF
    fi

    local sidecar_json=null
    [[ -z $sidecar ]] || sidecar_json="$(json_str "recordings/$sidecar")"
    local agent_channel=left
    [[ $channels == 1 ]] && agent_channel=mixed
    MANIFEST_ENTRIES+=("  {
    \"file\": $(json_str "recordings/$file"),
    \"script\": $(json_str "scripts/$name.txt"),
    \"language\": \"$lang\",
    \"channels\": $channels,
    \"sample_rate\": $rate,
    \"codec\": \"$codec\",
    \"duration_s\": $duration,
    \"agent_channel\": \"$agent_channel\",
    \"turns\": $n,
    \"direction\": \"$direction\",
    \"calltype\": \"$calltype\",
    \"dst\": $(json_str "$dst"),
    \"src\": $(json_str "$src"),
    \"started_at\": \"$(date -u -d "@$epoch" +%Y-%m-%dT%H:%M:%SZ)\",
    \"pbx_call_id\": \"$epoch.$counter\",
    \"sidecar\": $sidecar_json,
    \"summary\": $(json_str "$summary")
  }")
    local layout="stereo (L agent / R customer)"
    [[ $channels == 1 ]] && layout="mono (both mixed)"
    local rate_k=$((rate / 1000))
    local file_cell="\`$file\`"
    [[ -z $sidecar ]] || file_cell+=" (+ \`.json\` sidecar)"
    TABLE_ROWS+=("| $file_cell | $lang | $layout | $rate_k kHz | $codec | $duration s | $summary |")
}

# --- the calls ---------------------------------------------------------------
echo "Building samples into $REC_DIR"

build_call en_outbound_sale en 2 16000 pcm_s16le \
    out 14155550147 201 1794842100 21 \
    espeak:en-us espeak:en-gb+f3 outbound \
    "Outbound sales call: agent Mark (ext 201) offers headphones for 89 dollars, customer orders; order 45712, phone 415 555 0147, sale ends November 28."

build_call en_late_delivery en 2 8000 pcm_mulaw \
    in 202 +14155550123 1795174200 15 \
    espeak:en-us+f3 espeak:en-gb inbound \
    "Inbound complaint: laptop due November 12 has not arrived, customer is angry; order 38291, paid 1249 dollars, new delivery November 22, shipping fee of 25 dollars refunded, manager callback to 415 555 0123."

build_call ru_price_callback ru 2 8000 pcm_alaw \
    q 600 +79031234567 1795254300 3 \
    festival:msu_ru_nsh_clunits festival:msu_ru_nsh_clunits:-300 inbound \
    "Inbound call via queue 600: customer finds a 49 000 rouble TV too expensive (дорого); order 72051, discount until November 25, asks for a callback to 903 123 45 67."

build_call ru_refund_warranty ru 2 16000 flac \
    in 203 +79161234567 1795443000 8 \
    festival:msu_ru_nsh_clunits festival:msu_ru_nsh_clunits:-300 inbound \
    "Inbound refund/warranty request: vacuum cleaner bought November 5 broke; order 58319, 12 000 roubles refunded within 10 days, phone 916 123 45 67."

build_call en_cancel_mono en 1 8000 pcm_s16le \
    external 15035550188 +12125550199 1795624200 41 \
    espeak:en-us+f3 espeak:en-gb inbound \
    "Short inbound call (follow-me to a remote agent's mobile, mono): customer cancels order 61408, a 99 dollar smart speaker due November 30, found it cheaper; phone 212 555 0199."

# --- install -------------------------------------------------------------------
mkdir -p "$REC_DIR"
find "$REC_DIR" -maxdepth 1 -type f \( -name '*.wav' -o -name '*.flac' -o -name '*.json' \) -delete
cp "$WORK"/out/* "$REC_DIR"/

# manifest.json: a JSON array, one object per recording; paths are relative
# to events/samples/.
{
    echo "["
    last=$((${#MANIFEST_ENTRIES[@]} - 1))
    for i in "${!MANIFEST_ENTRIES[@]}"; do
        sep=","
        if ((i == last)); then sep=""; fi
        printf '%s%s\n' "${MANIFEST_ENTRIES[$i]}" "$sep"
    done
    echo "]"
} >"$MANIFEST"

if [[ -f $README ]] && grep -q '<!-- BEGIN SAMPLES TABLE -->' "$README"; then
    {
        echo "| File | Lang | Channels | Rate | Codec | Duration | What happens |"
        echo "|---|---|---|---|---|---|---|"
        printf '%s\n' "${TABLE_ROWS[@]}"
    } >"$WORK/table.md"
    awk -v table="$WORK/table.md" '
        /<!-- BEGIN SAMPLES TABLE -->/ { print; while ((getline l < table) > 0) print l; skip = 1; next }
        /<!-- END SAMPLES TABLE -->/   { skip = 0 }
        !skip { print }
    ' "$README" >"$WORK/README.md"
    cat "$WORK/README.md" >"$README"
fi

echo "Wrote $(ls "$REC_DIR" | wc -l) files, manifest.json$([[ -f $README ]] && echo ', README.md table')."
