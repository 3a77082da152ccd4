// Canonical JSON test vectors, copied as data from the project's reference
// collection reference/MATRIX_FACTS.md (sections V1–V4), whose
// sources are: the Matrix spec, content/appendices.md §Canonical JSON
// "Examples" (V1); python-canonicaljson tests/test_canonicaljson.py and
// derived cases (V2); gomatrixserverlib json_test.go TestCompactJSON /
// TestCanonicalConversion (V3) and its strict-mode cases (V4).
// Strings are ASCII-escaped here so that control and invisible characters stay visible.

export interface TextVector {
  /** JSON text to parse. */
  readonly input: string;
  /** Required canonical text. */
  readonly canonical: string;
}

export interface ValueVector {
  readonly src: string;
  readonly value: unknown;
  readonly canonical: string;
}

/** V1: the spec's own examples (input text, canonical output). */
export const V1_SPEC_EXAMPLES: readonly TextVector[] = [
  {
    "input": "{}",
    "canonical": "{}"
  },
  {
    "input": "{\n    \"one\": 1,\n    \"two\": \"Two\"\n}",
    "canonical": "{\"one\":1,\"two\":\"Two\"}"
  },
  {
    "input": "{\n    \"b\": \"2\",\n    \"a\": \"1\"\n}",
    "canonical": "{\"a\":\"1\",\"b\":\"2\"}"
  },
  {
    "input": "{\"b\":\"2\",\"a\":\"1\"}",
    "canonical": "{\"a\":\"1\",\"b\":\"2\"}"
  },
  {
    "input": "{\n    \"auth\": {\n        \"success\": true,\n        \"mxid\": \"@john.doe:example.com\",\n        \"profile\": {\n            \"display_name\": \"John Doe\",\n            \"three_pids\": [\n                {\n                    \"medium\": \"email\",\n                    \"address\": \"john.doe@example.org\"\n                },\n                {\n                    \"medium\": \"msisdn\",\n                    \"address\": \"123456789\"\n                }\n            ]\n        }\n    }\n}",
    "canonical": "{\"auth\":{\"mxid\":\"@john.doe:example.com\",\"profile\":{\"display_name\":\"John Doe\",\"three_pids\":[{\"address\":\"john.doe@example.org\",\"medium\":\"email\"},{\"address\":\"123456789\",\"medium\":\"msisdn\"}]},\"success\":true}}"
  },
  {
    "input": "{\n    \"a\": \"\u65e5\u672c\u8a9e\"\n}",
    "canonical": "{\"a\":\"\u65e5\u672c\u8a9e\"}"
  },
  {
    "input": "{\n    \"\u672c\": 2,\n    \"\u65e5\": 1\n}",
    "canonical": "{\"\u65e5\":1,\"\u672c\":2}"
  },
  {
    "input": "{\n    \"a\": \"\\u65E5\"\n}",
    "canonical": "{\"a\":\"\u65e5\"}"
  },
  {
    "input": "{\n    \"a\": null\n}",
    "canonical": "{\"a\":null}"
  },
  {
    "input": "{\n    \"a\": -0,\n    \"b\": 1e10\n}",
    "canonical": "{\"a\":0,\"b\":10000000000}"
  }
];

/**
 * Index in V1 of the example with `-0` and `1e10`, where Debian's
 * python3-canonicaljson prints 10000000000.0 (1e10 parses as a Python float).
 */
export const V1_FLOAT_EXAMPLE_INDEX = 9;

/** V2: values and their canonical text. */
export const V2_VALUES: readonly ValueVector[] = [
  {
    "src": "python-canonicaljson",
    "value": "text\u0003\r\n",
    "canonical": "\"text\\u0003\\r\\n\""
  },
  {
    "src": "python-canonicaljson",
    "value": "\"\\ test",
    "canonical": "\"\\\"\\\\ test\""
  },
  {
    "src": "python-canonicaljson",
    "value": {
      "la merde amus\u00e9e": "\ud83d\udca9"
    },
    "canonical": "{\"la merde amus\u00e9e\":\"\ud83d\udca9\"}"
  },
  {
    "src": "python-canonicaljson",
    "value": {
      "spaces": "\u2028 \u2029"
    },
    "canonical": "{\"spaces\":\"\u2028 \u2029\"}"
  },
  {
    "src": "python-canonicaljson",
    "value": "\\u1234",
    "canonical": "\"\\\\u1234\""
  },
  {
    "src": "derived",
    "value": "\u0000\u0001\u0007",
    "canonical": "\"\\u0000\\u0001\\u0007\""
  },
  {
    "src": "derived",
    "value": "\b\t\n\u000b\f\r\u000e\u001f",
    "canonical": "\"\\b\\t\\n\\u000b\\f\\r\\u000e\\u001f\""
  },
  {
    "src": "derived",
    "value": "\u007f/",
    "canonical": "\"\u007f/\""
  },
  {
    "src": "derived",
    "value": {
      "\ud83d\ude00": 1,
      "\ufb01": 2
    },
    "canonical": "{\"\ufb01\":2,\"\ud83d\ude00\":1}"
  },
  {
    "src": "derived",
    "value": {
      "b": [
        1,
        {
          "d": true,
          "c": null
        }
      ],
      "a": -9007199254740991
    },
    "canonical": "{\"a\":-9007199254740991,\"b\":[1,{\"c\":null,\"d\":true}]}"
  }
];

