/**
 * Draws the committed default-scene pictures with @napi-rs/canvas, so they can be remade and
 * reviewed as code: `assets/characters/auctioneer.png` (400x520, transparent, face placed where
 * workers/renderers/character.ts DEFAULT_RIG expects it), `assets/backgrounds/studio.png`, and the
 * bench scenes' pictures `assets/bench/backdrop.png` (1920x1080, opaque) and
 * `assets/bench/photo-1.png` .. `photo-6.png` (400x300, opaque).
 * Run: `npm run build && node dist/scripts/make-assets.js`.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { createCanvas } from '@napi-rs/canvas';
import { DEFAULT_RIG } from '../workers/renderers/character.js';

function auctioneer(): Buffer {
  const W = 400;
  const H = 520;
  const c = createCanvas(W, H);
  const g = c.getContext('2d');
  // Suit (body)
  g.fillStyle = '#1f2a44';
  g.beginPath();
  g.moveTo(60, H);
  g.lineTo(95, 290);
  g.quadraticCurveTo(200, 240, 305, 290);
  g.lineTo(340, H);
  g.closePath();
  g.fill();
  // Shirt and tie
  g.fillStyle = '#f4f4f4';
  g.beginPath();
  g.moveTo(160, 262);
  g.lineTo(240, 262);
  g.lineTo(200, 380);
  g.closePath();
  g.fill();
  g.fillStyle = '#b3202a';
  g.beginPath();
  g.moveTo(200, 272);
  g.lineTo(214, 290);
  g.lineTo(206, 370);
  g.lineTo(200, 385);
  g.lineTo(194, 370);
  g.lineTo(186, 290);
  g.closePath();
  g.fill();
  // Neck and head
  const skin = DEFAULT_RIG.skinColor;
  g.fillStyle = skin;
  g.fillRect(175, 215, 50, 55);
  g.beginPath();
  g.ellipse(200, 150, 88, 100, 0, 0, 2 * Math.PI);
  g.fill();
  // Ears
  g.beginPath();
  g.ellipse(112, 155, 14, 24, 0, 0, 2 * Math.PI);
  g.ellipse(288, 155, 14, 24, 0, 0, 2 * Math.PI);
  g.fill();
  // Hair
  g.fillStyle = '#4b2e1a';
  g.beginPath();
  g.ellipse(200, 80, 92, 48, 0, Math.PI, 2 * Math.PI);
  g.fill();
  g.fillRect(108, 78, 184, 18);
  // Eyes at the rig's points
  for (const eye of DEFAULT_RIG.eyes) {
    const x = eye.x * W;
    const y = eye.y * H;
    const r = DEFAULT_RIG.eyeRadius * W;
    g.fillStyle = '#ffffff';
    g.beginPath();
    g.ellipse(x, y, r * 1.2, r, 0, 0, 2 * Math.PI);
    g.fill();
    g.fillStyle = '#2b1d0e';
    g.beginPath();
    g.arc(x, y, r * 0.55, 0, 2 * Math.PI);
    g.fill();
    g.strokeStyle = '#4b2e1a';
    g.lineWidth = 4;
    g.beginPath();
    g.moveTo(x - r * 1.4, y - r * 1.9);
    g.lineTo(x + r * 1.4, y - r * 2.1);
    g.stroke();
  }
  // Nose and closed smiling mouth at the rig's mouth point
  g.strokeStyle = '#c98f5a';
  g.lineWidth = 3;
  g.beginPath();
  g.moveTo(200, 150);
  g.lineTo(192, 178);
  g.lineTo(204, 180);
  g.stroke();
  const mx = DEFAULT_RIG.mouth.x * W;
  const my = DEFAULT_RIG.mouth.y * H;
  const mw = DEFAULT_RIG.mouth.width * W;
  g.strokeStyle = '#7a2e2e';
  g.lineWidth = 4;
  g.beginPath();
  g.moveTo(mx - mw / 2, my - 2);
  g.quadraticCurveTo(mx, my + 10, mx + mw / 2, my - 2);
  g.stroke();
  // Gavel
  g.fillStyle = '#7b4a21';
  g.save();
  g.translate(330, 360);
  g.rotate(-0.6);
  g.fillRect(-6, -10, 12, 110);
  g.fillRect(-30, -34, 60, 28);
  g.restore();
  return c.toBuffer('image/png');
}

function studio(): Buffer {
  const W = 640;
  const H = 360;
  const c = createCanvas(W, H);
  const g = c.getContext('2d');
  const sky = g.createLinearGradient(0, 0, 0, H);
  sky.addColorStop(0, '#16213e');
  sky.addColorStop(0.7, '#0f3460');
  sky.addColorStop(1, '#1a1a2e');
  g.fillStyle = sky;
  g.fillRect(0, 0, W, H);
  const glow = g.createRadialGradient(W * 0.3, H * 0.45, 10, W * 0.3, H * 0.45, W * 0.45);
  glow.addColorStop(0, 'rgba(233,69,96,0.35)');
  glow.addColorStop(1, 'rgba(233,69,96,0)');
  g.fillStyle = glow;
  g.fillRect(0, 0, W, H);
  g.fillStyle = '#0b1020';
  g.fillRect(0, H * 0.82, W, H * 0.18);
  g.fillStyle = 'rgba(255,255,255,0.06)';
  for (let i = 0; i < 8; i++) g.fillRect(40 + i * 80, 30, 30, H * 0.6);
  return c.toBuffer('image/png');
}

/** A 1920x1080 opaque backdrop for the bench scenes (S2, S3). */
function backdrop(): Buffer {
  const W = 1920;
  const H = 1080;
  const c = createCanvas(W, H);
  const g = c.getContext('2d');
  const sky = g.createLinearGradient(0, 0, 0, H);
  sky.addColorStop(0, '#1b2a49');
  sky.addColorStop(1, '#0d1321');
  g.fillStyle = sky;
  g.fillRect(0, 0, W, H);
  g.fillStyle = 'rgba(255,255,255,0.05)';
  for (let i = 0; i < 12; i++) g.fillRect(60 + i * 160, 80, 60, H * 0.7);
  g.fillStyle = '#0a0f1a';
  g.fillRect(0, H * 0.85, W, H * 0.15);
  return c.toBuffer('image/png');
}

