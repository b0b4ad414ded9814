/**
 * The S3-compatible object store: the S3 REST API (path-style and virtual-hosted), objects on
 * the filesystem with metadata in the store, and IAM authorization of every request with bucket
 * policies. See docs/s3.md.
 *
 * @example
 * const s3 = createS3Service({ db: store.db, dataDir, resolver, authorizer, region, logger });
 * app.all('/*', (request, reply) => { reply.hijack(); return s3.handle(request.raw, reply.raw); });
 */
export { createS3Service, type S3Service, type S3ServiceDeps } from './service.js';
export { s3Migrations, type S3Tables } from './schema.js';
export { permissionsFor, type PermissionCheck } from './authorization.js';
export { BucketPolicyReader, type BucketPolicyFacts } from './bucket-policies.js';
export type { S3Operation } from './route.js';
