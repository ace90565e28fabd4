/** An uploaded asset's id: the SHA-256 of its bytes, 64 lowercase hex characters. */
export const ASSET_ID = /^[a-f0-9]{64}$/;

/** True when `ref` names an uploaded asset (rather than a file under `assets/`). */
export function isAssetId(ref: string): boolean {
  return ASSET_ID.test(ref);
}
