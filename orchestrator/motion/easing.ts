import bezier from 'bezier-easing';
import * as d3 from 'd3-ease';
import { parseCubicBezier, type Easing } from '../../shared/animation.js';

/** An easing function: progress 0..1 in, eased progress out (0 at 0, 1 at 1; back and elastic overshoot). */
export type EasingFn = (t: number) => number;

/**
 * The CSS keywords as cubic Béziers (CSS Easing Functions Level 1, section 2.2:
 * https://www.w3.org/TR/css-easing-1/#cubic-bezier-easing-functions).
 */
const CSS: Record<string, [number, number, number, number]> = {
  ease: [0.25, 0.1, 0.25, 1],
  'ease-in': [0.42, 0, 1, 1],
  'ease-out': [0, 0, 0.58, 1],
  'ease-in-out': [0.42, 0, 0.58, 1],
};

/** The named easings (easings.net's Penner equations) as d3-ease implements them. */
const NAMED: Record<string, EasingFn> = {
  linear: d3.easeLinear,
  'ease-in-quad': d3.easeQuadIn,
  'ease-out-quad': d3.easeQuadOut,
  'ease-in-out-quad': d3.easeQuadInOut,
  'ease-in-cubic': d3.easeCubicIn,
  'ease-out-cubic': d3.easeCubicOut,
  'ease-in-out-cubic': d3.easeCubicInOut,
  'ease-in-sine': d3.easeSinIn,
  'ease-out-sine': d3.easeSinOut,
  'ease-in-out-sine': d3.easeSinInOut,
  'ease-in-expo': d3.easeExpIn,
  'ease-out-expo': d3.easeExpOut,
  'ease-in-out-expo': d3.easeExpInOut,
  'ease-in-back': d3.easeBackIn,
  'ease-out-back': d3.easeBackOut,
  'ease-in-out-back': d3.easeBackInOut,
  'ease-in-elastic': d3.easeElasticIn,
  'ease-out-elastic': d3.easeElasticOut,
  'ease-in-out-elastic': d3.easeElasticInOut,
  'ease-in-bounce': d3.easeBounceIn,
  'ease-out-bounce': d3.easeBounceOut,
  'ease-in-out-bounce': d3.easeBounceInOut,
};

const cache = new Map<string, EasingFn>();

/**
 * The function of a validated easing name (see `EasingSchema`). d3's expo easings are offset so
 * they reach exactly 0 and 1; every function here is pinned to 0 at t <= 0 and 1 at t >= 1.
 * @throws Error for a name `EasingSchema` would refuse
 */
export function easingFn(name: Easing): EasingFn {
  let fn = cache.get(name);
  if (fn) return fn;
  const curve = CSS[name] ?? parseCubicBezier(name);
  const base = curve ? bezier(...curve) : NAMED[name];
  if (!base) throw new Error(`Unknown easing "${name}"`);
  fn = (t) => (t <= 0 ? 0 : t >= 1 ? 1 : base(t));
  cache.set(name, fn);
  return fn;
}
