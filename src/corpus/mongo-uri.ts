/**
 * MongoDB connection strings fit for messages and logs. They may list several hosts, which `URL`
 * cannot parse, so the user information is found by hand: the password becomes `***`.
 */

const USERINFO = /^(mongodb(?:\+srv)?:\/\/)([^@/]*)@/i;

/** The connection string with its password (if any) replaced by `***`. */
export function redactMongoUri(uri: string): string {
  return uri.replace(USERINFO, (_all, scheme: string, userinfo: string) => {
    const colon = userinfo.indexOf(':');
    return colon === -1 ? `${scheme}${userinfo}@` : `${scheme}${userinfo.slice(0, colon)}:***@`;
  });
}

/** The password of a connection string, raw and decoded; empty when there is none. */
export function mongoPassword(uri: string): string[] {
  const userinfo = USERINFO.exec(uri)?.[2];
  if (userinfo === undefined) return [];
  const colon = userinfo.indexOf(':');
  if (colon === -1) return [];
  const raw = userinfo.slice(colon + 1);
  if (raw === '') return [];
  let decoded = raw;
  try {
    decoded = decodeURIComponent(raw);
  } catch {
    // Kept raw: the driver refuses such a string anyway.
  }
  return decoded === raw ? [raw] : [raw, decoded];
}

/** Text (a driver message) with the connection string and its password removed. */
export function scrubMongoSecret(text: string, uri: string): string {
  let out = text.replaceAll(uri, redactMongoUri(uri));
  for (const secret of mongoPassword(uri)) out = out.replaceAll(secret, '***');
  return out;
}
