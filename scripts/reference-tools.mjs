// The real peers the tests run against, and the Debian packages that provide them. Used by bootstrap.mjs
// (`npm test` and .ci/run install them); node built-ins only.
import fs from 'node:fs';
import path from 'node:path';

/** What the tests run, by the file that must exist (a command on PATH or an absolute path), and its package. */
export const REFERENCE_TOOLS = [
  { need: 'dcm2niix', package: 'dcm2niix', why: 'voxel-exact reconstruction checks' },
  { need: 'storescu', package: 'dcmtk', why: 'C-STORE, C-ECHO and re-encoding peers' },
  { need: 'dcmconv', package: 'dcmtk', why: 're-encodings for the content digest' },
  { need: 'dciodvfy', package: 'dicom3tools', why: 'validation of the SR and SEG' },
  { need: '/usr/sbin/Orthanc', package: 'orthanc', why: 'a PACS sending by STOW-RS and C-STORE' },
  {
    need: '/usr/share/orthanc/plugins/libOrthancDicomWeb.so',
    package: 'orthanc-dicomweb',
    why: "Orthanc's DICOMweb client",
  },
  {
    need: '/usr/bin/chromium',
    package: 'chromium',
    why: 'browser tests (OHIF, dicomweb-client) with playwright-core',
  },
  { need: 'zbarimg', package: 'zbar-tools', why: "a real QR reader for the patient film's QR codes" },
];

/** Whether `need` is there: an absolute path that exists, or a command found on PATH. */
export function isPresent(need, env = process.env) {
  if (path.isAbsolute(need)) return fs.existsSync(need);
  return (env.PATH ?? '')
    .split(path.delimiter)
    .filter(Boolean)
    .some((dir) => {
      try {
        fs.accessSync(path.join(dir, need), fs.constants.X_OK);
        return true;
      } catch {
        return false;
      }
    });
}

/** The Debian packages of the tools that are missing, each once. */
export function missingPackages(env = process.env) {
  return [
    ...new Set(REFERENCE_TOOLS.filter((tool) => !isPresent(tool.need, env)).map((tool) => tool.package)),
  ];
}
