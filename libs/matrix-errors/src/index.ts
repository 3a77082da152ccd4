export { ErrCode, MatrixError, isMatrixError, matrixErrorFromBody } from './matrix-error.js';
export type { KnownErrCode, MatrixErrorExtra } from './matrix-error.js';
