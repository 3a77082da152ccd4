// Test vectors from /work/shared/reference/MATRIX_FACTS.md (data only).
// V5/V6: spec appendices "Cryptographic Test Vectors" / "Event Signing",
// Synapse tests/crypto/test_event_signing.py, gomatrixserverlib eventcrypto_test.go.
// V7: Synapse rust/src/events/utils.rs test_calculate_event_id.
// V8: derived (regression data, cross-checked with python-signedjson).
import type { JsonObject } from '@membrane/canonical-json';
import { decodeBase64, signingKeyFromSeed } from '@membrane/signing';

export const SPEC_SERVER = 'domain';
export const SPEC_KEY_ID = 'ed25519:1';
export const SPEC_PUBLIC_KEY_B64 = 'XGX0JRS2Af3be3knz2fBiRbApjm2Dh61gXDJA8kcJNI';
export const specKey = signingKeyFromSeed('1', decodeBase64('YJDBA9Xnr2sVqXD9Vj7XVUnmFZcZrlw8Md7kMW+3XA1'));

export interface SigningVector {
  readonly name: string;
  readonly input: JsonObject;
  readonly contentHash: string;
  readonly signature: string;
  readonly signedBytes: string;
}

/** V6: computed with the v1…v10 redaction algorithm. */
export const EVENT_SIGNING_VECTORS: readonly SigningVector[] = [
  {
    name: 'spec Event Signing #1',
    input: {
      room_id: '!x:domain',
      sender: '@a:domain',
      origin: 'domain',
      origin_server_ts: 1000000,
      signatures: {},
      hashes: {},
      type: 'X',
      content: {},
      prev_events: [],
      auth_events: [],
      depth: 3,
      unsigned: { age_ts: 1000000 },
    },
    contentHash: '5jM4wQpv6lnBo7CLIghJuHdW+s2CMBJPUOGOC89ncos',
    signature: 'KxwGjPSDEtvnFgU00fwFz+l6d2pJM6XBIaMEn81SXPTRl16AqLAYqfIReFGZlHi5KLjAWbOoMszkwsQma+lYAg',
    signedBytes:
      '{"auth_events":[],"content":{},"depth":3,"hashes":{"sha256":"5jM4wQpv6lnBo7CLIghJuHdW+s2CMBJPUOGOC89ncos"},"origin":"domain","origin_server_ts":1000000,"prev_events":[],"room_id":"!x:domain","sender":"@a:domain","type":"X"}',
  },
  {
    name: 'spec Event Signing #2',
    input: {
      content: { body: 'Here is the message content' },
      event_id: '$0:domain',
      origin: 'domain',
      origin_server_ts: 1000000,
      type: 'm.room.message',
      room_id: '!r:domain',
      sender: '@u:domain',
      signatures: {},
      unsigned: { age_ts: 1000000 },
    },
    contentHash: 'onLKD1bGljeBWQhWZ1kaP9SorVmRQNdN5aM2JYU2n/g',
    signature: 'Wm+VzmOUOz08Ds+0NTWb1d4CZrVsJSikkeRxh6aCcUwu6pNC78FunoD7KNWzqFn241eYHYMGCA5McEiVPdhzBA',
    signedBytes:
      '{"content":{},"event_id":"$0:domain","hashes":{"sha256":"onLKD1bGljeBWQhWZ1kaP9SorVmRQNdN5aM2JYU2n/g"},"origin":"domain","origin_server_ts":1000000,"room_id":"!r:domain","sender":"@u:domain","type":"m.room.message"}',
  },
  {
    name: 'Synapse test_sign_minimal',
    input: {
      event_id: '$0:domain',
      origin: 'domain',
      origin_server_ts: 1000000,
      signatures: {},
      type: 'X',
      unsigned: { age_ts: 1000000 },
    },
    contentHash: '6tJjLpXtggfke8UxFhAKg82QVkJzvKOVOOSjUDK4ZSI',
    signature: '2Wptgo4CwmLo/Y8B8qinxApKaCkBG2fjTWB7AbP5Uy+aIbygsSdLOFzvdDjww8zUVKCmI02eP9xtyJxc/cLiBA',
    signedBytes:
      '{"content":{},"event_id":"$0:domain","hashes":{"sha256":"6tJjLpXtggfke8UxFhAKg82QVkJzvKOVOOSjUDK4ZSI"},"origin":"domain","origin_server_ts":1000000,"type":"X"}',
  },
];

