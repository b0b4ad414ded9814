/**
 * Where the node's keys come from: a data directory's AWS CLI profile (as every other `latchkey`
 * command) or the standard `AWS_ACCESS_KEY_ID` / `AWS_SECRET_ACCESS_KEY` / `AWS_SESSION_TOKEN`
 * variables.
 */
import { readProfile } from '../profiles/index.js';
import type { SigningCredentials } from './eks-auth-client.js';
import { AgentConfigError } from './errors.js';

/** The node's keys, and what their source says about the endpoint and region. */
export interface NodeIdentity {
  credentials: SigningCredentials;
  /** `endpoint_url` of the profile, when read from one. */
  endpointUrl?: string;
  /** `region` of the profile, when read from one. */
  region?: string;
  /** Where the keys came from, for the start-up log (never the keys themselves). */
  source: string;
}

/**
 * Reads the node's keys from `DIR/aws/{config,credentials}` profile `profile`. Throws
 * {@link AgentConfigError} when the profile is missing.
 */
export function credentialsFromProfile(dataDir: string, profile: string): NodeIdentity {
  const found = readProfile(dataDir, profile);
  if (found === undefined) {
    throw new AgentConfigError(`no profile ${profile} in ${dataDir}/aws`);
  }
  return {
    credentials: { accessKeyId: found.accessKeyId, secretAccessKey: found.secretAccessKey },
    endpointUrl: found.endpointUrl,
    region: found.region,
    source: `profile ${profile} in ${dataDir}`,
  };
}

/** Reads the node's keys from the environment, or undefined when they are not set. */
export function credentialsFromEnv(env: NodeJS.ProcessEnv = process.env): NodeIdentity | undefined {
  const accessKeyId = env.AWS_ACCESS_KEY_ID;
  const secretAccessKey = env.AWS_SECRET_ACCESS_KEY;
  if (!accessKeyId || !secretAccessKey) return undefined;
  const sessionToken = env.AWS_SESSION_TOKEN;
  return {
    credentials: { accessKeyId, secretAccessKey, ...(sessionToken ? { sessionToken } : {}) },
    source: 'environment',
  };
}
