// A URL as it may appear in logs and error messages: without its userinfo (mqtt://user:password@host
// is a valid way to give broker credentials, and logs travel to places the password must not).
// Unparseable input is not echoed at all, since it could be anything.

export function redactUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.username === '' && u.password === '') return url;
    u.username = '';
    u.password = '';
    return u.href;
  } catch {
    return '(invalid URL)';
  }
}

/**
 * `text` with the userinfo of any URL in it removed (`mqtts://user:pw@host` -> `mqtts://host`), for
 * values shown to a person (`ggjobs config check`, configuration errors) that may hold a URL.
 */
export function stripUserinfo(text: string): string {
  return text.replace(/\b([a-z][a-z0-9+.-]*:\/\/)[^/?#\s@]*@/gi, '$1');
}