/** V6 [derived] extras for spec Event Signing #1. */
export const SPEC_EVENT_1_DERIVED = {
  eventIdV3: '$8yif6p8EqgoSten2BLje9ntKm720NyFLWQv9tn8memc',
  eventIdV4: '$8yif6p8EqgoSten2BLje9ntKm720NyFLWQv9tn8memc',
  v11: {
    signature: 'Jxp+1glFcZM+nnHpY0EkedRR7u0VmKsJYGnQqIvqus3UvL5X/p1y6wSkLhGoTBel6MZ9lrMIzUqrjqFquWJKBw',
    signedBytes:
      '{"auth_events":[],"content":{},"depth":3,"hashes":{"sha256":"5jM4wQpv6lnBo7CLIghJuHdW+s2CMBJPUOGOC89ncos"},"origin_server_ts":1000000,"prev_events":[],"room_id":"!x:domain","sender":"@a:domain","type":"X"}',
    eventIdV4: '$70O_oKlXzFbkfu0KE88USi98DjSWrOELrPj-8tisl8I',
  },
} as const;

/** V7: a real Synapse event. */
export const SYNAPSE_EVENT: JsonObject = {
  auth_events: [
    '$gbHO7IPUHybc7ULFnT7P0r3iWlZFHGmr6zBfEYCUyKw',
    '$hy1eZFYcgNxMFNNBgCD5fyOzyWRcBkxfNcrUI5ZpZlE',
    '$Nt_z68EwFfPqBeHjzEHGsp461Z4EfNEzR-KH5bOYdOY',
  ],
  prev_events: ['$4FbpZrgPQTwoLD9H5y7jcikucCypUOn78mXhQX7WliY'],
  type: 'm.room.message',
  room_id: '!DHmIIVvxFASSFgDGzr:localhost:8008',
  sender: '@tester_b:localhost:8008',
  content: { msgtype: 'm.text', body: 'invited people can see history', 'm.mentions': {} },
  depth: 24,
  origin: 'localhost:8008',
  origin_server_ts: 1731769874137,
  hashes: { sha256: 'FoYV1w3TW/B2mVT0gX2/BZKpCwrrvGXqXFdUhN9LZYU' },
  signatures: {
    'localhost:8008': {
      'ed25519:a_phSE': 'G8cfk/m97sndxMNrEZ2nMMSXkVeJE05G7if4JiVzAwGfD3TwnF/jfSHt2acWrpNqv/aEhZug3WLofc2id+rVBw',
    },
  },
  unsigned: { age_ts: 1731769874137 },
};

export const SYNAPSE_EVENT_IDS = {
  v3: '$zRz9jjiT9wZc3Hl9ij/74aCmTjqV3YMlj9sj3Uqxg6o',
  v4ToV10: '$zRz9jjiT9wZc3Hl9ij_74aCmTjqV3YMlj9sj3Uqxg6o',
  v11Derived: '$XEy9wBUPnTswE8-xZHYlz4NEt7JPyjV5J4RJ1Vl9Tf0',
  redactedCanonicalBytes:
    '{"auth_events":["$gbHO7IPUHybc7ULFnT7P0r3iWlZFHGmr6zBfEYCUyKw","$hy1eZFYcgNxMFNNBgCD5fyOzyWRcBkxfNcrUI5ZpZlE","$Nt_z68EwFfPqBeHjzEHGsp461Z4EfNEzR-KH5bOYdOY"],"content":{},"depth":24,"hashes":{"sha256":"FoYV1w3TW/B2mVT0gX2/BZKpCwrrvGXqXFdUhN9LZYU"},"origin":"localhost:8008","origin_server_ts":1731769874137,"prev_events":["$4FbpZrgPQTwoLD9H5y7jcikucCypUOn78mXhQX7WliY"],"room_id":"!DHmIIVvxFASSFgDGzr:localhost:8008","sender":"@tester_b:localhost:8008","type":"m.room.message"}',
} as const;

export interface DerivedEventVector {
  readonly name: string;
  readonly versions: readonly string[];
  readonly unsignedInput: JsonObject;
  readonly signedEvent: JsonObject;
  readonly redactedCanonicalBytes: string;
  readonly eventIds: Readonly<Record<string, string>>;
}

const V12_CREATE_ID = '$P5-6WTYQ_woy6f4nmleE0XqxjtZcyKGza5_gDN-KAdM';
const V12_ROOM_ID = '!P5-6WTYQ_woy6f4nmleE0XqxjtZcyKGza5_gDN-KAdM';

