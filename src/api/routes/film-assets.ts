import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { browserBundle } from './browser-bundle.js';

const here = path.dirname(fileURLToPath(import.meta.url));
/** The digital film's browser code: src/web/film (also from dist/, which mirrors src/). */
const FILM_ENTRY = path.resolve(here, '..', '..', '..', 'src', 'web', 'film', 'main.ts');

/** The patient's digital film page's JavaScript (served at /film/app.js): plain DOM and canvas. */
export function filmBundle(): Promise<string> {
  return browserBundle(FILM_ENTRY);
}
