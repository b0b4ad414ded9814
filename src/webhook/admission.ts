/**
 * The AdmissionReview envelope (admission.k8s.io/v1, also v1beta1): reading a review, and
 * answering it with allowed / denied / a base64 JSON Patch (upstream `Handle` and
 * `MutatePod`). Transport-free, so it is tested without HTTP.
 *
 * Answers, as upstream: a Content-Type other than JSON → 415; a pod that cannot be decoded →
 * `allowed: false` with the reason; no mutation needed → `allowed: true` without a patch.
 * Where upstream answers a review it cannot read with an `allowed: false` review of empty uid
 * (which the API server rejects anyway), Latchkey answers 400 with the reason.
 */
import type { Logger } from 'pino';
import { errorMessage, isWebhookError, WebhookError } from './errors.js';
import { goJsonStringify, type JsonObject, type JsonValue } from './go-json.js';
import type { MutationOutcome, PodMutator } from './mutate-pod.js';
import { decodePod } from './pod.js';

const API_VERSIONS = new Set(['admission.k8s.io/v1', 'admission.k8s.io/v1beta1']);
const DEFAULT_API_VERSION = 'admission.k8s.io/v1';

/** An HTTP answer. */
export interface AdmissionAnswer {
  status: number;
  contentType: string;
  body: string;
  /** What happened, for logs and tests. */
  outcome:
    | MutationOutcome
    | { mutated: false; reason: 'not-a-pod-create' }
    | { mutated: false; reason: 'pod-decode-error'; message: string }
    | { mutated: false; reason: 'rejected'; code: WebhookError['code'] };
}

interface ReviewRequest {
  uid: string;
  namespace: string;
  object: JsonValue | undefined;
  operation: string | undefined;
  kind: JsonValue | undefined;
  subResource: string | undefined;
}

function isObject(v: JsonValue | undefined): v is JsonObject {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function optionalString(obj: JsonObject, key: string, where: string): string | undefined {
  const v = obj[key];
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'string') throw malformed(`${where}.${key} must be a string`);
  return v;
}

function malformed(detail: string): WebhookError {
  return new WebhookError('ERR_WEBHOOK_MALFORMED_REVIEW', `malformed AdmissionReview: ${detail}`);
}

/** True for `application/json`, with or without parameters. */
export function isJsonContentType(value: string | undefined): boolean {
  if (value === undefined) return false;
  const semi = value.indexOf(';');
  return (semi < 0 ? value : value.slice(0, semi)).trim().toLowerCase() === 'application/json';
}

/**
 * Reads an AdmissionReview body.
 *
 * @throws {WebhookError} `ERR_WEBHOOK_MALFORMED_REVIEW` when it is not JSON, not a review, or
 *   has no request with a uid.
 */
export function parseAdmissionReview(body: string): {
  typeMeta: { apiVersion: string; kind: string };
  request: ReviewRequest;
} {
  let doc: JsonValue;
  try {
    doc = JSON.parse(body) as JsonValue;
  } catch (err) {
    throw malformed(`body is not JSON (${errorMessage(err)})`);
  }
  if (!isObject(doc)) throw malformed('body is not a JSON object');
  const apiVersion = optionalString(doc, 'apiVersion', 'review');
  const kind = optionalString(doc, 'kind', 'review');
  if (apiVersion !== undefined && !API_VERSIONS.has(apiVersion)) {
    throw malformed(
      `apiVersion ${JSON.stringify(apiVersion)} is not admission.k8s.io/v1 or v1beta1`,
    );
  }
  if (kind !== undefined && kind !== 'AdmissionReview') {
    throw malformed(`kind ${JSON.stringify(kind)} is not AdmissionReview`);
  }
  const request = doc.request;
  if (!isObject(request)) throw malformed('no request');
  const uid = optionalString(request, 'uid', 'request');
  if (uid === undefined || uid === '') throw malformed('request.uid is missing');
  return {
    // The API server decodes the answer by the apiVersion/kind it sent; default to v1.
    typeMeta: { apiVersion: apiVersion ?? DEFAULT_API_VERSION, kind: 'AdmissionReview' },
    request: {
      uid,
      namespace: optionalString(request, 'namespace', 'request') ?? '',
      object: request.object,
      operation: optionalString(request, 'operation', 'request'),
      kind: request.kind,
      subResource: optionalString(request, 'subResource', 'request'),
    },
  };
}

