"""CCPE-M: one JSON array of conversations (`data.json`).

An utterance's `segments` is often absent; a segment's span is `[startIndex, endIndex)` of
the utterance text and may carry several annotations, so `ccpe_segments` has one row per
(segment, annotation). Spans nest; preference spans carry no polarity.
"""

from __future__ import annotations

import json
from pathlib import Path

import pyarrow as pa

from reelreason.parse.common import (
    LineAccount,
    Parsed,
    SourceFormatError,
    check_structure,
    reject,
)

UTTERANCES_SCHEMA = pa.schema(
    [
        ("conversation_id", pa.string()),
        ("utterance_index", pa.int32()),
        ("speaker", pa.string()),
        ("text", pa.string()),
        ("n_segments", pa.int32()),
    ]
)
SEGMENTS_SCHEMA = pa.schema(
    [
        ("conversation_id", pa.string()),
        ("utterance_index", pa.int32()),
        ("segment_index", pa.int32()),
        ("start_index", pa.int32()),
        ("end_index", pa.int32()),
        ("text", pa.string()),
        ("annotation_type", pa.string()),
        ("entity_type", pa.string()),
        ("span_matches_text", pa.bool_()),
    ]
)
SPEAKERS = ("USER", "ASSISTANT")


# CCPE-M's data.json is ~3 MB; a file 100x that is not CCPE-M (and would be read whole).
MAX_JSON_DOCUMENT_BYTES = 512 << 20


def load_json_document(path: Path, label: str, max_bytes: int = MAX_JSON_DOCUMENT_BYTES):
    size = path.stat().st_size
    if size > max_bytes:
        raise SourceFormatError(
            f"{label}: {size:,} bytes, over the {max_bytes:,}-byte limit for one JSON document; "
            "this is not the upstream file"
        )
    raw = path.read_bytes()
    try:
        return json.loads(raw.decode("utf-8"))
    except RecursionError:
        raise SourceFormatError(
            f"{label}: JSON nested too deeply to read (a nesting bomb, not CCPE-M data)"
        ) from None
    except UnicodeDecodeError as exc:
        raise SourceFormatError(
            f"{label}: not valid UTF-8 at byte {exc.start} (wrong encoding)"
        ) from None
    except json.JSONDecodeError as exc:
        where = f"line {exc.lineno} column {exc.colno}"
        truncated = exc.pos >= len(raw.rstrip()) - 1
        hint = "the file ends early (truncated download?)" if truncated else "corrupt JSON"
        raise SourceFormatError(
            f"{label}: invalid JSON at {where}: {exc.msg}; {hint}. Delete it and fetch it again."
        ) from None


INT32_MAX = 2**31 - 1


def _utterance_problem(index: int, text: str, segments) -> str | None:
    """Why an utterance cannot be typed: an index that does not fit its column, or a segment
    whose span lies outside the utterance's text (or is not a pair of numbers)."""
    if not 0 <= index <= INT32_MAX:
        return f"index {index} outside 0..{INT32_MAX}"
    if not isinstance(segments, list):
        return "segments is not a list"
    for k, seg in enumerate(segments):
        if not isinstance(seg, dict):
            return f"segment #{k} is not an object"
        start, end = seg.get("startIndex"), seg.get("endIndex")
        if start is None and end is None:
            continue  # no offsets given: the span is kept without them
        if not (isinstance(start, int) and isinstance(end, int) and 0 <= start <= end <= len(text)):
            return (
                f"segment #{k} span [{start}, {end}) lies outside the text's {len(text)} characters"
            )
    return None


def parse(path: Path, label: str) -> Parsed:
    doc = load_json_document(path, label)
    if not isinstance(doc, list):
        raise SourceFormatError(
            f"{label}: expected a JSON array of conversations, got {type(doc).__name__}"
        )
    utterances, segments, quarantine = [], [], []
    account = LineAccount(
        label, sum(len(c.get("utterances") or []) if isinstance(c, dict) else 1 for c in doc), 0
    )
    for position, conv in enumerate(doc):
        if (
            not isinstance(conv, dict)
            or not isinstance(conv.get("utterances"), list)
            or "conversationId" not in conv
        ):
            reject(
                quarantine,
                account,
                None,
                json.dumps(conv)[:4000],
                f"conversation #{position} lacks conversationId/utterances",
                # every utterance it held is lost with it (the account counts utterances)
                lines=max(1, len(conv.get("utterances") or []) if isinstance(conv, dict) else 1),
            )
            continue
        conv_id = str(conv["conversationId"])
        for utt in conv["utterances"]:
            text = utt.get("text") if isinstance(utt, dict) else None
            if (
                not isinstance(text, str)
                or utt.get("speaker") not in SPEAKERS
                or not isinstance(utt.get("index"), int)
            ):
                raw = json.dumps(utt)[:4000]
                reject(
                    quarantine,
                    account,
                    None,
                    raw,
                    f"utterance in {conv_id} lacks index/speaker/text",
                )
                continue
            segs = utt.get("segments") or []
            problem = _utterance_problem(utt["index"], text, segs)
            if problem:  # one odd utterance is quarantined, never fatal to the file
                raw = json.dumps(utt)[:4000]
                reject(quarantine, account, None, raw, f"utterance in {conv_id}: {problem}")
                continue
            account.kept += 1
            utterances.append(
                {
                    "conversation_id": conv_id,
                    "utterance_index": utt["index"],
                    "speaker": utt["speaker"],
                    "text": text,
                    "n_segments": len(segs),
                }
            )
            for seg_index, seg in enumerate(segs):
                start, end = seg.get("startIndex"), seg.get("endIndex")
                span = seg.get("text")
                matches = (
                    isinstance(start, int) and isinstance(end, int) and text[start:end] == span
                )
                for ann in seg.get("annotations") or [{}]:
                    segments.append(
                        {
                            "conversation_id": conv_id,
                            "utterance_index": utt["index"],
                            "segment_index": seg_index,
                            "start_index": start,
                            "end_index": end,
                            "text": span,
                            "annotation_type": ann.get("annotationType"),
                            "entity_type": ann.get("entityType"),
                            "span_matches_text": matches,
                        }
                    )
    check_structure(account, quarantine)
    return Parsed(
        {
            "ccpe_utterances": pa.Table.from_pylist(utterances, schema=UTTERANCES_SCHEMA),
            "ccpe_segments": pa.Table.from_pylist(segments, schema=SEGMENTS_SCHEMA),
        },
        {"ccpe_utterances": quarantine},
        [account],
        {
            "conversations": len(doc),
            "utterances_without_segments": sum(1 for u in utterances if u["n_segments"] == 0),
        },
    )
