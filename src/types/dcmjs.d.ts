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
  // eslint-disable-next-line @typescript-eslint/no-unused-vars -- used through `typeof`
  class WritableDicomDict implements DicomDict {
    constructor(meta: DicomDict['meta']);
    meta: DicomDict['meta'];
    dict: DicomDict['dict'];
    write(): ArrayBuffer;
  }
  const dcmjs: {
    data: {
      DicomMessage: { readFile(buffer: ArrayBuffer, options?: ReadOptions): DicomDict };
      DicomDict: typeof WritableDicomDict;
      DicomMetaDictionary: {
        naturalizeDataset(dataset: DicomDict['dict']): Record<string, unknown>;
        denaturalizeDataset(dataset: Record<string, unknown>): DicomDict['dict'];
        /** Keyword -> dictionary entry; `tag` as "(gggg,eeee)". */
        nameMap: Record<string, { tag: string; vr: string; name: string } | undefined>;
        /** "(gggg,eeee)" -> dictionary entry. */
        dictionary: Record<string, { tag: string; vr: string; name: string } | undefined>;
      };
    };
    log: {
      setLevel(level: string): void;
      level?: unknown;
      /** loglevel child loggers, e.g. 'validation.dcmjs'. */
      getLogger(name: string): { setLevel(level: string): void };
    };
  };
  export default dcmjs;
}