/** V3: input texts whose escapes and key order must be normalised. */
export const V3_NORMALISATION: readonly TextVector[] = [
  {
    "input": "[\"\\u0000\\u0001\\u0002\\u0003\\u0004\\u0005\\u0006\\u0007\"]",
    "canonical": "[\"\\u0000\\u0001\\u0002\\u0003\\u0004\\u0005\\u0006\\u0007\"]"
  },
  {
    "input": "[\"\\u0008\\u0009\\u000A\\u000B\\u000C\\u000D\\u000E\\u000F\"]",
    "canonical": "[\"\\b\\t\\n\\u000b\\f\\r\\u000e\\u000f\"]"
  },
  {
    "input": "[\"\\u0018\\u0019\\u001A\\u001B\\u001C\\u001D\\u001E\\u001F\"]",
    "canonical": "[\"\\u0018\\u0019\\u001a\\u001b\\u001c\\u001d\\u001e\\u001f\"]"
  },
  {
    "input": "[\"\\u0061\\u005C\\u0042\\u0022\"]",
    "canonical": "[\"a\\\\B\\\"\"]"
  },
  {
    "input": "[\"\\uD842\\uDC20\"]",
    "canonical": "[\"\ud842\udc20\"]"
  },
  {
    "input": "[\"\\\"\\\\\\/\"]",
    "canonical": "[\"\\\"\\\\/\"]"
  },
  {
    "input": "{\"\\u00F1\":0}",
    "canonical": "{\"\u00f1\":0}"
  },
  {
    "input": "{\"\\ud83d\\udc08\":0}",
    "canonical": "{\"\ud83d\udc08\":0}"
  },
  {
    "input": "{\"b\":0,\"a\":1}",
    "canonical": "{\"a\":1,\"b\":0}"
  },
  {
    "input": "{\"a\":[{\"b\":0,\"a\":1},{\"b\":0,\"a\":1}]}",
    "canonical": "{\"a\":[{\"a\":1,\"b\":0},{\"a\":1,\"b\":0}]}"
  },
  {
    "input": "{\"a\": 0}",
    "canonical": "{\"a\":0}"
  },
  {
    "input": "{ \"\\u00F1\": -0, \"2\": 0, \"1\": 9007199254740991, \"4\": [{\"2\": 0, \"1\": 0},{\"2\": 0, \"1\": 0}] }",
    "canonical": "{\"1\":9007199254740991,\"2\":0,\"4\":[{\"1\":0,\"2\":0},{\"1\":0,\"2\":0}],\"\u00f1\":0}"
  }
];

/** V4: texts refused when numbers must be strict (room versions 6+). */
export const V4_STRICT_REJECT: readonly string[] = [
  "{\"a\":-0}",
  "{\"a\":9007199254740992}",
  "{\"a\":-9007199254740992}",
  "{\"a\":1e5}",
  "{\"a\":1.5}",
  "{\"foo\": 9007199254740991, \"bar\": {\"baz\": 9007199254740991, \"qux\": {\"another\": [9007199254740998]}}}",
  "{\"foo\": 1.1}"
];

/** V4: texts accepted with strict numbers. */
export const V4_STRICT_ACCEPT: readonly string[] = [
  "{\"1\":9007199254740991,\"2\":0,\"3\":-9007199254740991,\"4\":[{\"1\":0,\"2\":0},{\"1\":0,\"2\":0}],\"\u00f1\":0}",
  "{\"foo\": 9007199254740991, \"bar\": {\"baz\": 9007199254740991}}"
];
