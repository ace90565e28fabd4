/** The dashboard's token, kept in `localStorage` under this key so a reload keeps it. */
const KEY = 'stream-manager.token';

/** The saved token, or null. */
export function loadToken(): string | null {
  try {
    return localStorage.getItem(KEY) || null;
  } catch {
    return null;
  }
}

/** Saves `token` (an empty string forgets it). */
export function saveToken(token: string): void {
  try {
    if (token) localStorage.setItem(KEY, token);
    else localStorage.removeItem(KEY);
  } catch {
    // Storage disabled: the token lasts for this page only.
  }
}
