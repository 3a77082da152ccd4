export { REPO_ROOT, startApp, startMembershipService } from './app-process.js';
export type { AppName, AppProcess, StartAppOptions } from './app-process.js';
