/** The console's two HTML pages: sign-in, and the application shell its script fills in. */

/** Where the console lives. */
export const CONSOLE_PREFIX = '/_latchkey/console';

const ESCAPES: Readonly<Record<string, string>> = {
  '&': '&amp;',
  '<': '&lt;',
  '>': '&gt;',
  '"': '&quot;',
  "'": '&#39;',
};

/** Escapes text for HTML. */
export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => ESCAPES[c] ?? c);
}

function page(title: string, body: string, script?: string): string {
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(title)} · Latchkey</title>
<link rel="stylesheet" href="${CONSOLE_PREFIX}/assets/console.css">
${script ? `<script src="${script}" defer></script>` : ''}
</head>
<body>
${body}
</body>
</html>
`;
}

/** The sign-in page, with an optional message (a failed attempt, a used link). */
export function signInPage(message?: string): string {
  return page(
    'Sign in',
    `<main class="sign-in">
<h1>Latchkey console</h1>
<p class="muted">Sign in with an access key of your account, or open the one-time link <code>latchkey up</code> prints.</p>
${message ? `<p class="error" role="alert">${escapeHtml(message)}</p>` : ''}
<form method="post" action="${CONSOLE_PREFIX}/sign-in" autocomplete="off">
<label>Access key ID <input name="accessKeyId" id="accessKeyId" required maxlength="128" spellcheck="false"></label>
<label>Secret access key <input name="secretAccessKey" id="secretAccessKey" type="password" required maxlength="256"></label>
<button type="submit" id="sign-in">Sign in</button>
</form>
</main>`,
  );
}

/** The application shell; `console.js` renders each view into it. */
export function appPage(principalArn: string): string {
  const views = [
    ['overview', 'Overview'],
    ['roles', 'Roles'],
    ['decisions', 'Decisions'],
    ['graph', 'Access graph'],
    ['can-it', 'Can it?'],
    ['who-can', 'Who can?'],
    ['lint', 'Lint'],
  ];
  return page(
    'Console',
    `<header>
<span class="brand">Latchkey</span>
<nav>${views.map(([id, label]) => `<a href="#${id}" data-view="${id}">${label}</a>`).join('')}</nav>
<span class="who" id="who">${escapeHtml(principalArn)}</span>
<form method="post" action="${CONSOLE_PREFIX}/sign-out"><button type="submit" class="link">Sign out</button></form>
</header>
<main id="app" aria-live="polite"></main>`,
    `${CONSOLE_PREFIX}/assets/console.js`,
  );
}

/** A short page for errors of the pages themselves (not of the JSON API). */
export function messagePage(title: string, message: string): string {
  return page(
    title,
    `<main class="sign-in"><h1>${escapeHtml(title)}</h1><p class="error">${escapeHtml(message)}</p>
<p><a href="${CONSOLE_PREFIX}/sign-in">Sign in</a></p></main>`,
  );
}
