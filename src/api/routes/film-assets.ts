import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
/** The digital film's browser code: src/web/film (also from dist/, which mirrors src/). */
const FILM_ENTRY = path.resolve(here, '..', '..', '..', 'src', 'web', 'film', 'main.ts');

let bundle: Promise<string> | undefined;

/**
 * The patient's digital film page's JavaScript (served at /film/app.js), built once per process by esbuild
 * from src/web/film: plain DOM and canvas, no package from elsewhere.
 */
export function filmBundle(): Promise<string> {
  if (!bundle) {
    const building = (async () => {
      const esbuild = await import('esbuild');
      const result = await esbuild.build({
        entryPoints: [FILM_ENTRY],
        bundle: true,
        format: 'esm',
        platform: 'browser',
        target: 'es2022',
        minify: true,
        write: false,
        logLevel: 'silent',
      });
      return result.outputFiles[0]!.text;
    })();
    building.catch(() => {
      if (bundle === building) bundle = undefined;
    });
    bundle = building;
  }
  return bundle;
}
