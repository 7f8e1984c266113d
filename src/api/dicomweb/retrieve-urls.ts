/**
 * The DICOMweb URLs of studies, series, instances and their parts under `baseUrl` (the public origin nodus
 * is reached at, e.g. `https://pacs.example.org/nodus`, no trailing slash). UIDs need no escaping.
 */
export function dicomwebUrls(baseUrl: string) {
  const root = `${baseUrl}/dicomweb`;
  const study = (study: string) => `${root}/studies/${study}`;
  const series = (studyUid: string, seriesUid: string) => `${study(studyUid)}/series/${seriesUid}`;
  const instance = (studyUid: string, seriesUid: string, sopUid: string) =>
    `${series(studyUid, seriesUid)}/instances/${sopUid}`;
  return {
    root,
    study,
    series,
    instance,
    bulkdata: (studyUid: string, seriesUid: string, sopUid: string, tag: string) =>
      `${instance(studyUid, seriesUid, sopUid)}/bulkdata/${tag}`,
  };
}

/** The public base URL of a request: NODUS_PUBLIC_URL when configured (behind a proxy), else its origin. */
export function publicBaseUrl(requestUrl: string, configured: string | undefined): string {
  return configured ? configured.replace(/\/+$/, '') : new URL(requestUrl).origin;
}
