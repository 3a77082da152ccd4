// A real Synapse from the Python package index as a local test peer.
export { buildHomeserverConfig, buildLogConfig, IP_RANGE_BLOCKLIST_WITHOUT_LOOPBACK } from './config.js';
export type { HomeserverConfigInput } from './config.js';
export { DEFAULT_CACHE_DIR, installSynapse, PYTHON_CANDIDATES, SYNAPSE_VERSION } from './install.js';
export type { InstalledSynapse, InstallOptions } from './install.js';
export { freePort, registrationMac, startSynapse } from './synapse.js';
export type { RunningSynapse, StartSynapseOptions, SynapseUser } from './synapse.js';
