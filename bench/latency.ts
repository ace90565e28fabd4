/**
 * `npm run bench:latency`: how long a change takes to show. Without arguments, to the composited
 * frame and the WebSocket preview (bench/latency-compose.ts); with `glass`
 * (`npm run bench:latency -- glass`), to the picture a player decodes from RTMP, HLS and WHEP,
 * at `normal` and `low` encoder latency (bench/latency-glass.ts).
 */
await import(process.argv.slice(2).includes('glass') ? './latency-glass.js' : './latency-compose.js');
export {};
