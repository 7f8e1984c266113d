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

/**
 * The public base URL of a request: NODUS_PUBLIC_URL when configured (behind a proxy), else the origin the
 * request reached, with `X-Forwarded-Proto` / `X-Forwarded-Host` honoured only when `trustForwarded`.
 */
export function publicBaseUrl(
  requestUrl: string,
  headers: { get(name: string): string | null | undefined },
  configured: string | undefined,
  trustForwarded = false,
): string {
  if (configured) return configured.replace(/\/+$/, '');
  const url = new URL(requestUrl);
  if (trustForwarded) {
    const proto = headers.get('x-forwarded-proto')?.split(',')[0]?.trim();
    const host = headers.get('x-forwarded-host')?.split(',')[0]?.trim();
    if (proto === 'http' || proto === 'https') url.protocol = `${proto}:`;
    if (host && /^[A-Za-z0-9.\-:[\]]+$/.test(host)) url.host = host;
  }
  return url.origin;
}
