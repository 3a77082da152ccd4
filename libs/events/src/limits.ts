// Size and count limits of PDUs (spec client-server API §"Size limits",
// appendices §"Identifier Grammar", pdu_v1/v3/v4 schemas; MATRIX_FACTS.md §7).

/** Largest PDU as canonical JSON in federation format, signatures included (Synapse MAX_PDU_SIZE). */
export const MAX_PDU_BYTES = 65_536;

/** Largest `type`, `state_key`, `sender`, `room_id`, `event_id`. */
export const MAX_IDENTIFIER_BYTES = 255;

export const MAX_PREV_EVENTS = 20;
export const MAX_AUTH_EVENTS = 10;

/** Canonical JSON integers lie within ±(2^53 - 1). */
export const CANONICAL_JSON_MAX_INT = Number.MAX_SAFE_INTEGER;
export const CANONICAL_JSON_MIN_INT = -Number.MAX_SAFE_INTEGER;
