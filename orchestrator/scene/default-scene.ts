import type { LayerCreate } from '../../shared/scene.js';

/** Natural size of `assets/characters/auctioneer.png`, pixels. */
const HOST_SIZE = { width: 400, height: 520 };

/**
 * The default auction scene, laid out for a `width` x `height` canvas: the studio background,
 * the host character (layer `host`) at the left, and the bid overlay (layer `overlay`, "Current
 * Bid: 1.5 ETH", Arial 24 white) at the top right on a dark box so it reads over any background.
 */
export function auctionScene(width: number, height: number): LayerCreate[] {
  const hostScale = Math.round(((height * 0.85) / HOST_SIZE.height) * 100) / 100;
  return [
    {
      id: 'background',
      name: 'Studio background',
      zIndex: 0,
      transform: { x: 0, y: 0, width, height },
      content: { type: 'image', src: 'assets/backgrounds/studio.png' },
    },
    {
      id: 'host',
      name: 'Auction host',
      zIndex: 10,
      transform: { x: Math.round(width * 0.06), y: Math.round(height - HOST_SIZE.height * hostScale), scale: hostScale },
      content: {
        type: 'character',
        modelUrl: 'assets/characters/auctioneer.png',
        animations: { idle: 'idle-animation', talking: 'talking-animation' },
        animation: 'talking',
      },
    },
    {
      id: 'overlay',
      name: 'Current bid',
      zIndex: 20,
      transform: { x: Math.round(width * 0.55), y: Math.round(height * 0.08) },
      content: {
        type: 'text',
        content: 'Current Bid: 1.5 ETH',
        style: { font: 'Arial', fontSize: 24, color: '#ffffff', background: 'rgba(0,0,0,0.6)' },
      },
    },
  ];
}
