// Published test vectors, as data (sources in each comment; copied from
// /work/shared/reference MATRIX_FACTS.md V5 and V10).

/** Spec appendix "Cryptographic Test Vectors"; python-signedjson tests/test_known_key.py. */
export const SPEC_KEY = {
  /** As published. Its last character carries non-zero padding bits: re-encoding gives `...XA0`. */
  seedBase64: 'YJDBA9Xnr2sVqXD9Vj7XVUnmFZcZrlw8Md7kMW+3XA1',
  seedCanonicalBase64: 'YJDBA9Xnr2sVqXD9Vj7XVUnmFZcZrlw8Md7kMW+3XA0',
  seedHex: '6090c103d5e7af6b15a970fd563ed75549e6159719ae5c3c31dee4316fb75c0d',
  /** Derived, and matched by three implementations. */
  publicKeyBase64: 'XGX0JRS2Af3be3knz2fBiRbApjm2Dh61gXDJA8kcJNI',
  serverName: 'domain',
  version: '1',
  keyId: 'ed25519:1',
} as const;

export const SPEC_JSON_SIGNING = [
  {
    input: {},
    signedBytes: '{}',
    signature: 'K8280/U9SSy9IVtjBuVeLr+HpOB4BQFWbg+UZaADMtTdGYI7Geitb76LTrr5QV/7Xg4ahLwYGYZzuHGZKM5ZAQ',
  },
  {
    input: { one: 1, two: 'Two' },
    signedBytes: '{"one":1,"two":"Two"}',
    signature: 'KqmLSbO39/Bzb0QIYE82zqLwsA+PDzYIpIRA2sRQ4sL53+sN6/fpNSoqE7BP7vBZhG6kYdD13EIMJpvhJI+6Bw',
  },
] as const;

/** gomatrixserverlib fclient/request_test.go (commit ffcbbd38). */
export const X_MATRIX_VECTOR = {
  seedBase64: 'QJvXAPj0D9MUb1exkD8pIWmCvT1xajlsB8jRYz/G5HE',
  publicKeyBase64: '2UwTWD4+tgTgENV7znGGNqhAOGY+BW1mRAnC6W6FBQg',
  origin: 'localhost:8800',
  destination: 'localhost:44033',
  version: 'a_Obwu',
  keyId: 'ed25519:a_Obwu',
  get: {
    method: 'GET',
    uri: '/_matrix/federation/v1/query/directory?room_alias=%23test%3Alocalhost%3A44033',
    signedBytes:
      '{"destination":"localhost:44033","method":"GET","origin":"localhost:8800","uri":"/_matrix/federation/v1/query/directory?room_alias=%23test%3Alocalhost%3A44033"}',
    sig: '7vt4vP/w8zYB3Zg77nuTPwie3TxEy2OHZQMsSa4nsXZzL4/qw+DguXbyMy3BF77XvSJmBt+Gw+fU6T4HId7fBg',
    authorizationHeader:
      'X-Matrix origin="localhost:8800",key="ed25519:a_Obwu",sig="7vt4vP/w8zYB3Zg77nuTPwie3TxEy2OHZQMsSa4nsXZzL4/qw+DguXbyMy3BF77XvSJmBt+Gw+fU6T4HId7fBg",destination="localhost:44033"',
  },
  put: {
    method: 'PUT',
    uri: '/_matrix/federation/v1/send/1493385816575/',
    body: '{"edus":[{"content":{"device_id":"YHRUBZNPFS","keys":{"device_id":"YHRUBZNPFS","device_keys":{},"user_id":"@ANON-22:localhost:8800"},"prev_id":[],"stream_id":30,"user_id":"@ANON-22:localhost:8800"},"edu_type":"m.device_list_update"}],"origin":"localhost:8800","origin_server_ts":1493385822396,"pdu_failures":[],"pdus":[]}',
    sig: '+hmW6UjEXx7vMt2+MXO/EImSfdEYdBsZEOmpiz3evYktAgGNpGuNMBYXIA969WGubmceREKA/r1phasUFHBpDg',
    authorizationHeader:
      'X-Matrix origin="localhost:8800",key="ed25519:a_Obwu",sig="+hmW6UjEXx7vMt2+MXO/EImSfdEYdBsZEOmpiz3evYktAgGNpGuNMBYXIA969WGubmceREKA/r1phasUFHBpDg",destination="localhost:44033"',
  },
} as const;
