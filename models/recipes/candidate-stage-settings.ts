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

/**
 * The small-nodule candidate search (nodus-detector-2 since 2.4.0, its candidates scored by
 * nodus-small-nodule-cnn): every blob maximum of radius under 4 mm (nodules under about 8 mm) that the main
 * search keeps, plus the 1 000 most blob-like of those that its cap drops, at the heatmap's own minimum
 * response.
 */
export const SMALL_CANDIDATES = { maxRadiusMm: 4, minResponse: 0.08, maxCandidates: 1000 };

/** The small-nodule classifier's patches: a 12 mm cube of the source voxels at 0.75 mm, then 24 and 48 mm of the grid. */
export const SMALL_PATCH_LAYOUT = { size: 16, scales: [1, 2], fineSpacingMm: 0.75 };
