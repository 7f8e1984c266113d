// The candidate stage of nodus-detector-2: the dataset recipe trains on exactly the candidates the
// detector's manifest entry (written by evaluate-patch-detector.ts) will score.
export const CANDIDATE_CAP = {
  /** Most small candidates (radius under keepAllFromRadiusMm) scored per scan, highest response first. */
  maxCandidates: 1500,
  /** Blob candidates of this radius (mm) or more are all scored: about 400 per scan, nodules of >= 5 mm. */
  keepAllFromRadiusMm: 2.5,
};

/**
 * The sub-solid candidate search (nodus-detector-2 since 2.2.0, its candidates scored by nodus-sub-solid-cnn;
 * see its model card): ground-glass and part-solid candidates, maxima of the heatmap on the grid clipped at
 * -550 HU.
 */
export const SUB_SOLID_CANDIDATES = { clipHu: -550, minResponse: 0.06, minRadiusMm: 2.5 };