/** V8 [derived]. */
export const DERIVED_EVENT_VECTORS: readonly DerivedEventVector[] = [
  {
    name: 'v12 create',
    versions: ['12'],
    unsignedInput: {
      type: 'm.room.create',
      state_key: '',
      sender: '@a:domain',
      content: { room_version: '12' },
      origin_server_ts: 1000000,
      depth: 1,
      prev_events: [],
      auth_events: [],
    },
    signedEvent: {
      type: 'm.room.create',
      state_key: '',
      sender: '@a:domain',
      content: { room_version: '12' },
      origin_server_ts: 1000000,
      depth: 1,
      prev_events: [],
      auth_events: [],
      hashes: { sha256: 'ccqBumrNf46eCfIkdZSYW9RNafS0xFYYDm5rnZBSVJU' },
      signatures: {
        domain: {
          'ed25519:1': '0iTJ32BZFymf41Y7UBttP2wZ0JTo6UjsLDQuf+79LB+WeKVfoLyR2I8RF23ZdFgCuxtjVBl5MKXIOWP+ocELDw',
        },
      },
    },
    redactedCanonicalBytes:
      '{"auth_events":[],"content":{"room_version":"12"},"depth":1,"hashes":{"sha256":"ccqBumrNf46eCfIkdZSYW9RNafS0xFYYDm5rnZBSVJU"},"origin_server_ts":1000000,"prev_events":[],"sender":"@a:domain","state_key":"","type":"m.room.create"}',
    eventIds: { '12': V12_CREATE_ID },
  },
  {
    name: 'v12 self-leave in that room',
    versions: ['12'],
    unsignedInput: {
      type: 'm.room.member',
      state_key: '@a:domain',
      sender: '@a:domain',
      room_id: V12_ROOM_ID,
      content: { membership: 'leave', reason: 'bye' },
      origin_server_ts: 1000002,
      depth: 3,
      prev_events: [V12_CREATE_ID],
      auth_events: [],
    },
    signedEvent: {
      type: 'm.room.member',
      state_key: '@a:domain',
      sender: '@a:domain',
      room_id: V12_ROOM_ID,
      content: { membership: 'leave', reason: 'bye' },
      origin_server_ts: 1000002,
      depth: 3,
      prev_events: [V12_CREATE_ID],
      auth_events: [],
      hashes: { sha256: '7ehDsbRv2wMWoydKmnc5nJxcu2zQ/SYDsKKaEeERDrg' },
      signatures: {
        domain: {
          'ed25519:1': '/NaCr2obK3ub8/2gh/uC6+aVqbmyMgBVklu4bg4STYToE+e7fgpg1uLCgoVLtZeZp3T8n8LZp6XnKAX/NGEAAw',
        },
      },
    },
    redactedCanonicalBytes:
      '{"auth_events":[],"content":{"membership":"leave"},"depth":3,"hashes":{"sha256":"7ehDsbRv2wMWoydKmnc5nJxcu2zQ/SYDsKKaEeERDrg"},"origin_server_ts":1000002,"prev_events":["$P5-6WTYQ_woy6f4nmleE0XqxjtZcyKGza5_gDN-KAdM"],"room_id":"!P5-6WTYQ_woy6f4nmleE0XqxjtZcyKGza5_gDN-KAdM","sender":"@a:domain","state_key":"@a:domain","type":"m.room.member"}',
    eventIds: { '12': '$DV-Nta3PFTZD-LeZWwzYz_ZX4y-GUpHqFknCcLjOp94' },
  },
  {
    name: 'v4–v12 self-leave in !r:domain',
    versions: ['4', '5', '6', '7', '8', '9', '10', '11', '12'],
    unsignedInput: {
      type: 'm.room.member',
      state_key: '@a:domain',
      sender: '@a:domain',
      room_id: '!r:domain',
      content: { membership: 'leave', reason: 'bye' },
      origin_server_ts: 1000002,
      depth: 3,
      prev_events: ['$p'],
      auth_events: ['$c'],
    },
    signedEvent: {
      type: 'm.room.member',
      state_key: '@a:domain',
      sender: '@a:domain',
      room_id: '!r:domain',
      content: { membership: 'leave', reason: 'bye' },
      origin_server_ts: 1000002,
      depth: 3,
      prev_events: ['$p'],
      auth_events: ['$c'],
      hashes: { sha256: 'Yb0xFJdQ6lzwzcTd6Z7TFxUpnOIQjDhc8gfXqWm2crg' },
      signatures: {
        domain: {
          'ed25519:1': 'HXsvgxPm4d91fdNBSh+6Vt8ygXqpcseHOxa9oXqwY/7CQjWYC7AbpNFwfYfC6r+I5RR1Cb32w037OY7+J/igBA',
        },
      },
    },
    redactedCanonicalBytes:
      '{"auth_events":["$c"],"content":{"membership":"leave"},"depth":3,"hashes":{"sha256":"Yb0xFJdQ6lzwzcTd6Z7TFxUpnOIQjDhc8gfXqWm2crg"},"origin_server_ts":1000002,"prev_events":["$p"],"room_id":"!r:domain","sender":"@a:domain","state_key":"@a:domain","type":"m.room.member"}',
    eventIds: {
      '3': '$miLjqyOxILg8DQq5S0K2xzrMBL/SOVxLMl95Q8/ZCYk',
      '4': '$miLjqyOxILg8DQq5S0K2xzrMBL_SOVxLMl95Q8_ZCYk',
    },
  },
];
