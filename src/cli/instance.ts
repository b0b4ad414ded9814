import { XMLParser } from 'fast-xml-parser';
import { DEFAULT_PROFILE, readProfile, type Profile } from '../profiles/index.js';
import { signedFormRequest, signedJsonRequest } from './signed-fetch.js';

/** Flags every command that talks to a running instance takes. */
export interface InstanceFlags {
  dataDir: string;
  profile: string;
  endpoint?: string;
}

/** The profile a command calls with: from the data directory, with `--endpoint` applied. */
export function instanceProfile(flags: InstanceFlags): Profile {
  const profile = readProfile(flags.dataDir, flags.profile ?? DEFAULT_PROFILE);
  if (profile === undefined) {
    throw new Error(
      `no profile ${flags.profile} in ${flags.dataDir}/aws; start the server first (latchkey up)`,
    );
  }
  return flags.endpoint === undefined ? profile : { ...profile, endpointUrl: flags.endpoint };
}

/**
 * Calls a REST-JSON operation of the running instance and returns its JSON, or throws an
 * Error reading "Code: message" as the server answered it.
 */
export async function callJson(
  profile: Profile,
  service: string,
  method: 'GET' | 'POST' | 'PUT' | 'DELETE',
  path: string,
  body?: unknown,
): Promise<Record<string, unknown>> {
  const { status, json } = await signedJsonRequest(profile, method, path, body, service).catch(
    (err: unknown) => {
      throw new Error(`no Latchkey server answers at ${profile.endpointUrl} (${String(err)})`);
    },
  );
  if (status !== 200)
    throw new Error(`${String(json.__type ?? status)}: ${String(json.message ?? '')}`);
  return json;
}

/**
 * Calls a Query-protocol operation (IAM, STS) of the running instance and returns the
 * `…Result` element parsed, or throws an Error reading "Code: message".
 */
export async function callQuery(
  profile: Profile,
  service: 'iam' | 'sts',
  action: string,
  params: Record<string, string> = {},
): Promise<Record<string, unknown>> {
  const version = service === 'iam' ? '2010-05-08' : '2011-06-15';
  const form = new URLSearchParams({ Action: action, Version: version, ...params }).toString();
  const { status, text } = await signedFormRequest(profile, service, form).catch((err: unknown) => {
    throw new Error(`no Latchkey server answers at ${profile.endpointUrl} (${String(err)})`);
  });
  const doc = xmlParser.parse(text) as Record<string, Record<string, unknown>>;
  if (status !== 200) {
    const error = doc.ErrorResponse?.Error as { Code?: string; Message?: string } | undefined;
    throw new Error(`${error?.Code ?? status}: ${error?.Message ?? ''}`);
  }
  return (doc[`${action}Response`]?.[`${action}Result`] ?? {}) as Record<string, unknown>;
}

const xmlParser = new XMLParser({ ignoreAttributes: true, parseTagValue: false });
