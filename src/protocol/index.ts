export {
  QueryParams,
  type AnonymousQueryCall,
  type AnonymousQueryHandler,
  renderQueryError,
  renderQueryResult,
  type QueryCall,
  type QueryHandler,
  type QueryService,
  type XmlObject,
  type XmlValue,
} from './query.js';
export {
  matchRoute,
  parseJsonBody,
  renderJsonError,
  type RestCall,
  type RestRoute,
  type RestService,
  type RouteMatch,
} from './rest-json.js';
