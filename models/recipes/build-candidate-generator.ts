// Recipe: writes the nodus candidate generator (a multi-scale blob filter as an ONNX graph, see
// candidate-generator-graph.ts) to models/ and registers it, with a detector that uses it alone.
//
//   node --import tsx models/recipes/build-candidate-generator.ts
//
// No training: the graph is fixed maths (Gaussian scale space, scale-normalised Laplacian, best scale).
// Deterministic: the same source gives the same bytes (a unit test checks the sha256 in the manifest).
import {
  buildCandidateGeneratorGraph,
  candidateGeneratorHaloVoxels,
  DEFAULT_CANDIDATE_SIGMAS_MM,
} from './candidate-generator-graph.js';
import { updateManifest, writeModelFile } from './manifest-file.js';

export const CANDIDATE_GENERATOR = {
  id: 'nodus-candidates',
  version: '1.0.0',
  spacingMm: 1.5,
  huWindow: [-1000, 400] as [number, number],
  /** Local maxima below this response (normalised contrast) are not candidates. */
  minResponse: 0.08,
};

export function candidateGeneratorBytes(): Uint8Array {
  return buildCandidateGeneratorGraph({
    spacingMm: CANDIDATE_GENERATOR.spacingMm,
    sigmasMm: DEFAULT_CANDIDATE_SIGMAS_MM,
  });
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const { id, version, spacingMm, huWindow, minResponse } = CANDIDATE_GENERATOR;
  const file = `${id}-${version}.onnx`;
  const sha256 = writeModelFile(file, candidateGeneratorBytes());
  updateManifest({
    models: [
      {
        id,
        version,
        task: 'nodule-heatmap',
        file,
        sha256,
        description:
          'Multi-scale blob filter (scale-normalised Laplacian of Gaussian by differences of Gaussians, ' +
          `sigma ${DEFAULT_CANDIDATE_SIGMAS_MM[0]}-${DEFAULT_CANDIDATE_SIGMAS_MM.at(-1)} mm): response and radius per voxel`,
        card: 'cards/nodus-detector.md',
        recipe: 'node --import tsx models/recipes/build-candidate-generator.ts',
        contract: {
          inputName: 'volume',
          spacingMm,
          huWindow,
          haloVoxels: candidateGeneratorHaloVoxels({ spacingMm, sigmasMm: DEFAULT_CANDIDATE_SIGMAS_MM }),
          responseOutput: 'response',
          radiusOutput: 'radiusMm',
          minResponse,
        },
      },
    ],
    detectors: [
      {
        id: 'nodus-candidates-only',
        version,
        heatmap: `${id}@${version}`,
        threshold: 0.3,
        maxCandidates: 2000,
        maxFindings: 10,
      },
    ],
    defaultDetector: 'nodus-candidates-only',
  });
  console.log(`wrote models/${file} (sha256 ${sha256})`);
}
