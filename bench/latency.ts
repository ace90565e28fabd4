/**
 * `npm run bench:latency`: how long a change takes to show. Without arguments, to the composited
 * frame and the WebSocket preview (bench/latency-compose.ts); with `glass`
 * (`npm run bench:latency -- glass`), to the picture a player decodes from RTMP, HLS and WHEP,
 * at `normal` and `low` encoder latency (bench/latency-glass.ts); with `quality`, what `low`
 * costs in PSNR and SSIM on the bench scenes (bench/latency-quality.ts); with `viewers`, 20 WHEP
 * viewers of a 720p30 program for 60 s (bench/latency-viewers.ts).
 */
const modes: Record<string, string> = { glass: './latency-glass.js', quality: './latency-quality.js', viewers: './latency-viewers.js' };
const mode = process.argv.slice(2).find((a) => a in modes);
await import(mode ? modes[mode]! : './latency-compose.js');
export {};
