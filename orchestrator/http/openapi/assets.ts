import { z } from 'zod';
import { AssetDeleteQuerySchema } from '../../../shared/queries.js';
import { AssetDeletedSchema, AssetListSchema } from '../../../shared/responses.js';
import { AssetMetaSchema } from '../../../shared/state-doc.js';
import type { RouteGroup } from './route-doc.js';

/** An asset id: the SHA-256 of its bytes (64 lowercase hex characters). */
const AssetParams = z.object({ id: z.string().regex(/^[0-9a-f]{64}$/) });

/** The routes of http/asset-routes.ts: uploads and their files. */
export const assetsGroup: RouteGroup = {
  tag: 'assets',
  description: 'Uploaded images, fonts and videos, named by the SHA-256 of their bytes',
  routes: [
    {
      method: 'post',
      path: '/stream/assets/upload',
      operationId: 'uploadAsset',
      summary: 'Upload one file (multipart/form-data, any field name)',
      description:
        'The type is decided by its bytes: PNG, JPEG, WebP, GIF (first frame), TTF, OTF, WOFF2 (SVG only with `ALLOW_SVG`), MP4, MOV, MKV, WebM (see docs/video-uploads.md). 201 for a new asset, 200 when the same bytes were uploaded before. A `Content-Length` over the size limit is refused before the body is read.',
      body: {
        description: 'One file',
        media: { 'multipart/form-data': z.object({ file: z.string().meta({ format: 'binary' }) }) },
      },
      ok: AssetMetaSchema,
      status: 201,
      others: { 200: { description: 'The same bytes were uploaded before: that asset', schema: AssetMetaSchema } },
      errors: ['SM_ERR_UPLOAD_TOO_LARGE', 'SM_ERR_UNSUPPORTED_TYPE', 'SM_ERR_UNDECODABLE', 'SM_ERR_VIDEO_LIMIT'],
    },
    {
      method: 'get',
      path: '/stream/assets',
      operationId: 'listAssets',
      summary: "Every uploaded asset's metadata",
      ok: AssetListSchema,
    },
    {
      method: 'get',
      path: '/stream/assets/{id}',
      operationId: 'getAsset',
      summary: "One asset's metadata",
      params: AssetParams,
      ok: AssetMetaSchema,
      errors: ['SM_ERR_INVALID_ASSET_ID', 'SM_ERR_ASSET_UNKNOWN'],
    },
    {
      method: 'get',
      path: '/stream/assets/{id}/content',
      operationId: 'getAssetContent',
      summary: 'The asset\'s bytes (`ETag: "<id>"`, immutable)',
      params: AssetParams,
      ok: { media: { 'image/*': 'binary', 'font/*': 'binary' } },
      others: { 304: { description: "`If-None-Match` named this asset: the client's copy is current" } },
      errors: ['SM_ERR_INVALID_ASSET_ID', 'SM_ERR_ASSET_UNKNOWN'],
    },
    {
      method: 'get',
      path: '/stream/assets/{id}/poster',
      operationId: 'getAssetPoster',
      summary: 'A video asset\'s poster frame (JPEG, `ETag: "<id>-poster"`, immutable)',
      params: AssetParams,
      ok: { media: { 'image/jpeg': 'binary' } },
      others: { 304: { description: "`If-None-Match` named this poster: the client's copy is current" } },
      errors: ['SM_ERR_INVALID_ASSET_ID', 'SM_ERR_ASSET_UNKNOWN', 'SM_ERR_NOT_FOUND'],
    },
    {
      method: 'delete',
      path: '/stream/assets/{id}',
      operationId: 'deleteAsset',
      summary: 'Delete an asset (admin); in use: 409 unless `?force=true`',
      description:
        '409 with `details.layers` (live layer ids) and `details.scenes` while layers or saved scenes use it. `?force=true` hides those live layers and takes the layers out of the saved scenes.',
      params: AssetParams,
      query: AssetDeleteQuerySchema,
      ok: AssetDeletedSchema,
      errors: ['SM_ERR_INVALID_ASSET_ID', 'SM_ERR_ASSET_UNKNOWN', 'SM_ERR_ASSET_IN_USE'],
    },
  ],
};
