// Scrubs secrets out of text before it can reach a terminal or a log. Pure.

const MIN_SECRET_LENGTH = 4;

/**
 * Replaces every known secret (and its URL-encoded form) with `***`, plus anything that looks
 * like a credential in a URL query or an Authorization/token header echoed back by a server.
 */
export function redactText(text: string, secrets: Iterable<string>): string {
  let out = text;
  for (const secret of secrets) {
    // Very short secrets would blank out ordinary words; they are still never logged on purpose.
    if (!secret || secret.length < MIN_SECRET_LENGTH) continue;
    for (const form of new Set([secret, encodeURIComponent(secret)])) {
      out = out.split(form).join('***');
    }
  }
  return out
    .replace(/(\w+:\/\/)[^/@\s:]+:[^/@\s]+@/g, '$1***:***@')
    .replace(/(bearer\s+)[A-Za-z0-9._~+/=-]+/gi, '$1***')
    .replace(/((?:password|passwd|client_secret|access_token|token|secret)=)[^&\s"]+/gi, '$1***')
    .replace(/("(?:password|client_secret|access_token|clientSecret)"\s*:\s*")(?:[^"\\]|\\.)*"/gi, '$1***"');
}
