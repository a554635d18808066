/**
 * A Redis URL fit for messages and logs: the password is replaced by `***` (the user name stays,
 * it helps on-call tell ACL users apart). A URL that does not parse is reduced to its scheme, so a
 * malformed secret cannot leak through the error path either.
 */
export function redactUrl(url: string): string {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    const scheme = /^([a-z][a-z0-9+.-]*):\/\//i.exec(url)?.[1];
    return scheme === undefined ? '<unparseable Redis URL>' : `${scheme}://<unparseable>`;
  }
  if (parsed.password !== '') parsed.password = '***';
  return parsed.toString().replace(/\/$/, '');
}

/**
 * Removes the raw password (and its URL-encoded form) from text that may echo the URL, such as a
 * driver error message, in case it slipped past `redactUrl`.
 */
export function scrubSecret(text: string, url: string): string {
  let password = '';
  try {
    password = new URL(url).password;
  } catch {
    return text.replaceAll(url, redactUrl(url));
  }
  if (password === '') return text;
  let out = text.replaceAll(password, '***');
  const decoded = safeDecode(password);
  if (decoded !== password && decoded !== '') out = out.replaceAll(decoded, '***');
  return out;
}

function safeDecode(text: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    return text;
  }
}
