/**
 * Deepest nesting of arrays and objects accepted in a JSON body or WebSocket message. The deepest
 * legitimate document (a scene: document > layers > layer > content > style > ...) is under 10
 * levels; 64 leaves room and keeps every recursive walk (validation, merge, clone) far from the
 * stack limit.
 */
export const MAX_JSON_DEPTH = 64;

/**
 * True when `value` nests arrays or objects more than `max` levels deep (a scalar is depth 0,
 * `{}` and `[]` are depth 1). Iterative, so it cannot overflow the stack itself, and it stops
 * at the first path deeper than `max`.
 */
export function deeperThan(value: unknown, max: number = MAX_JSON_DEPTH): boolean {
  const stack: [unknown, number][] = [[value, 0]];
  while (stack.length) {
    const [v, depth] = stack.pop()!;
    if (typeof v !== 'object' || v === null) continue;
    if (depth + 1 > max) return true;
    for (const child of Array.isArray(v) ? v : Object.values(v)) {
      if (typeof child === 'object' && child !== null) stack.push([child, depth + 1]);
    }
  }
  return false;
}
