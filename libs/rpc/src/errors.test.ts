import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import * as grpc from '@grpc/grpc-js';
import { MatrixError } from '@membrane/matrix-errors';
import {
  INTERNAL_ERROR_MESSAGE,
  MATRIX_ERRCODE_METADATA_KEY,
  MATRIX_EXTRA_METADATA_KEY,
  MATRIX_STATUS_METADATA_KEY,
  fromGrpcError,
  grpcCodeForHttpStatus,
  toGrpcStatus,
} from './errors.js';

function bareStatus(code: grpc.status, details: string): grpc.ServiceError {
  return Object.assign(new Error(details), { code, details, metadata: new grpc.Metadata() });
}

describe('grpcCodeForHttpStatus', () => {
  it('maps the HTTP statuses Matrix errors use to the matching gRPC codes', () => {
    const expected: Array<[number, grpc.status]> = [
      [400, grpc.status.INVALID_ARGUMENT],
      [401, grpc.status.UNAUTHENTICATED],
      [403, grpc.status.PERMISSION_DENIED],
      [404, grpc.status.NOT_FOUND],
      [409, grpc.status.ALREADY_EXISTS],
      [413, grpc.status.OUT_OF_RANGE],
      [429, grpc.status.RESOURCE_EXHAUSTED],
      [500, grpc.status.INTERNAL],
      [502, grpc.status.UNAVAILABLE],
      [503, grpc.status.UNAVAILABLE],
      [504, grpc.status.DEADLINE_EXCEEDED],
      [418, grpc.status.FAILED_PRECONDITION],
      [599, grpc.status.INTERNAL],
    ];
    for (const [httpStatus, code] of expected) {
      assert.equal(grpcCodeForHttpStatus(httpStatus), code, `HTTP ${httpStatus}`);
    }
  });
});

describe('toGrpcStatus', () => {
  it('carries status, errcode and extra fields of a MatrixError in metadata', () => {
    const status = toGrpcStatus(new MatrixError(429, 'M_LIMIT_EXCEEDED', 'Too many requests', { retry_after_ms: 1500 }));
    assert.equal(status.code, grpc.status.RESOURCE_EXHAUSTED);
    assert.equal(status.details, 'Too many requests');
    assert.deepEqual(status.metadata.get(MATRIX_STATUS_METADATA_KEY), ['429']);
    assert.deepEqual(status.metadata.get(MATRIX_ERRCODE_METADATA_KEY), ['M_LIMIT_EXCEEDED']);
    const extra = status.metadata.get(MATRIX_EXTRA_METADATA_KEY)[0];
    assert.ok(Buffer.isBuffer(extra));
    assert.deepEqual(JSON.parse(extra.toString('utf8')), { retry_after_ms: 1500 });
  });

  it('sends no extra metadata when there are no extra fields', () => {
    const status = toGrpcStatus(MatrixError.forbidden('no'));
    assert.deepEqual(status.metadata.get(MATRIX_EXTRA_METADATA_KEY), []);
  });

  it('turns any other thrown value into INTERNAL with a generic message and no Matrix metadata', () => {
    for (const thrown of [new Error('password=hunter2 at /srv/app.ts:12'), 'a string', undefined, { code: 3 }]) {
      const status = toGrpcStatus(thrown);
      assert.equal(status.code, grpc.status.INTERNAL);
      assert.equal(status.details, INTERNAL_ERROR_MESSAGE);
      assert.deepEqual(status.metadata.getMap(), {});
    }
  });
});

describe('fromGrpcError', () => {
  it('rebuilds exactly the MatrixError that toGrpcStatus encoded', () => {
    const original = new MatrixError(400, 'M_INCOMPATIBLE_ROOM_VERSION', 'Your server cannot join', {
      room_version: '12',
      count: 3,
      ok: false,
      none: null,
    });
    const rebuilt = fromGrpcError(toGrpcStatus(original));
    assert.ok(rebuilt instanceof MatrixError);
    assert.equal(rebuilt.status, original.status);
    assert.equal(rebuilt.errcode, original.errcode);
    assert.equal(rebuilt.message, original.message);
    assert.deepEqual(rebuilt.extra, original.extra);
    assert.deepEqual(rebuilt.toJSON(), original.toJSON());
  });

  it('returns a MatrixError unchanged', () => {
    const err = MatrixError.notFound('gone');
    assert.equal(fromGrpcError(err), err);
  });

  it('turns deadline, connection and cancellation failures into 504/503 M_UNKNOWN', () => {
    const cases: Array<[grpc.status, number]> = [
      [grpc.status.DEADLINE_EXCEEDED, 504],
      [grpc.status.UNAVAILABLE, 503],
      [grpc.status.CANCELLED, 503],
    ];
    for (const [code, httpStatus] of cases) {
      const err = fromGrpcError(bareStatus(code, 'No connection established. Last error: connect ECONNREFUSED 10.0.0.7:50051'));
      assert.equal(err.status, httpStatus);
      assert.equal(err.errcode, 'M_UNKNOWN');
      assert.doesNotMatch(err.message, /10\.0\.0\.7/, 'transport details stay out of the message');
    }
  });

  it('keeps the original error as a non-enumerable cause for logs', () => {
    const original = bareStatus(grpc.status.UNAVAILABLE, 'down');
    const err = fromGrpcError(original);
    assert.equal(err.cause, original);
    assert.ok(!Object.keys(err).includes('cause'));
  });

  it('answers 500 M_UNKNOWN for other statuses, malformed Matrix metadata and non-gRPC values', () => {
    const malformed = bareStatus(grpc.status.PERMISSION_DENIED, 'x');
    malformed.metadata.set(MATRIX_STATUS_METADATA_KEY, 'forty');
    malformed.metadata.set(MATRIX_ERRCODE_METADATA_KEY, 'M_FORBIDDEN');
    for (const value of [bareStatus(grpc.status.INTERNAL, 'stack here'), malformed, new Error('x'), 42]) {
      const err = fromGrpcError(value);
      assert.equal(err.status, 500);
      assert.equal(err.errcode, 'M_UNKNOWN');
      assert.equal(err.message, INTERNAL_ERROR_MESSAGE);
    }
  });

  it('ignores extra metadata that is not a JSON object of scalars', () => {
    const status = toGrpcStatus(MatrixError.forbidden('no'));
    status.metadata.set(MATRIX_EXTRA_METADATA_KEY, Buffer.from('{"a":1,"nested":{"b":2},"list":[1]}'));
    assert.deepEqual(fromGrpcError(status).extra, { a: 1 });
    status.metadata.set(MATRIX_EXTRA_METADATA_KEY, Buffer.from('not json'));
    assert.deepEqual(fromGrpcError(status).extra, {});
  });
});
