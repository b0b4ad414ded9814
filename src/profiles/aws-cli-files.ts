import { chmodSync, existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { formatIni, parseIni, type IniFile } from './ini.js';

/** The profile the first account's admin is written under. */
export const DEFAULT_PROFILE = 'latchkey';

/** The profile name of an account: `latchkey` for the first, `latchkey-ID` for the others. */
export function profileName(accountId: string, firstAccountId = '000000000000'): string {
  return accountId === firstAccountId ? DEFAULT_PROFILE : `${DEFAULT_PROFILE}-${accountId}`;
}

/** Paths of a data directory's AWS CLI files. */
export function awsCliFiles(dataDir: string): { config: string; credentials: string } {
  const dir = join(resolve(dataDir), 'aws');
  return { config: join(dir, 'config'), credentials: join(dir, 'credentials') };
}

/** A profile: where to send requests and with which key. */
export interface Profile {
  name: string;
  endpointUrl: string;
  region: string;
  accessKeyId: string;
  secretAccessKey: string;
}

/**
 * Adds or replaces a profile in `DIR/aws/config` and `DIR/aws/credentials`, in the AWS CLI's
 * own formats, keeping other profiles. Both files are written atomically with mode 0600.
 */
export function writeProfile(dataDir: string, profile: Profile): void {
  const files = awsCliFiles(dataDir);
  updateIni(files.config, (ini) => {
    ini.set(
      `profile ${profile.name}`,
      new Map([
        ['region', profile.region],
        ['endpoint_url', profile.endpointUrl],
      ]),
    );
  });
  updateIni(files.credentials, (ini) => {
    ini.set(
      profile.name,
      new Map([
        ['aws_access_key_id', profile.accessKeyId],
        ['aws_secret_access_key', profile.secretAccessKey],
      ]),
    );
  });
}

/** Points every profile in the config file at `endpointUrl` (the server may move ports). */
export function updateEndpoint(dataDir: string, endpointUrl: string): void {
  const { config } = awsCliFiles(dataDir);
  if (!existsSync(config)) return;
  updateIni(config, (ini) => {
    for (const section of ini.values())
      if (section.has('endpoint_url')) section.set('endpoint_url', endpointUrl);
  });
}

/** Reads a profile back, or undefined when either file lacks it. */
export function readProfile(dataDir: string, name: string): Profile | undefined {
  const files = awsCliFiles(dataDir);
  if (!existsSync(files.config) || !existsSync(files.credentials)) return undefined;
  const config = parseIni(readFileSync(files.config, 'utf8')).get(`profile ${name}`);
  const creds = parseIni(readFileSync(files.credentials, 'utf8')).get(name);
  const endpointUrl = config?.get('endpoint_url');
  const accessKeyId = creds?.get('aws_access_key_id');
  const secretAccessKey = creds?.get('aws_secret_access_key');
  if (!endpointUrl || !accessKeyId || !secretAccessKey) return undefined;
  return {
    name,
    endpointUrl,
    region: config?.get('region') ?? 'us-east-1',
    accessKeyId,
    secretAccessKey,
  };
}

/** The three exports that make the AWS CLI and SDKs use a data directory's profile. */
export function profileExports(dataDir: string, name = DEFAULT_PROFILE): string {
  const files = awsCliFiles(dataDir);
  return [
    `export AWS_CONFIG_FILE=${shellQuote(files.config)}`,
    `export AWS_SHARED_CREDENTIALS_FILE=${shellQuote(files.credentials)}`,
    `export AWS_PROFILE=${shellQuote(name)}`,
  ].join('\n');
}

function updateIni(path: string, change: (ini: IniFile) => void): void {
  mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
  const ini = existsSync(path) ? parseIni(readFileSync(path, 'utf8')) : new Map();
  change(ini);
  const tmp = `${path}.${process.pid}.tmp`;
  writeFileSync(tmp, formatIni(ini), { mode: 0o600 });
  chmodSync(tmp, 0o600);
  renameSync(tmp, path);
}

function shellQuote(value: string): string {
  return /^[\w@%+=:,./-]+$/.test(value) ? value : `'${value.replace(/'/g, `'\\''`)}'`;
}
