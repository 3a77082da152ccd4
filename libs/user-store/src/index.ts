export { UserStore, UserStoreError, defaultUserStorePath } from './user-store.js';
export type { UserRecord, IssuedToken, TokenOwner, OpenUserStoreOptions, UserStoreErrorCode } from './user-store.js';
export { hashPassword, verifyPassword, DEFAULT_SCRYPT_COST } from './password.js';
export type { ScryptCost } from './password.js';
export { generateAccessToken, hashAccessToken, generateDeviceId } from './tokens.js';
export { isValidLocalpart, localpartOf, userIdOf } from './identifiers.js';
