export { createStsQueryService, STS_NAMESPACE } from './query-api.js';
