/** DICOM UIDs: digits and at least two dots (not a model version, which nodus writes as `id@1.2.0`). */
const DICOM_UID = /(?<![\w.@])\d+(?:\.\d+){2,}(?![\w.])/g;
/** Blob store keys (instances/, volumes/, masks/, snapshots/, conflicts/...): they name UIDs and content. */
const BLOB_KEY = /(?<![\w/])(?:instances|volumes|masks|snapshots|conflicts)\/\S+/g;
/** Absolute file system paths (blob store, export folder, data directory). */
const FILE_PATH = /(?<![\w./])\/[^\s'"(),;:]+/g;

/**
 * A message for callers who may not see internal references (researchers): DICOM UIDs, blob keys and file
 * system paths in it replaced by `<uid>`, `<blob>` and `<path>`. For texts nodus did not write itself (a
 * failed snapshot's or export's reason), which may quote a blob key or a file.
 */
export function withoutInternalReferences(text: string): string {
  return text.replace(BLOB_KEY, '<blob>').replace(FILE_PATH, '<path>').replace(DICOM_UID, '<uid>');
}
