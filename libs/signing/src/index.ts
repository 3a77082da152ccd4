export { Base64Error, decodeBase64, encodeUnpaddedBase64, encodeUnpaddedBase64Url } from './base64.js';
export {
  ED25519_PUBLIC_KEY_LENGTH,
  ED25519_SEED_LENGTH,
  ED25519_SIGNATURE_LENGTH,
  nodeCryptoBackend,
  tweetnaclBackend,
} from './backends.js';
export type { CryptoBackend } from './backends.js';
export {
  ED25519,
  SigningKeyError,
  encodeVerifyKey,
  formatSigningKeyFile,
  generateSigningKey,
  isValidKeyVersion,
  parseSigningKeyFile,
  randomKeyVersion,
  signingKeyFromSeed,
} from './signing-key.js';
export type { SigningKey } from './signing-key.js';
export { computeJsonSignature, signJson, signatureKeyIds, signedBytesOf, verifyJsonSignature } from './sign-json.js';
export {
  MAX_KEY_VALIDITY_PERIOD_MS,
  ServerKeyError,
  VerifyKeyStore,
  buildServerKeyResponse,
  effectiveValidUntilTs,
  parseServerKeyResponse,
} from './server-keys.js';
export type { KeyForEventOptions, OldVerifyKey, ServerKeys, StoredVerifyKey } from './server-keys.js';
export {
  X_MATRIX_SCHEME,
  XMatrixHeaderError,
  buildRequestSigningObject,
  formatXMatrixHeader,
  parseXMatrixHeader,
  signRequest,
  verifyRequestSignature,
} from './x-matrix.js';
export type { ReceivedRequest, RequestToSign, XMatrixAuth, XMatrixHeaderProblem } from './x-matrix.js';
