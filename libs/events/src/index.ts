export * from './room-versions.js';