function reviewAnswer(
  typeMeta: { apiVersion: string; kind: string },
  response: JsonObject,
  outcome: AdmissionAnswer['outcome'],
): AdmissionAnswer {
  return {
    status: 200,
    contentType: 'application/json',
    body: JSON.stringify({ ...typeMeta, response }),
    outcome,
  };
}

function textAnswer(err: WebhookError): AdmissionAnswer {
  return {
    status: err.status,
    contentType: 'text/plain; charset=utf-8',
    body: `${err.message}\n`,
    outcome: { mutated: false, reason: 'rejected', code: err.code },
  };
}

function isPodCreate(request: ReviewRequest): boolean {
  if (request.operation !== undefined && request.operation !== 'CREATE') return false;
  if (request.subResource !== undefined && request.subResource !== '') return false;
  if (isObject(request.kind)) {
    const { group, kind } = request.kind;
    if ((group !== undefined && group !== '') || (kind !== undefined && kind !== 'Pod'))
      return false;
  }
  return true;
}

/**
 * Answers one AdmissionReview.
 *
 * @example
 * const answer = await answerAdmissionReview(body, 'application/json', mutator, logger);
 * res.writeHead(answer.status, { 'content-type': answer.contentType }).end(answer.body);
 */
export async function answerAdmissionReview(
  body: string,
  contentType: string | undefined,
  mutator: PodMutator,
  logger?: Logger,
): Promise<AdmissionAnswer> {
  if (!isJsonContentType(contentType)) {
    logger?.warn({ contentType }, 'AdmissionReview refused: Content-Type is not application/json');
    return textAnswer(
      new WebhookError(
        'ERR_WEBHOOK_UNSUPPORTED_MEDIA_TYPE',
        'Invalid Content-Type, expected `application/json`',
      ),
    );
  }
  let review: ReturnType<typeof parseAdmissionReview>;
  try {
    review = parseAdmissionReview(body);
  } catch (err) {
    if (!isWebhookError(err)) throw err;
    logger?.warn({ err: err.message }, 'AdmissionReview refused');
    return textAnswer(err);
  }
  const { typeMeta, request } = review;

  if (!isPodCreate(request)) {
    // Only pod creation is mutated; anything else the configuration sends passes unchanged.
    logger?.warn(
      {
        uid: request.uid,
        operation: request.operation,
        kind: request.kind,
        subResource: request.subResource,
      },
      'AdmissionReview for something other than a pod CREATE; allowed unchanged',
    );
    return reviewAnswer(
      typeMeta,
      { uid: request.uid, allowed: true },
      { mutated: false, reason: 'not-a-pod-create' },
    );
  }

  let pod: ReturnType<typeof decodePod>;
  try {
    pod = decodePod(request.object, request.namespace);
  } catch (err) {
    if (!isWebhookError(err, 'ERR_WEBHOOK_POD_DECODE')) throw err;
    logger?.warn(
      { uid: request.uid, namespace: request.namespace, err: err.message },
      'pod denied: cannot decode it',
    );
    return reviewAnswer(
      typeMeta,
      { uid: request.uid, allowed: false, status: { metadata: {}, message: err.message } },
      { mutated: false, reason: 'pod-decode-error', message: err.message },
    );
  }

  const outcome = await mutator.mutate(pod);
  if (!outcome.mutated) return reviewAnswer(typeMeta, { uid: request.uid, allowed: true }, outcome);
  // The hot path: written by hand so the base64 patch (which needs no escaping) is not
  // scanned again by JSON.stringify. Same bytes as reviewAnswer would produce.
  const patch = Buffer.from(goJsonStringify(outcome.patch)).toString('base64');
  return {
    status: 200,
    contentType: 'application/json',
    body:
      `{"apiVersion":${JSON.stringify(typeMeta.apiVersion)},"kind":"AdmissionReview","response":` +
      `{"uid":${JSON.stringify(request.uid)},"allowed":true,"patch":"${patch}","patchType":"JSONPatch"}}`,
    outcome,
  };
}
