// The homeserver.yaml of a Synapse that serves as a test peer on loopback.
// Written as JSON, which every YAML parser reads. Option names are Synapse's
// (configuration manual of element-hq/synapse); values suit one machine.

export interface HomeserverConfigInput {
  /** `127.0.0.1:PORT`: an IP literal with the federation port needs no DNS or .well-known. */
  readonly serverName: string;
  readonly host: string;
  readonly clientPort: number;
  readonly federationPort: number;
  readonly dataDir: string;
  readonly tlsCertificatePath: string;
  readonly tlsPrivateKeyPath: string;
  /** CA files Synapse trusts for outbound federation. */
  readonly federationCaFiles: readonly string[];
  readonly registrationSharedSecret: string;
  readonly macaroonSecretKey: string;
  readonly formSecret: string;
  readonly logConfigPath: string;
}

// Synapse's default blocklist (synapse/config/server.py) less loopback, so
// federation can reach peers on 127.0.0.0/8 and ::1.
export const IP_RANGE_BLOCKLIST_WITHOUT_LOOPBACK: readonly string[] = [
  '10.0.0.0/8',
  '172.16.0.0/12',
  '192.168.0.0/16',
  '100.64.0.0/10',
  '192.0.0.0/24',
  '169.254.0.0/16',
  '192.88.99.0/24',
  '198.18.0.0/15',
  '192.0.2.0/24',
  '198.51.100.0/24',
  '203.0.113.0/24',
  '224.0.0.0/4',
  'fe80::/10',
  'fc00::/7',
  '2001:db8::/32',
  'ff00::/8',
  'fec0::/10',
];

/** A limit high enough that tests and benchmarks never meet it. */
const UNLIMITED = { per_second: 100_000, burst_count: 1_000_000 } as const;

export function buildHomeserverConfig(input: HomeserverConfigInput): Record<string, unknown> {
  return {
    server_name: input.serverName,
    pid_file: `${input.dataDir}/homeserver.pid`,
    public_baseurl: `http://${input.host}:${input.clientPort}/`,
    listeners: [
      {
        port: input.clientPort,
        bind_addresses: [input.host],
        type: 'http',
        tls: false,
        x_forwarded: false,
        resources: [{ names: ['client'], compress: false }],
      },
      {
        port: input.federationPort,
        bind_addresses: [input.host],
        type: 'http',
        tls: true,
        resources: [{ names: ['federation'], compress: false }],
      },
    ],
    tls_certificate_path: input.tlsCertificatePath,
    tls_private_key_path: input.tlsPrivateKeyPath,
    federation_verify_certificates: true,
    federation_custom_ca_list: [...input.federationCaFiles],
    ip_range_blacklist: [...IP_RANGE_BLOCKLIST_WITHOUT_LOOPBACK],
    trusted_key_servers: [],
    suppress_key_server_warning: true,
    report_stats: false,
    enable_metrics: false,
    database: { name: 'sqlite3', args: { database: `${input.dataDir}/homeserver.db` } },
    media_store_path: `${input.dataDir}/media_store`,
    signing_key_path: `${input.dataDir}/signing.key`,
    log_config: input.logConfigPath,
    enable_registration: false,
    registration_shared_secret: input.registrationSharedSecret,
    // Synapse's default (12) costs about 0.25 s per registration and login.
    bcrypt_rounds: 4,
    macaroon_secret_key: input.macaroonSecretKey,
    form_secret: input.formSecret,
    rc_message: UNLIMITED,
    rc_joins: { local: UNLIMITED, remote: UNLIMITED },
    rc_joins_per_room: UNLIMITED,
    rc_invites: { per_room: UNLIMITED, per_user: UNLIMITED, per_issuer: UNLIMITED },
    rc_login: { address: UNLIMITED, account: UNLIMITED, failed_attempts: UNLIMITED },
    rc_registration: UNLIMITED,
    rc_room_creation: UNLIMITED,
    rc_federation: { window_size: 1000, sleep_limit: 10_000, sleep_delay: 1, reject_limit: 100_000, concurrent: 1000 },
  };
}

/** Python logging config: one file, at the given level (WARNING keeps benchmarks honest). */
export function buildLogConfig(logFile: string, level: 'INFO' | 'WARNING'): Record<string, unknown> {
  return {
    version: 1,
    formatters: { precise: { format: '%(asctime)s - %(name)s - %(lineno)d - %(levelname)s - %(message)s' } },
    handlers: { file: { class: 'logging.FileHandler', formatter: 'precise', filename: logFile, encoding: 'utf8' } },
    loggers: { synapse: { level }, 'synapse.storage.SQL': { level: 'WARNING' } },
    root: { level, handlers: ['file'] },
    disable_existing_loggers: false,
  };
}
