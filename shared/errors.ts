/**
 * One registry of every error the server returns: a stable code, an HTTP status and a default
 * message. Handlers throw {@link AppError}s built from these entries; the HTTP layer turns them
 * into `{ error: { code, message, details? } }` with the entry's status.
 *
 * Codes are part of the API contract: never rename one, add a new entry instead.
 */
export const ERRORS = {
  SM_ERR_VALIDATION: { status: 400, message: 'The request is invalid' },
  SM_ERR_INVALID_JSON: { status: 400, message: 'The request body is not valid JSON' },
  SM_ERR_UNAUTHORIZED: { status: 401, message: 'A valid token is required: Authorization: Bearer <token>' },
  SM_ERR_FORBIDDEN: { status: 403, message: "This token's role may not do this" },
  SM_ERR_ORIGIN_FORBIDDEN: { status: 403, message: 'This Origin is not in CORS_ORIGINS' },
  SM_ERR_RATE_LIMITED: { status: 429, message: 'Too many requests; retry after the delay in Retry-After' },
  SM_ERR_NOT_FOUND: { status: 404, message: 'No such route' },
  SM_ERR_LAYER_NOT_FOUND: { status: 404, message: 'No layer has this id' },
  SM_ERR_ASSET_NOT_FOUND: { status: 400, message: 'The layer refers to an asset that does not exist' },
  SM_ERR_INVALID_ASSET_ID: { status: 400, message: 'An asset id is 64 lowercase hex characters (the SHA-256 of its bytes)' },
  SM_ERR_ASSET_UNKNOWN: { status: 404, message: 'No asset has this id' },
  SM_ERR_ASSET_IN_USE: { status: 409, message: 'Layers still use this asset' },
  SM_ERR_BODY_TOO_LARGE: { status: 413, message: 'The JSON body is larger than 1 MB' },
  SM_ERR_UPLOAD_TOO_LARGE: { status: 413, message: 'The upload is larger than MAX_UPLOAD_SIZE (MAX_VIDEO_UPLOAD_SIZE for a video)' },
  SM_ERR_UNSUPPORTED_TYPE: {
    status: 415,
    message: 'Only PNG, JPEG, WebP and GIF images, TTF, OTF and WOFF2 fonts and MP4, MOV, MKV and WebM videos are accepted',
  },
  SM_ERR_UNDECODABLE: { status: 422, message: 'The file could not be decoded' },
  SM_ERR_LAYER_EXISTS: { status: 409, message: 'A layer with this id already exists' },
  SM_ERR_PRECONDITION_FAILED: { status: 412, message: 'The resource changed since the version in If-Match' },
  SM_ERR_SCENE_NOT_FOUND: { status: 404, message: 'No scene has this name' },
  SM_ERR_OUTPUT_NOT_FOUND: { status: 404, message: 'No output has this id' },
  SM_ERR_OUTPUT_EXISTS: { status: 409, message: 'An output with this id already exists' },
  SM_ERR_STREAM_LIVE: { status: 409, message: 'The stream is already live' },
  SM_ERR_STREAM_NOT_LIVE: { status: 409, message: 'The stream is not live' },
  SM_ERR_STREAM_PAUSED: { status: 409, message: 'The stream is already paused' },
  SM_ERR_STREAM_NOT_PAUSED: { status: 409, message: 'The stream is not paused' },
  SM_ERR_NO_FRAME: { status: 503, message: 'No frame has been composited yet' },
  SM_ERR_ENCODER: { status: 502, message: 'The encoder failed' },
  SM_ERR_RENDER: { status: 500, message: 'A layer failed to render' },
  SM_ERR_CONFIG: { status: 500, message: 'The configuration is invalid' },
  SM_ERR_LIMIT_REACHED: { status: 409, message: 'This would go past one of the limits in docs/api.md#limits (e.g. 1000 layers per scene)' },
  SM_ERR_STORE_UNAVAILABLE: { status: 503, message: 'The state store cannot be written right now; retry when /health shows the store ok' },
  SM_ERR_HOST_FORBIDDEN: { status: 403, message: 'This Host is not one this server answers to: a loopback name or one in ALLOWED_HOSTS' },
  SM_ERR_TOO_MANY_CONNECTIONS: {
    status: 429,
    message: 'Too many WebSocket connections from this address or token (WS_MAX_PER_IP, WS_MAX_PER_TOKEN)',
  },
  SM_ERR_PORT_UNAVAILABLE: { status: 500, message: 'A port the configuration names cannot be bound' },
  SM_ERR_OUTPUT_URL: { status: 400, message: 'File outputs are written under RECORDINGS_DIR or an OUTPUT_DIRS folder only' },
  SM_ERR_DIR_NOT_WRITABLE: {
    status: 500,
    message: 'A folder the configuration names (DATA_DIR, RECORDINGS_DIR, ASSET_STORAGE_PATH) cannot be written',
  },
  SM_ERR_METHOD_NOT_ALLOWED: { status: 405, message: 'This route does not answer this method; the Allow header lists those it does' },
  SM_ERR_NOT_IMPLEMENTED: { status: 501, message: 'This server does not implement this HTTP method' },
  SM_ERR_RENDER_QUEUE_FULL: { status: 503, message: 'The render queue is full; the frame was dropped' },
  SM_ERR_WORKER_TIMEOUT: { status: 500, message: 'Work in a render worker ran past RENDER_TIMEOUT_MS; the worker was replaced' },
  SM_ERR_WORKER_EXIT: { status: 500, message: 'A render worker exited in the middle of its work; it was replaced' },
  SM_ERR_BAND_FAILED: { status: 500, message: 'A composite band failed in its worker' },
  SM_ERR_RING_BUFFER_UNKNOWN: { status: 500, message: 'A job named a buffer its worker was never told about' },
  SM_ERR_JOB_TOO_LARGE: { status: 500, message: 'A task does not fit a job slot of the worker ring' },
  SM_ERR_POOL_CLOSED: { status: 503, message: 'The render pool is closed' },
  SM_ERR_LAYER_MEMORY: { status: 500, message: 'A layer needs a bigger pixel buffer than a layer (or the scene) may have' },
  SM_ERR_ENV_FILE: { status: 500, message: 'The env file (ENV_FILE) cannot be read or parsed' },
  SM_ERR_NO_WORKER: { status: 503, message: 'No render worker has started' },
  SM_ERR_VIDEO_LIMIT: {
    status: 422,
    message: 'The video is larger than MAX_VIDEO_PIXELS (width x height) or longer than MAX_VIDEO_DURATION_S',
  },
  SM_ERR_WHEP_NOT_SDP: {
    status: 400,
    message: 'The body must be an SDP offer (Content-Type: application/sdp) with ICE credentials and a DTLS fingerprint',
  },
  SM_ERR_WHEP_CODEC: {
    status: 400,
    message: 'The offer has no video section that receives H.264 (packetization-mode=1), the only codec this server sends',
  },
  SM_ERR_WHEP_FULL: { status: 503, message: 'WEBRTC_MAX_VIEWERS viewers are watching already; retry later' },
  SM_ERR_WHEP_NO_SESSION: { status: 404, message: 'No WHEP session has this id on this output' },
  SM_ERR_WHEP_OUTPUT_STOPPED: { status: 409, message: 'This webrtc output is stopped (enabled: false): start it to watch' },
  SM_ERR_SOURCE_NOT_ALLOWED: { status: 403, message: 'The live source names a host that VIDEO_LIVE_HOSTS does not allow' },
  SM_ERR_TAKE_IN_PROGRESS: { status: 409, message: 'A transition of the program is in progress; take again once it has ended' },
  SM_ERR_PREVIEW_EMPTY: { status: 409, message: 'The preview scene has no layers; nothing to take' },
  SM_ERR_CHAT_NOT_FOUND: { status: 404, message: 'No kept chat message has this id' },
  SM_ERR_INTERNAL: { status: 500, message: 'Internal server error' },
} as const satisfies Record<string, { status: number; message: string }>;

/** A stable error code, e.g. `SM_ERR_LAYER_NOT_FOUND`. */
export type ErrorCode = keyof typeof ERRORS;

/**
 * The error type thrown everywhere in Stream Manager.
 *
 * @param code    entry of {@link ERRORS}; decides `status` and the default message
 * @param message overrides the default message (say what was wrong and what was expected)
 * @param details optional JSON-serialisable detail, e.g. the list of failing fields
 */
export class AppError extends Error {
  readonly code: ErrorCode;
  readonly status: number;
  readonly details: unknown;

  constructor(code: ErrorCode, message?: string, details?: unknown, options?: { cause?: unknown }) {
    super(message ?? ERRORS[code].message, options);
    this.name = 'AppError';
    this.code = code;
    this.status = ERRORS[code].status;
    this.details = details;
  }

  /** The wire body of this error: `{ error: { code, message, details? } }`. */
  toJSON(): { error: { code: ErrorCode; message: string; details?: unknown } } {
    return {
      error: {
        code: this.code,
        message: this.message,
        ...(this.details === undefined ? {} : { details: this.details }),
      },
    };
  }
}
