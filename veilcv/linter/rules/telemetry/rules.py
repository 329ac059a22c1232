"""The telemetry rules (VC3xx): what each one means. IDs are stable and never reused."""

from __future__ import annotations

from veilcv.linter.finding import RuleMeta, Severity


def _rule(id: str, name: str, severity: Severity, rationale: str, fix: str) -> RuleMeta:
    return RuleMeta(
        id, name, "telemetry", severity, " ".join(rationale.split()), " ".join(fix.split()), "telemetry"
    )


FIELD_NOT_ALLOWED = _rule(
    "VC301",
    "telemetry-field-not-allowed",
    Severity.HIGH,
    """Telemetry leaves the machine that holds the data. The policy lists the only fields an event
    may carry; any other field (in a sample payload or declared by an event schema) is a new
    channel nobody reviewed.""",
    """Drop the field, or add it with its type to telemetry.allowed_fields after review.""",
)
FIELD_WRONG_TYPE = _rule(
    "VC302",
    "telemetry-field-wrong-type",
    Severity.MEDIUM,
    """An allowed field with another type than the policy's (an object where a count belongs, a
    string where an integer belongs) can smuggle arbitrary content past the field allow-list.""",
    """Send the field with the type telemetry.allowed_fields gives it.""",
)
IMAGE_BYTES = _rule(
    "VC303",
    "image-bytes-in-telemetry",
    Severity.CRITICAL,
    """Image or video bytes (raw, as a data: URI, base64-encoded or as a byte array) in an event
    ship the frame itself, faces and plates included, to wherever telemetry goes.""",
    """Send aggregates about the frame (counts, sizes), never its pixels.""",
)
BASE64_BLOB = _rule(
    "VC304",
    "base64-in-telemetry",
    Severity.HIGH,
    """An encoded binary blob cannot be reviewed: it may be a crop, a thumbnail, an embedding or a
    serialised record, and the allow-list cannot tell.""",
    """Remove the blob; send the few numbers it was computed for.""",
)
PATH = _rule(
    "VC305",
    "path-in-telemetry",
    Severity.HIGH,
    """File paths and frame names leak user names, camera and site names, dates and the layout of
    the raw data store, and point straight at unredacted frames.""",
    """Send counts per prefix or an opaque, non-reversible id instead of the path.""",
)
GPS = _rule(
    "VC306",
    "location-in-telemetry",
    Severity.CRITICAL,
    """Coordinates say where a person was; with a timestamp they identify people and homes even
    when the frames themselves are redacted.""",
    """Drop coordinates, or aggregate to a coarse region that the policy allows.""",
)
FREE_TEXT = _rule(
    "VC307",
    "free-text-in-telemetry",
    Severity.MEDIUM,
    """Free text (error messages with file names, captions, operator notes) can hold anything:
    names, addresses, plate numbers. An event field should be a code, a count or a time.""",
    """Replace the text with an enumerated code, or drop it.""",
)
IDENTIFIER = _rule(
    "VC308",
    "identifier-in-telemetry",
    Severity.HIGH,
    """E-mail and IP addresses, phone numbers and user or device ids link aggregated events back
    to a person.""",
    """Drop the identifier or replace it with a count.""",
)
FACE = _rule(
    "VC309",
    "face-data-in-telemetry",
    Severity.CRITICAL,
    """Face embeddings and landmarks are biometric data: they identify a person as well as the
    face crop does.""",
    """Never send embeddings or landmarks; send detection counts.""",
)
SMALL_AGGREGATE = _rule(
    "VC310",
    "aggregate-below-minimum",
    Severity.MEDIUM,
    """A count below the policy's min_aggregation_count describes a handful of people, or one: small
    cells re-identify individuals when combined with time and place.""",
    """Aggregate over a longer window or a coarser group until every count reaches the minimum, or
    suppress the small cells.""",
)
OPEN_SCHEMA = _rule(
    "VC311",
    "open-telemetry-schema",
    Severity.HIGH,
    """An event schema that does not set additionalProperties (or unevaluatedProperties) to false
    validates events with any extra field, so the schema guards nothing.""",
    """Set "additionalProperties": false on every object in the event schema.""",
)
SCHEMA_PERMITS_FORBIDDEN = _rule(
    "VC312",
    "schema-permits-forbidden-content",
    Severity.MEDIUM,
    """A schema property whose name, contentEncoding or contentMediaType says it carries forbidden
    content, or an allowed string property with no enum, pattern, format or short maxLength, lets
    events carry paths, base64 or free text while still validating.""",
    """Remove the property, or constrain strings with enum, pattern, format or maxLength <= 64.""",
)

KIND_RULES: dict[str, RuleMeta] = {
    "image_bytes": IMAGE_BYTES,
    "base64": BASE64_BLOB,
    "path": PATH,
    "gps": GPS,
    "free_text": FREE_TEXT,
    "identifier": IDENTIFIER,
    "face": FACE,
}

RULES: tuple[RuleMeta, ...] = (
    FIELD_NOT_ALLOWED,
    FIELD_WRONG_TYPE,
    IMAGE_BYTES,
    BASE64_BLOB,
    PATH,
    GPS,
    FREE_TEXT,
    IDENTIFIER,
    FACE,
    SMALL_AGGREGATE,
    OPEN_SCHEMA,
    SCHEMA_PERMITS_FORBIDDEN,
)
