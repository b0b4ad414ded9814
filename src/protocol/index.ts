export {
  QueryParams,
  renderQueryError,
  renderQueryResult,
  type QueryCall,
  type QueryHandler,
  type QueryService,
  type XmlObject,
  type XmlValue,
} from './query.js';
export { renderJsonError } from './rest-json.js';
