import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { X509Certificate, createPrivateKey } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { certificateCovers, ensureSelfSignedCertificate, subjectAltNameFor } from './self-signed.js';

describe('self-signed certificate', () => {
  it('names address literals as IP entries and host names as DNS entries', () => {
    assert.equal(subjectAltNameFor(['hs.test', '127.0.0.1', '::1']), 'DNS:hs.test,IP:127.0.0.1,IP:::1');
  });

  it('is generated once, names every host, keeps its key private, and is reused while it covers them', () => {
    const dir = mkdtempSync(join(tmpdir(), 'fed-tls-'));
    try {
      const first = ensureSelfSignedCertificate(join(dir, 'tls'), ['hs.test', '127.0.0.1']);
      assert.equal(first.generated, true);
      const pem = readFileSync(first.certFile, 'utf8');
      const certificate = new X509Certificate(pem);
      assert.equal(certificate.checkHost('hs.test'), 'hs.test');
      assert.equal(certificate.checkIP('127.0.0.1'), '127.0.0.1');
      assert.equal(certificate.checkHost('other.test'), undefined);
      assert.equal(statSync(first.keyFile).mode & 0o777, 0o600);
      assert.ok(certificate.checkPrivateKey(createPrivateKey(readFileSync(first.keyFile))));

      const second = ensureSelfSignedCertificate(join(dir, 'tls'), ['hs.test']);
      assert.equal(second.generated, false);
      assert.equal(readFileSync(second.certFile, 'utf8'), pem);

      const third = ensureSelfSignedCertificate(join(dir, 'tls'), ['hs.test', 'new.test']);
      assert.equal(third.generated, true);
      assert.notEqual(readFileSync(third.certFile, 'utf8'), pem);
      assert.equal(certificateCovers(readFileSync(third.certFile, 'utf8'), ['new.test'], Date.now()), true);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('is replaced when it is about to expire', () => {
    const dir = mkdtempSync(join(tmpdir(), 'fed-tls-'));
    try {
      const { certFile } = ensureSelfSignedCertificate(dir, ['hs.test']);
      const pem = readFileSync(certFile, 'utf8');
      const validTo = Date.parse(new X509Certificate(pem).validTo);
      assert.equal(certificateCovers(pem, ['hs.test'], validTo - 30 * 24 * 3600 * 1000), true);
      assert.equal(certificateCovers(pem, ['hs.test'], validTo - 24 * 3600 * 1000), false);
      assert.equal(certificateCovers('not a certificate', ['hs.test'], Date.now()), false);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
