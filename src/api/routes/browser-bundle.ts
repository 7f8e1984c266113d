import type { BuildOptions } from 'esbuild';

const bundles = new Map<string, Promise<string>>();

/**
 * One browser script bundled by esbuild from the installed packages (nothing is fetched from elsewhere):
 * minified ES2022 modules, built once per process per entry; a failed build is tried again on the next call.
 * `extra`: plugins and defines of that bundle.
 */
export function browserBundle(
  entry: string,
  extra: Pick<BuildOptions, 'plugins' | 'define'> = {},
): Promise<string> {
  let bundle = bundles.get(entry);
  if (!bundle) {
    bundle = (async () => {
      const esbuild = await import('esbuild');
      const result = await esbuild.build({
        entryPoints: [entry],
        bundle: true,
        format: 'esm',
        platform: 'browser',
        target: 'es2022',
        minify: true,
        write: false,
        logLevel: 'silent',
        ...extra,
      });
      return result.outputFiles[0]!.text;
    })();
    bundle.catch(() => bundles.delete(entry));
    bundles.set(entry, bundle);
  }
  return bundle;
}
