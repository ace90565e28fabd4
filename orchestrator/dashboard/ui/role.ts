/**
 * What the page's token may do: the role `GET /stream/whoami` names, and the controls that need a
 * stronger one. An element marked with `data-needs="operator"` or `"admin"` (in index.html, or by
 * {@link needs}) has every control in it (or itself, when it is one) disabled, with a title that
 * says which role it needs, while the role is weaker; a viewer sees the page read-only. Controls
 * added later under a marked element are caught by a MutationObserver, so the views only mark
 * their containers. Views set their own enabled state through {@link setDisabled}, which keeps a
 * locked control locked. The server still checks every request: this only spares the 403.
 */

/** Roles, weakest first (orchestrator/config/tokens.ts `RoleSchema`). */
export type Role = 'viewer' | 'operator' | 'admin';

const RANK: Record<Role, number> = { viewer: 0, operator: 1, admin: 2 };

/** The role of the page's token; null while unknown (no answer yet, or a refused token): nothing is locked. */
let current: Role | null = null;

/** The form controls a lock applies to. */
type Control = HTMLButtonElement | HTMLInputElement | HTMLSelectElement | HTMLTextAreaElement;
const CONTROLS = 'button, input, select, textarea';

/** True when the page's role may do what needs `need` (an unknown role may: the server decides). */
export function allows(need: Role): boolean {
  return current === null || RANK[current] >= RANK[need];
}

/** The role the page's token has, or null while unknown. */
export function role(): Role | null {
  return current;
}

/** The role the closest marked element around `c` needs when the page's role is weaker, else null. */
function lockOf(c: HTMLElement): Role | null {
  const need = c.closest<HTMLElement>('[data-needs]')?.dataset['needs'] as Role | undefined;
  return need && !allows(need) ? need : null;
}

/** Locks or unlocks the marked controls in (or at) `root` by the current role; others are left alone. */
function apply(root: Element): void {
  const controls = root.matches(CONTROLS) ? [root as Control] : [...root.querySelectorAll<Control>(CONTROLS)];
  for (const c of controls) {
    if (!c.closest('[data-needs]')) continue;
    const need = lockOf(c);
    // Off by the view's own wish, or busy with a request (dom.ts `busy`), stays off.
    c.disabled = need !== null || c.dataset['off'] === '1' || c.dataset['busy'] !== undefined;
    if (need) {
      if (c.dataset['title'] === undefined) c.dataset['title'] = c.title;
      c.title = `Needs an ${need} token (this token is ${current === 'viewer' ? 'a' : 'an'} ${current}'s)`;
    } else if (c.dataset['title'] !== undefined) {
      c.title = c.dataset['title'];
      delete c.dataset['title'];
    }
  }
}

/** Marks `element` (a control, or a container of controls) as needing `need`; returns it. */
export function needs<T extends HTMLElement>(element: T, need: 'operator' | 'admin'): T {
  element.dataset['needs'] = need;
  apply(element);
  return element;
}

/**
 * A view's own wish for a control (e.g. Stop only while live): disabled when `off`, or while the
 * role may not use it.
 */
export function setDisabled(c: Control, off: boolean): void {
  c.dataset['off'] = off ? '1' : '';
  c.disabled = off || lockOf(c) !== null;
}

/** Locks the rows a view renders later under a marked container as they come in; made on the first {@link setRole}. */
let observer: MutationObserver | null = null;

/** The page's role changed (null: unknown): every marked control is locked or unlocked again. */
export function setRole(next: Role | null): void {
  current = next;
  document.body.dataset['role'] = next ?? '';
  for (const e of document.querySelectorAll('[data-needs]')) apply(e);
  if (observer) return;
  observer = new MutationObserver((records) => {
    if (current === null || current === 'admin') return;
    for (const r of records)
      for (const n of r.addedNodes) if (n instanceof Element && (n.closest('[data-needs]') || n.querySelector('[data-needs]'))) apply(n);
  });
  observer.observe(document.documentElement, { childList: true, subtree: true });
}