/** A 400x300 opaque "photo" for the bench scenes: a two-colour gradient, a disc and its number. */
function photo(n: number): Buffer {
  const W = 400;
  const H = 300;
  const hues = [0, 45, 120, 190, 260, 320];
  const hue = hues[(n - 1) % hues.length]!;
  const c = createCanvas(W, H);
  const g = c.getContext('2d');
  const grad = g.createLinearGradient(0, 0, W, H);
  grad.addColorStop(0, `hsl(${hue},70%,55%)`);
  grad.addColorStop(1, `hsl(${(hue + 40) % 360},60%,25%)`);
  g.fillStyle = grad;
  g.fillRect(0, 0, W, H);
  g.fillStyle = 'rgba(255,255,255,0.85)';
  g.beginPath();
  g.arc(W * 0.7, H * 0.45, 70, 0, 2 * Math.PI);
  g.fill();
  g.fillStyle = '#111';
  g.font = 'bold 96px sans-serif';
  g.fillText(String(n), 40, 120);
  return c.toBuffer('image/png');
}

writeFileSync('assets/characters/auctioneer.png', auctioneer());
writeFileSync('assets/backgrounds/studio.png', studio());
mkdirSync('assets/bench', { recursive: true });
writeFileSync('assets/bench/backdrop.png', backdrop());
for (let n = 1; n <= 6; n++) writeFileSync(`assets/bench/photo-${n}.png`, photo(n));
