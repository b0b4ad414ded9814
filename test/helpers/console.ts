/**
 * Signing in to the console the way its form does, for tests that drive the console over HTTP.
 */

/** The answer to a sign-in: its status, the session cookie (`name=value`) and where it leads. */
export interface ConsoleSignIn {
  status: number;
  cookie?: string;
  location?: string;
  text: string;
}

/**
 * Posts the sign-in form with an access key. The form's own origin is sent unless `headers`
 * says otherwise (`origin: ''` also means the server's own).
 *
 * @example
 * const { cookie } = await consoleSignIn(server.url, admin.accessKeyId, admin.secretAccessKey);
 */
export async function consoleSignIn(
  base: string,
  accessKeyId: string,
  secretAccessKey: string,
  headers: Record<string, string> = { origin: '' },
): Promise<ConsoleSignIn> {
  const res = await fetch(`${base}/_latchkey/console/sign-in`, {
    method: 'POST',
    redirect: 'manual',
    headers: {
      'content-type': 'application/x-www-form-urlencoded',
      ...headers,
      ...(headers.origin === '' ? { origin: base } : {}),
    },
    body: new URLSearchParams({ accessKeyId, secretAccessKey }).toString(),
  });
  const setCookie = res.headers.get('set-cookie') ?? undefined;
  return {
    status: res.status,
    ...(setCookie ? { cookie: setCookie.split(';')[0] } : {}),
    ...(res.headers.get('location') ? { location: res.headers.get('location') ?? '' } : {}),
    text: await res.text(),
  };
}
