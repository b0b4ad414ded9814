/**
 * The web console at `/_latchkey/console/`: clusters, service accounts, associations, roles,
 * recent decisions with their "why", the access graph, "can it?", "who can?" and lint.
 * Sign-in with an access key or a one-time link; sessions are sealed HttpOnly cookies.
 *
 * @example
 * const latchkeyConsole = createConsole(deps);
 * const app = buildApp({ ...appDeps, console: latchkeyConsole });
 */
export { CONSOLE_PREFIX } from './pages.js';
export { ConsoleError, type ConsoleErrorCode } from './errors.js';
export { createConsole, CSRF_HEADER, type ConsoleDeps, type LatchkeyConsole } from './routes.js';
export { SESSION_COOKIE, SESSION_SECONDS } from './session.js';
export { LINK_SECONDS, SignInLinks } from './sign-in-links.js';
