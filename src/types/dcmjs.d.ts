/** The small part of dcmjs that nodus uses (dcmjs ships no type declarations). */
declare module 'dcmjs' {
  interface DicomDict {
    meta: Record<string, { vr: string; Value?: unknown[] }>;
    dict: Record<string, { vr: string; Value?: unknown[] }>;
  }
  interface ReadOptions {
    ignoreErrors?: boolean;
    untilTag?: string;
    includeUntilTagValue?: boolean;
  }
  const dcmjs: {
    data: {
      DicomMessage: { readFile(buffer: ArrayBuffer, options?: ReadOptions): DicomDict };
      DicomMetaDictionary: {
        naturalizeDataset(dataset: DicomDict['dict']): Record<string, unknown>;
      };
    };
    log: { setLevel(level: string): void; level?: unknown };
  };
  export default dcmjs;
}
