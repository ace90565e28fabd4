import { z } from 'zod';

/**
 * Query strings the HTTP routes read (a query's values are strings: numbers are coerced), parsed
 * with these schemas by the routes and described by the OpenAPI document from the same schemas.
 */

/** `GET /stream/snapshot?width=`: downscale to this many pixels wide (16-7680). */
export const SnapshotQuerySchema = z.strictObject({ width: z.coerce.number().int().min(16).max(7680).optional() });

/** `DELETE /stream/assets/:id?force=true`: delete even while layers or saved scenes use it (any other value: not forced). */
export const AssetDeleteQuerySchema = z.object({ force: z.enum(['true', 'false']).optional() });
