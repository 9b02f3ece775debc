// Bundles the studio into dist/ (not committed): dist/studio.js and dist/studio.css from src/,
// dmn-js's fonts beside them, and Swagger UI's and ReDoc's files in dist/docs/ so that /docs
// and /redoc need no network; each text file also gzipped (file.gz). Run by `npm run build`
// (the Makefile's studio stamp).
import { build } from 'esbuild';
import { copyFileSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { gzipSync } from 'node:zlib';

const out = 'dist';
rmSync(out, { recursive: true, force: true });
mkdirSync(`${out}/docs`, { recursive: true });

await build({
  entryPoints: { studio: 'src/main.js', 'studio-style': 'src/studio.css' },
  bundle: true,
  minify: true,
  format: 'esm',
  target: ['es2020'],
  outdir: out,
  loader: { '.woff': 'file', '.woff2': 'file', '.ttf': 'file', '.eot': 'file', '.svg': 'file' },
  assetNames: 'assets/[name]-[hash]',
  legalComments: 'none',
  logLevel: 'warning',
});

const docs = [
  ['node_modules/swagger-ui-dist/swagger-ui-bundle.js', 'swagger-ui-bundle.js'],
  ['node_modules/swagger-ui-dist/swagger-ui.css', 'swagger-ui.css'],
  ['node_modules/swagger-ui-dist/favicon-32x32.png', 'favicon-32x32.png'],
];
for (const [from, to] of docs) copyFileSync(from, `${out}/docs/${to}`);
// ReDoc's sidebar credit fetches its logo from cdn.redoc.ly: point it at a local file instead,
// so /redoc fetches nothing from outside.
const CDN_LOGO = 'https://cdn.redoc.ly/redoc/logo-mini.svg';
const redoc = readFileSync('node_modules/redoc/bundles/redoc.standalone.js', 'utf8');
if (!redoc.includes(CDN_LOGO)) console.warn('redoc no longer names its CDN logo: check /redoc offline');
writeFileSync(`${out}/docs/redoc.standalone.js`, redoc.split(CDN_LOGO).join('/studio/assets/docs/redoc-logo-mini.svg'));
writeFileSync(`${out}/docs/redoc-logo-mini.svg`, '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 16 16">'
  + '<rect width="16" height="16" rx="3" fill="#8c1d40"/><text x="8" y="12" font-size="10" text-anchor="middle" '
  + 'fill="#fff" font-family="sans-serif">R</text></svg>');

// A gzipped copy beside each text asset (scripts, styles, SVG, the older font formats), which
// the service sends with Content-Encoding: gzip to a browser that accepts it (api/studio.py):
// compressed once here, at the highest level, rather than on every request.
const TEXT = /\.(js|css|svg|json|ttf|eot)$/;
for (const entry of readdirSync(out, { recursive: true })) {
  const file = `${out}/${entry}`;
  if (!TEXT.test(file) || !statSync(file).isFile()) continue;
  const raw = readFileSync(file);
  const gzipped = gzipSync(raw, { level: 9 });
  if (gzipped.length < raw.length) writeFileSync(`${file}.gz`, gzipped);
}

const sizes = Object.fromEntries(['studio.js', 'studio-style.css'].map((f) => [f,
  { raw: statSync(`${out}/${f}`).size, gzipped: statSync(`${out}/${f}.gz`).size }]));
writeFileSync(`${out}/build-info.json`, JSON.stringify({ built: new Date().toISOString(), sizes }, null, 2));
console.log('studio built:', sizes);
