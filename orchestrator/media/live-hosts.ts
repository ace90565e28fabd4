import { AppError } from '../../shared/errors.js';
import { isLiveSrc } from '../../shared/media.js';
import type { Layer } from '../../shared/scene.js';

/** The port a live URL's scheme connects to when the URL names none (RFC 3986 default ports, ffmpeg's defaults for rtmp/srt/rtsp). */
const DEFAULT_PORTS: Record<string, string> = {
  'rtmp:': '1935',
  'rtmps:': '443',
  'rtsp:': '554',
  'http:': '80',
  'https:': '443',
  'srt:': '',
};

/**
 * Whether live URL `src` may be read under allow-list `hosts` (`VIDEO_LIVE_HOSTS`, entries as
 * shared/media.ts `LIVE_HOST_PATTERN`). An empty list allows every host (the default: a server whose
 * operators may read any feed). Without a port an entry allows every port of its host.
 * @returns true when allowed; false for a URL that does not parse
 */
export function liveHostAllowed(src: string, hosts: readonly string[]): boolean {
  if (hosts.length === 0) return true;
  let url: URL;
  try {
    url = new URL(src);
  } catch {
    return false;
  }
  const host = url.hostname.toLowerCase();
  const port = url.port || DEFAULT_PORTS[url.protocol] || '';
  return hosts.some((entry) => {
    const e = entry.toLowerCase();
    const colon = e.lastIndexOf(':');
    const [name, want] = colon > e.lastIndexOf(']') ? [e.slice(0, colon), e.slice(colon + 1)] : [e, null];
    if (want !== null && want !== port) return false;
    return name.startsWith('*.') ? host.endsWith(name.slice(1)) && host.length > name.length - 1 : host === name;
  });
}

/**
 * A scene-store check: a video layer's live `src` must name a host `VIDEO_LIVE_HOSTS` allows (a
 * URL already stored, unchanged since, passes: such layers stay editable, and their source
 * reports the refusal instead). Without the setting every host is allowed.
 * @throws AppError SM_ERR_SOURCE_NOT_ALLOWED (403)
 */
export function liveHostCheck(hosts: readonly string[]): (layer: Layer, previous?: Layer) => void {
  return (layer, previous) => {
    const c = layer.content;
    // Video and audio layers' feeds alike (an audio layer's src follows a video layer's rules).
    if ((c.type !== 'video' && c.type !== 'audio') || !isLiveSrc(c.src) || liveHostAllowed(c.src, hosts)) return;
    if (previous?.content.type === c.type && previous.content.src === c.src) return;
    throw new AppError('SM_ERR_SOURCE_NOT_ALLOWED', 'The live source names a host that VIDEO_LIVE_HOSTS does not allow', [
      { path: 'content.src', message: `Allowed hosts: ${hosts.join(', ')}` },
    ]);
  };
}
